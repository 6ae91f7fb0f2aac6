import type { Knex } from '../db';

/**
 * When a clinician's decision covers a repeat, so that the repeat is no missed repeat: a
 * decision (recognized or declined) of the repeating organization on the same person and item,
 * made on a check asked from DECISION_COVERS_DAYS_BEFORE days before the repeat was taken (an
 * order is checked, then scheduled: an MR can wait two weeks) to DECISION_COVERS_DAYS_AFTER
 * after (a specimen is sometimes taken before the check is recorded, in an emergency). The
 * check's time counts, not the decision's: a decision may be recorded days after its check,
 * and after the repeat. One rule for the stage that records missed repeats and for the
 * decision that retracts one recorded before it, so the outcome does not depend on which came
 * first.
 */
export const DECISION_COVERS_DAYS_BEFORE = 30;
export const DECISION_COVERS_DAYS_AFTER = 1;

/**
 * SQL: a decision covering a repeat exists. Put after the caller's PERSON_GROUP_CTES (it reads
 * `grp`); bindings: item, organization, the repeat's reference time twice. Served by
 * recognition_decisions_person_item_idx, then the checks' primary key.
 */
export const DECISION_COVERS_REPEAT = `exists (
  select 1 from recognition_decisions d join recognition_checks c on c.id = d.check_id
  where d.person_id in (select id from grp) and d.item_id = ? and d.organization_id = ?
    and c.asked_at between ?::timestamptz - make_interval(days => ${DECISION_COVERS_DAYS_BEFORE}) and ?::timestamptz + make_interval(days => ${DECISION_COVERS_DAYS_AFTER}))`;

/**
 * Holds, until the transaction ends, the one lock under which a missed repeat of this person
 * (the live person of the group: the lowest id) and item is recorded or retracted. Without it a
 * repeat mapped while a covering decision commits could each miss the other, and the missed
 * repeat would stay.
 */
export async function lockPersonItem(trx: Knex.Transaction, personId: number, itemId: number): Promise<void> {
  await trx.raw(`select pg_advisory_xact_lock(hashtextextended('recognition-missed:' || ?::text || ':' || ?::text, 0))`, [personId, itemId]);
}
