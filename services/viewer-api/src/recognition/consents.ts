import type { AuditEvent } from '@hub/shared/audit';
import type { Knex } from '@hub/shared/db';
import { forbidden, notFound } from '@hub/shared/errors';
import { authorizationAmong, consentStatusAt, type Authorization } from '@hub/shared/recognition';
import { placementOf } from './regions';

export const consentPurposes = ['treatment', 'emergency-treatment', 'care-management'] as const;
export const consentMethods = ['written', 'electronic', 'verbal-recorded'] as const;
export type ConsentPurpose = (typeof consentPurposes)[number];
export type ConsentMethod = (typeof consentMethods)[number];

/**
 * A patient's authorization for other organizations to read their results, as FHIR Consent
 * holds it: who may read (every organization of a region, or those listed), for what purpose,
 * how it was given, and for how long. It covers the patient's results wherever in the region
 * they are held: the patient authorizes a reader, as they do at the point of care. In force from `validFrom` until `validUntil` (exclusive),
 * unless revoked before.
 */
export interface Consent {
  id: number;
  scope: 'region' | 'organizations';
  region: string | null;
  organizations: string[];
  purpose: ConsentPurpose;
  method: ConsentMethod;
  validFrom: Date;
  validUntil: Date | null;
  recordedAt: Date;
  recordedBy: string;
  practitioner: string | null;
  revokedAt: Date | null;
  revokedBy: string | null;
  revocationReason: string | null;
  status: 'active' | 'pending' | 'expired' | 'revoked';
}

export type { Authorization, AuthorizationRefusal } from '@hub/shared/recognition';

/**
 * The person and every person merged into it (a consent given before a merge still holds):
 * up the merge chain to the live person, then down every branch merged into it.
 */
export async function personGroup(db: Knex, personId: number): Promise<number[]> {
  const { rows } = await db.raw(
    `with recursive up(id, merged_into_id, depth) as (
       select id, merged_into_id, 0 from persons where id = ?
       union all
       select p.id, p.merged_into_id, u.depth + 1 from persons p join up u on p.id = u.merged_into_id where u.depth < 32
     ),
     down(id, depth) as (
       select id, 0 from (select id from up where merged_into_id is null limit 1) live
       union all
       select p.id, d.depth + 1 from persons p join down d on p.merged_into_id = d.id where d.depth < 32
     )
     select id from down`,
    [personId],
  );
  return rows.length > 0 ? rows.map((r: { id: number }) => r.id) : [personId];
}

/** A hospital's patient by its own id (patients_local_key). */
export async function patientAt(db: Knex, query: { organizationId: number; localId: string; location?: string }): Promise<{ patientId: number; personId: number }> {
  const row = await db('patients').where({ organization_id: query.organizationId, local_id: query.localId }).first('id', 'person_id');
  if (!row) throw notFound(`this organization has no patient with id "${query.localId}"`, { location: query.location ?? 'patient', code: 'unknown-patient' });
  return { patientId: row.id, personId: row.person_id };
}

function consentRows(db: Knex) {
  return db('consents as c')
    .join('organizations as rb', 'rb.id', 'c.recorded_by_organization_id')
    .leftJoin('organizations as vb', 'vb.id', 'c.revoked_by_organization_id')
    .leftJoin('regions as r', 'r.id', 'c.region_id')
    .select(
      'c.id',
      'c.scope',
      'r.code as region',
      'c.region_id as regionId',
      db.raw(`coalesce((select array_agg(o.code order by o.code) from consent_organizations co join organizations o on o.id = co.organization_id where co.consent_id = c.id), '{}') as organizations`),
      db.raw(`coalesce((select array_agg(co.organization_id::integer) from consent_organizations co where co.consent_id = c.id), '{}') as "organizationIds"`),
      'c.purpose',
      'c.method',
      'c.valid_from as validFrom',
      'c.valid_until as validUntil',
      'c.recorded_at as recordedAt',
      'rb.code as recordedBy',
      'c.recorded_by_practitioner as practitioner',
      'c.revoked_at as revokedAt',
      'vb.code as revokedBy',
      'c.revocation_reason as revocationReason',
    );
}

type ConsentRow = Omit<Consent, 'status'> & { regionId: number | null; organizationIds: number[] };

const publicOf = ({ regionId: _r, organizationIds: _o, ...c }: ConsentRow, at: Date): Consent => ({ ...c, status: consentStatusAt(c, at) });

export interface NewConsent {
  personId: number;
  recordedByOrganizationId: number;
  practitioner?: string | null;
  scope: { kind: 'region'; regionId: number } | { kind: 'organizations'; organizationIds: number[] };
  purpose: ConsentPurpose;
  method: ConsentMethod;
  validFrom: Date;
  validUntil?: Date | null;
}

export async function recordConsent(db: Knex, c: NewConsent, now: Date = new Date()): Promise<Consent> {
  const id = await db.transaction(async (trx) => {
    const [{ id }] = await trx('consents')
      .insert({
        person_id: c.personId,
        recorded_by_organization_id: c.recordedByOrganizationId,
        recorded_by_practitioner: c.practitioner ?? null,
        scope: c.scope.kind,
        region_id: c.scope.kind === 'region' ? c.scope.regionId : null,
        purpose: c.purpose,
        method: c.method,
        valid_from: c.validFrom,
        valid_until: c.validUntil ?? null,
      })
      .returning('id');
    if (c.scope.kind === 'organizations') {
      await trx('consent_organizations').insert([...new Set(c.scope.organizationIds)].map((organizationId) => ({ consent_id: id, organization_id: organizationId })));
    }
    return id as number;
  });
  return getConsent(db, id, now);
}

export async function getConsent(db: Knex, id: number, now: Date = new Date()): Promise<Consent & { personId: number }> {
  const row = await consentRows(db).select('c.person_id as personId').where('c.id', id).first();
  if (!row) throw notFound(`no consent ${id}`, { location: 'id', code: 'unknown-consent' });
  const { personId, ...rest } = row;
  return { ...publicOf(rest, now), personId };
}

/** Every consent of a person (and of persons merged into them), newest first (consents_person_idx). */
export async function listConsents(db: Knex, query: { personId: number; now?: Date }): Promise<Consent[]> {
  const persons = await personGroup(db, query.personId);
  const rows = await consentRows(db).whereIn('c.person_id', persons).orderBy('c.recorded_at', 'desc');
  return rows.map((r: ConsentRow) => publicOf(r, query.now ?? new Date()));
}

/**
 * Revokes a consent from an instant on. Only an organization that holds a record of the patient
 * may (the patient withdraws it where they are treated). Revoking again changes nothing.
 */
export async function revokeConsent(
  db: Knex,
  input: { consentId: number; byOrganizationId: number; reason?: string | null; at?: Date },
): Promise<{ consent: Consent; patientId: number }> {
  const consent = await getConsent(db, input.consentId);
  const persons = await personGroup(db, consent.personId);
  const own = await db('patients').where('organization_id', input.byOrganizationId).whereIn('person_id', persons).first('id');
  if (!own) throw forbidden('only an organization that holds a record of the patient may revoke their consent', { location: 'id', code: 'not-patients-organization' });
  await db('consents')
    .where({ id: input.consentId })
    .whereNull('revoked_at')
    .update({ revoked_at: input.at ?? db.fn.now(), revoked_by_organization_id: input.byOrganizationId, revocation_reason: input.reason ?? null });
  const { personId: _p, ...revoked } = await getConsent(db, input.consentId, input.at);
  return { consent: revoked, patientId: own.id };
}

// A consent for treatment covers an emergency read too (v3 ActReason: ETREAT specializes TREAT).

/**
 * May the asking organization read a result of this person held by the result's organization?
 * Its own results, always. Another organization's: with a consent in force that covers the
 * asker and the purpose; without one, only in an emergency with a stated reason, and flagged
 * so the read is audited as such.
 */
export async function authorizationFor(
  db: Knex,
  query: { personId: number; askingOrganizationId: number; resultOrganizationId: number; on?: Date; emergencyReason?: string; purpose?: ConsentPurpose },
): Promise<Authorization> {
  if (query.askingOrganizationId === query.resultOrganizationId) return { allowed: true, basis: 'own-organization' };
  // the authority sees aggregates, never a patient: no consent or emergency makes it a reader
  const asker = await db('organizations').where({ id: query.askingOrganizationId }).first('kind');
  if (!asker || asker.kind === 'authority') return { allowed: false, reason: 'not-a-care-provider', detail: 'only hospitals and imaging centres read patients\' results' };
  const persons = await personGroup(db, query.personId);
  const rows: ConsentRow[] = await consentRows(db).whereIn('c.person_id', persons);
  const askerRegionId = rows.some((r) => r.scope === 'region') ? (await placementOf(db, query.askingOrganizationId)).region.id : null;
  // the rule itself is the one the prior-result check and the recognition stage apply
  return authorizationAmong(rows, {
    askingOrganizationId: query.askingOrganizationId,
    askerKind: asker.kind,
    askerRegionId,
    resultOrganizationId: query.resultOrganizationId,
    at: query.on ?? new Date(),
    purpose: query.purpose,
    emergencyReason: query.emergencyReason,
  });
}

/** How a read decided by `authorizationFor` is audited: emergencies flagged, refusals as denied. */
export function auditOfAuthorization(a: Authorization): Pick<AuditEvent, 'outcome' | 'emergency' | 'detail'> {
  if (!a.allowed) return { outcome: 'denied', emergency: false, detail: { authorization: a.reason } };
  if (a.basis === 'emergency') return { outcome: 'ok', emergency: true, detail: { authorization: 'emergency', emergencyReason: a.emergencyReason } };
  return { outcome: 'ok', emergency: false, detail: a.basis === 'consent' ? { authorization: 'consent', consentId: a.consentId } : { authorization: a.basis } };
}
