import type { Knex } from '@hub/shared/db';
import { badInput, forbidden, type HubError } from '@hub/shared/errors';
import { authorizationsFor, EMERGENCY_HEADER, readableBy, type ReadRequest } from '../recognition/authorizations';
import { auditOfAuthorization, type Authorization } from '../recognition/consents';
import type { FhirContext } from './types';

/**
 * Who may read what under /fhir. Every result belongs to a person and is held by one
 * organization; the asker reads its own always, another organization's with the patient's
 * consent in force, or in an emergency with a stated reason (X-Emergency-Reason), flagged.
 * What the asker may not read is left out of searches as if it did not exist: it is neither
 * returned nor counted (no Bundle.total; paging offsets count readable results only), and a
 * read of it by id is 403 `no-patient-authorization`.
 */

type AuditEntry = Parameters<FhirContext['audit']>[0][number];

/** A result as authorization sees it: whose, and held by which organization. */
export interface Held {
  personId: number;
  organizationId: number;
}

const OWN: Authorization = { allowed: true, basis: 'own-organization' };
const requests = new WeakMap<FhirContext, ReadRequest>();
const decisions = new WeakMap<FhirContext, Map<number, Authorization>>();

/** The reading side of the request: the asker, the instant, the emergency reason if stated. */
export function readRequestOf(ctx: FhirContext): ReadRequest {
  let read = requests.get(ctx);
  if (!read) {
    const emergency = ctx.emergencyReason !== undefined;
    read = { askingOrganizationId: ctx.principal.organization.id, on: ctx.readAt ?? new Date(), emergencyReason: ctx.emergencyReason, purpose: emergency ? 'emergency-treatment' : 'treatment' };
    requests.set(ctx, read);
  }
  return read;
}

/**
 * The authorization of each result, decided in one query for every person not decided yet in
 * this request (another organization's results depend only on the person).
 */
export async function authorize(ctx: FhirContext, held: readonly Held[]): Promise<(h: Held) => Authorization> {
  const read = readRequestOf(ctx);
  const known = decisions.get(ctx) ?? new Map<number, Authorization>();
  decisions.set(ctx, known);
  const missing = held.filter((h) => h.organizationId !== read.askingOrganizationId && !known.has(h.personId));
  if (missing.length > 0) {
    const answers = await authorizationsFor(ctx.db, read, missing.map((h) => ({ personId: h.personId, resultOrganizationId: h.organizationId })));
    for (const h of missing) known.set(h.personId, answers.of(h.personId, h.organizationId));
  }
  return (h) => (h.organizationId === read.askingOrganizationId ? OWN : known.get(h.personId)!);
}

/** An audit entry with how the read was authorized: emergencies flagged, refusals denied. */
export function audited(entry: AuditEntry, a: Authorization): AuditEntry {
  const how = auditOfAuthorization(a);
  return { ...entry, outcome: how.outcome, emergency: how.emergency, detail: { ...entry.detail, ...how.detail } };
}

/** 403 for a read the patient has not authorized, saying why and what would allow it. */
export function refusal(a: Authorization, what: string): HubError {
  const why = a.allowed ? '' : `${a.detail} (${a.reason})`;
  const hint = !a.allowed && a.reason !== 'not-a-care-provider' ? `; in an emergency, state the reason in the ${EMERGENCY_HEADER} header` : '';
  return forbidden(`no-patient-authorization: ${what} is held by another organization and needs the patient's authorization: ${why}${hint}`, { code: 'no-patient-authorization' });
}

/** A read of one result by id: refused (and audited as denied) unless authorized; else how it was. */
export async function authorizeRead(ctx: FhirContext, held: Held, entry: AuditEntry): Promise<Authorization> {
  const a = (await authorize(ctx, [held]))(held);
  if (!a.allowed) {
    await ctx.audit([audited(entry, a)]);
    throw refusal(a, `${entry.resourceType}/${entry.resourceId}`);
  }
  return a;
}

/**
 * The patient records a patient-scoped search names that the reader may read: the others are
 * left out before the search runs (so paging is exact), each audited as a denied search.
 * Served by patients' primary key, then one authorization query.
 */
export async function readableRecords(ctx: FhirContext, records: number[], denied: (record: Held & { id: number }) => AuditEntry): Promise<number[]> {
  if (records.length === 0) return [];
  const rows: Array<Held & { id: number }> = await ctx.db('patients').whereIn('id', records).select('id', 'person_id as personId', 'organization_id as organizationId');
  const of = await authorize(ctx, rows);
  const refused = rows.filter((r) => !of(r).allowed);
  if (refused.length > 0) await ctx.audit(refused.map((r) => audited(denied(r), of(r))));
  return rows.filter((r) => of(r).allowed).map((r) => r.id);
}

/** How many candidates beyond the page a search that cannot name its results up front examines. */
export const SCAN_WINDOW = 10_000;

export interface CandidateOrder {
  /** The ORDER BY of the page over the candidates' columns, aliased `c`, e.g. `c.study_date desc, c.id desc`. */
  order: string;
  /** The candidates' column holding the organization that holds each, and the person. */
  organization: string;
  person: string;
  /** A search naming its results (an identifier, an id): an emergency read may return them all. */
  named: boolean;
}

/**
 * One page of a search whose results are not known before it runs (by identifier, date,
 * modality, name): `candidates` (selected and ordered along an index, without limit) are read
 * in that order and only those the reader may read are kept, by `readableBy` in the same
 * query. A reader who may read few of them would walk the whole index, so the walk stops
 * after the page plus SCAN_WINDOW candidates; a page it cannot fill then is refused as too
 * broad rather than silently cut short.
 */
export async function readablePage<T>(ctx: FhirContext, candidates: Knex.QueryBuilder, how: CandidateOrder, page: { offset: number; count: number }): Promise<{ rows: T[]; more: boolean }> {
  const read = readRequestOf(ctx);
  let rows: T[];
  // an emergency read with a reason is allowed for every patient, except to the authority, which the rows would then leak to through `more`
  if (how.named && read.emergencyReason && ctx.principal.organization.kind !== 'authority') {
    rows = (await candidates.clone().offset(page.offset).limit(page.count + 1)) as T[];
  } else {
    const window = page.offset + page.count + 1 + SCAN_WINDOW;
    rows = (await ctx.db
      .from(candidates.clone().limit(window).as('c'))
      .where(readableBy(ctx.db, read, { organization: `c.${how.organization}`, person: `c.${how.person}` }))
      .orderByRaw(how.order)
      .offset(page.offset)
      .limit(page.count + 1)
      .select('c.*')) as T[];
    if (rows.length <= page.count) {
      const examined = await ctx.db.from(candidates.clone().clearSelect().clearOrder().select(ctx.db.raw('1')).limit(window + 1).as('w')).count('* as n').first();
      if (Number(examined?.n) > window) {
        throw badInput(`this search reaches more than ${SCAN_WINDOW} results before filling a page of those this organization may read; name the patient (patient, subject:identifier) or narrow it (a date range)`, { code: 'search-too-broad' });
      }
    }
  }
  return { rows: rows.slice(0, page.count), more: rows.length > page.count };
}
