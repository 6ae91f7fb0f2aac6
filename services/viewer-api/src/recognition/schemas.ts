import { badInput } from '@hub/shared/errors';
import { z } from 'zod';
import { consentMethods, consentPurposes } from './consents';
import { isCalendarDate } from './dates';
import { qualificationBases } from './qualifications';

/** Parses a request body or query, or answers 400 naming the JSON path of the first problem. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  // an unknown field first: a misspelt name (effective_from) is usually why a required one is missing
  const issues = [...parsed.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
  const flat = issues.flatMap((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => {
      const location = jsonPath(key === undefined ? issue.path : [...issue.path, key]);
      const message =
        issue.code === 'unrecognized_keys' ? 'is not a field of this request' : issue.code === 'invalid_type' && /received undefined$/.test(issue.message) ? 'is required' : issue.message;
      return { location, message };
    });
  });
  const first = flat[0]!;
  throw badInput(flat.map((p) => `${p.location || 'body'}: ${p.message}`).join('; '), { location: first.location || undefined, code: 'invalid-request' });
}

function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
export const day = z.string().refine(isCalendarDate, 'must be a day written YYYY-MM-DD');
const instantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
const dayOrInstant = z
  .string()
  .refine((v) => isCalendarDate(v) || (instantPattern.test(v) && !Number.isNaN(Date.parse(v))), 'must be a day (YYYY-MM-DD) or a date-time with its offset (2026-05-01T08:00:00+08:00)');
export const code = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
const orgCode = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/, 'must be an organization code');
const cityCode = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/, 'must be a city code (a GB/T 2260 division code such as 420100)');
const upper = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`).transform((s) => s.toUpperCase());
const yuan = z
  .number({ error: 'must be a number of yuan' })
  .min(0, 'must not be negative')
  .max(1_000_000_000, 'is too large')
  .refine((v) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-6, 'has at most two decimals (fen)');

export const catalogChangeSchema = z.strictObject({
  effectiveFrom: day,
  kind: z.enum(['imaging', 'lab']).optional(),
  category: code.optional(),
  name: text(200),
  nameEn: text(200),
  validityDays: z.number({ error: 'must be a whole number of days' }).int('must be a whole number of days').min(1, 'must be 1..3650').max(3650, 'must be 1..3650'),
  priceCny: yuan,
  filmsPerExam: z.number().int('must be a whole number').min(0, 'must be 0..100').max(100, 'must be 0..100').nullable().optional(),
  inCatalog: z.boolean().optional(),
  note: z.string().max(1000, 'must be at most 1000 characters').nullable().optional(),
  loinc: z.array(z.string().trim()).max(200, 'at most 200 codes').optional(),
  procedureCodes: z.array(z.strictObject({ system: text(200), code: text(64) })).max(200, 'at most 200 codes').optional(),
  imaging: z.array(z.strictObject({ modality: upper(16), bodyPart: upper(16) })).max(200, 'at most 200 keys').optional(),
});

export const localCodesSchema = z.strictObject({
  organization: orgCode.optional(),
  mappings: z
    .array(z.strictObject({ localCode: text(64), item: code, localName: z.string().max(200).nullable().optional() }))
    .min(1, 'needs at least one mapping')
    .max(5000, 'at most 5000 mappings per request'),
});

export const qualificationSchema = z.strictObject({
  organization: orgCode,
  item: code.optional(),
  category: code.optional(),
  basis: z.enum(qualificationBases),
  scope: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('region'), region: orgCode.optional() }),
    z.strictObject({ kind: z.literal('city'), city: cityCode }),
    z.strictObject({ kind: z.literal('alliance'), alliance: orgCode }),
  ]),
  validFrom: day,
  validUntil: day.nullable().optional(),
  reference: z.string().max(200).nullable().optional(),
});

export const allianceSchema = z.strictObject({
  name: text(200),
  nameEn: z.string().max(200).nullable().optional(),
  members: z.array(z.strictObject({ organization: orgCode, from: day, until: day.nullable().optional() })).max(10_000),
});

export const placementSchema = z.strictObject({
  region: orgCode.optional(),
  city: cityCode.nullable().optional(),
});

export const consentSchema = z
  .strictObject({
    patient: text(64),
    scope: z.enum(['region', 'organizations']),
    organizations: z.array(orgCode).min(1, 'names at least one organization').max(1000).optional(),
    purpose: z.enum(consentPurposes).default('treatment'),
    method: z.enum(consentMethods),
    from: dayOrInstant.optional(),
    until: dayOrInstant.nullable().optional(),
    practitioner: text(200).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.scope === 'organizations' && !c.organizations) ctx.addIssue({ code: 'custom', path: ['organizations'], message: 'a consent for named organizations lists them' });
    if (c.scope === 'region' && c.organizations) ctx.addIssue({ code: 'custom', path: ['organizations'], message: 'a region-wide consent lists no organizations' });
  });

export const revokeSchema = z.strictObject({ reason: z.string().trim().max(500).optional() });

export const onQuery = z.object({ on: day.optional() });
