import type { Knex } from '@hub/shared/db';
import {
  authorizationAmong,
  DECISION_COVERS_REPEAT,
  lockPersonItem,
  PERSON_GROUP_CTES,
  qualificationAmong,
  windowOn,
  type ConsentFact,
  type RecognitionFacts,
} from '@hub/shared/recognition';
import type { MappedResult } from './results';

// the rule of which decisions cover a repeat, shared with the decision that retracts a missed repeat
export { DECISION_COVERS_DAYS_AFTER, DECISION_COVERS_DAYS_BEFORE } from '@hub/shared/recognition';

interface PriorRow {
  id: number;
  organization_id: number;
  reference_day: string;
}

/**
 * A new result is a missed repeat when, at the moment it was taken, the hub already held a prior
 * result of the same item for the same person from another organization that the repeating
 * organization could have recognized — final, inside the window of the catalog version in
 * force that day, from an organization qualified that day with a scope covering the repeater,
 * and readable by it under the patient's consent — and no decision of the repeater on this
 * person and item covered it.
 *
 * Consent matters: a prior the repeating clinician was not allowed to see was no opportunity
 * (an emergency read could have shown it, but counting every unconsented prior would blame
 * hospitals for the patient's choice). A repeat of the organization's own result is not
 * counted: mutual recognition is between organizations, and a hospital's own repeat policy is
 * its own. The saving that was possible is the item's price on the repeat's day.
 */
export async function detectMissedRepeat(trx: Knex.Transaction, facts: RecognitionFacts, result: MappedResult & { id: number }): Promise<boolean> {
  const version = facts.versionOf(result.itemId, result.referenceDay);
  const item = facts.items.get(result.itemId);
  const asker = facts.asker(result.organizationId);
  const askerOrg = facts.organizations.get(result.organizationId);
  if (!version || !version.inCatalog || !item || !asker || !askerOrg) return false;

  const { rows } = await trx.raw(
    `with recursive start_persons(id) as (select person_id from patients where id = ?), ${PERSON_GROUP_CTES}
     select
       (select min(id) from live) as person_id,
       (select coalesce(json_agg(p), '[]') from (
          select r.id, r.organization_id, r.reference_day from recognition_results r
          where r.patient_id in (select id from records) and r.item_id = ? and r.id <> ? and r.organization_id <> ?
            and r.status in ('final', 'corrected') and r.reference_at < ? and r.available_at <= ?
          order by r.reference_at desc limit 20) p) as priors,
       (select coalesce(json_agg(c), '[]') from (
          select c.id, c.scope, c.region_id as "regionId", c.purpose, c.valid_from as "validFrom", c.valid_until as "validUntil", c.revoked_at as "revokedAt",
                 array(select organization_id from consent_organizations co where co.consent_id = c.id) as "organizationIds"
          from consents c where c.person_id in (select id from grp)) c) as consents,
       ${DECISION_COVERS_REPEAT} as decided`,
    [result.patientId, result.itemId, result.id, result.organizationId, result.referenceAt, result.referenceAt, ...coverBindings(result)],
  );
  const found = rows[0] as { person_id: number | null; priors: PriorRow[]; consents: Array<Omit<ConsentFact, 'validFrom' | 'validUntil' | 'revokedAt'> & Record<'validFrom' | 'validUntil' | 'revokedAt', string | null>>; decided: boolean };
  if (found.person_id === null || found.decided || found.priors.length === 0) return false;
  const consents: ConsentFact[] = found.consents.map((c) => ({
    ...c,
    validFrom: new Date(c.validFrom!),
    validUntil: c.validUntil ? new Date(c.validUntil) : null,
    revokedAt: c.revokedAt ? new Date(c.revokedAt) : null,
  }));

  const prior = found.priors.find(
    (p) =>
      windowOn(p.reference_day, version.validityDays, result.referenceDay).daysLeft !== null &&
      qualificationAmong(facts.qualificationsOf(p.organization_id), item, asker, result.referenceDay).qualified &&
      authorizationAmong(consents, {
        askingOrganizationId: result.organizationId,
        askerKind: askerOrg.kind,
        askerRegionId: asker.regionId,
        resultOrganizationId: p.organization_id,
        at: result.referenceAt,
      }).allowed,
  );
  if (!prior) return false;

  // a decision committed since the look above would cover it: asked again under the lock its retraction takes
  await lockPersonItem(trx, found.person_id, result.itemId);
  if (await decisionCovers(trx, result)) return false;
  const inserted = await trx('recognition_missed')
    .insert({
      result_row_id: result.id,
      prior_row_id: prior.id,
      organization_id: result.organizationId,
      item_id: result.itemId,
      person_id: found.person_id,
      day: result.referenceDay,
      price_cny: version.priceCny,
    })
    .onConflict('result_row_id')
    .ignore()
    .returning('id');
  if (inserted.length === 0) return false;
  await trx('recognition_daily_deltas').insert({ day: result.referenceDay, organization_id: result.organizationId, item_id: result.itemId, missed: 1, missed_cny: version.priceCny });
  return true;
}

const coverBindings = (r: Pick<MappedResult, 'itemId' | 'organizationId' | 'referenceAt'>) => [r.itemId, r.organizationId, r.referenceAt, r.referenceAt];

async function decisionCovers(trx: Knex.Transaction, result: MappedResult): Promise<boolean> {
  const { rows } = await trx.raw(
    `with recursive start_persons(id) as (select person_id from patients where id = ?), ${PERSON_GROUP_CTES}
     select ${DECISION_COVERS_REPEAT} as decided`,
    [result.patientId, ...coverBindings(result)],
  );
  return rows[0].decided as boolean;
}

/**
 * Results of the same person and item from other organizations, taken after this one reached
 * the hub and not yet counted as missed repeats: those this one may have been a recognizable
 * prior for, when it is mapped after them (recognition_results_patient_item_idx per record).
 */
export async function laterRepeatsOf(trx: Knex.Transaction, prior: MappedResult & { id: number }): Promise<Array<MappedResult & { id: number }>> {
  const { rows } = await trx.raw(
    `with recursive start_persons(id) as (select person_id from patients where id = ?), ${PERSON_GROUP_CTES}
     select r.id, r.kind, r.result_id, r.item_id, r.patient_id, r.organization_id, r.reference_at, r.reference_day, r.status, r.available_at
     from recognition_results r
     where r.patient_id in (select id from records) and r.item_id = ? and r.organization_id <> ? and r.status <> 'withdrawn'
       and r.reference_at > ? and r.reference_at >= ?
       and not exists (select 1 from recognition_missed m where m.result_row_id = r.id)
     order by r.reference_at limit 20`,
    [prior.patientId, prior.itemId, prior.organizationId, prior.referenceAt, prior.availableAt],
  );
  return (rows as Array<Record<string, any>>).map((r) => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
    id: r.id,
    kind: r.kind,
    resultId: r.result_id,
    itemId: r.item_id,
    patientId: r.patient_id,
    organizationId: r.organization_id,
    referenceAt: r.reference_at,
    referenceDay: r.reference_day,
    status: r.status,
    summary: {},
    availableAt: r.available_at,
  }));
}
