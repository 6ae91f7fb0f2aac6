import type { Knex } from '@hub/shared/db';
import { forbidden, notFound } from '@hub/shared/errors';
import { consentPurposes, isLoincSystem, LOINC_SYSTEM, type CatalogItemFact, type RecognitionFacts } from '@hub/shared/recognition';
import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/**
 * What a clinician's system sends at order time: the patient (its own MRN, or the resident ID
 * number), what is about to be ordered (a catalog item, a code — LOINC, a procedure code or the
 * organization's own — or a modality and body part), who asks and why.
 */
export const checkSchema = z
  .strictObject({
    patient: z.union([z.strictObject({ mrn: text(64) }), z.strictObject({ nationalId: text(32) })], { error: 'is { "mrn": … } or { "nationalId": … }' }),
    item: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be a catalog item code').optional(),
    code: z.strictObject({ system: text(200).optional(), code: text(64) }).optional(),
    modality: z.string().trim().regex(/^[A-Za-z0-9]{1,16}$/, 'must be a DICOM modality').optional(),
    bodyPart: z.string().trim().regex(/^[A-Za-z0-9_ ]{1,16}$/, 'must be a DICOM Body Part Examined term').optional(),
    practitioner: text(200),
    purpose: z.enum(consentPurposes).default('treatment'),
    emergencyReason: z.string().max(500, 'must be at most 500 characters').optional(),
  })
  .superRefine((c, ctx) => {
    const named = [c.item !== undefined, c.code !== undefined, c.modality !== undefined || c.bodyPart !== undefined].filter(Boolean).length;
    if (named !== 1) ctx.addIssue({ code: 'custom', path: ['item'], message: 'name what is ordered once: item, code, or modality with bodyPart' });
    if ((c.modality === undefined) !== (c.bodyPart === undefined)) ctx.addIssue({ code: 'custom', path: [c.modality ? 'bodyPart' : 'modality'], message: 'modality and bodyPart go together' });
  });

export type CheckRequest = z.output<typeof checkSchema>;

/** What is ordered, as a catalog item of the asker's region. */
export async function orderedItem(db: Knex, facts: RecognitionFacts, asker: { organizationId: number; regionId: number }, request: CheckRequest): Promise<CatalogItemFact> {
  const region = asker.regionId;
  let item: CatalogItemFact | undefined;
  if (request.item !== undefined) {
    item = facts.itemsByCode.get(`${region}|${request.item}`);
    if (!item) throw notFound(`the catalog has no item "${request.item}"`, { location: 'item', code: 'unknown-item' });
    return item;
  }
  if (request.code) {
    const { system, code } = request.code;
    const standard = system === undefined || isLoincSystem(system) ? LOINC_SYSTEM : system;
    item = facts.itemsByStandardCode.get(`${region}|${standard}|${code}`);
    if (!item && (system === undefined || !isLoincSystem(system))) {
      // the organization's own code (organization_item_codes' primary key); too many across a province to keep in memory
      const local = await db('organization_item_codes').where({ organization_id: asker.organizationId, local_code: code }).first('item_id');
      item = local ? facts.items.get(local.item_id) : undefined;
    }
    if (!item) throw notFound(`no catalog item is known by ${system ? `${system}|` : ''}${code}`, { location: 'code', code: 'unknown-item' });
    return item;
  }
  const key = `${region}|${request.modality!.toUpperCase()}|${request.bodyPart!.toUpperCase()}`;
  item = facts.itemsByImagingKey.get(key);
  if (!item) throw notFound(`no catalog item is ${request.modality} of ${request.bodyPart}`, { location: 'bodyPart', code: 'unknown-item' });
  return item;
}

export function requirePlacedAsker(facts: RecognitionFacts, organizationId: number) {
  const org = facts.organizations.get(organizationId);
  const asker = facts.asker(organizationId);
  const region = facts.regionOf(organizationId);
  if (!org || !asker || !region) throw notFound('the hub has no region yet: seed a catalog first (the demo region does)', { code: 'no-region' });
  if (org.kind === 'authority') throw forbidden('the authority sees aggregates, never a patient: a prior-result check is made by a care provider', { code: 'not-a-care-provider' });
  return { org, asker, region };
}
