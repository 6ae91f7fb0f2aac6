import type { Knex } from '@hub/shared/db';
import { DECISION_COVERS_DAYS_AFTER, DECISION_COVERS_DAYS_BEFORE, lockPersonItem, PERSON_GROUP_CTES } from '@hub/shared/recognition';

export interface CoveringDecision {
  decisionId: number;
  /** the person of the check (merged persons included through their group) */
  personId: number;
  itemId: number;
  organizationId: number;
  /** when the check the decision answers was asked: the time the covering rule counts from */
  askedAt: Date;
  decidedAt: Date;
}

/**
 * A decision recorded after a repeat it covers (the rule of @hub/shared/recognition's
 * DECISION_COVERS_REPEAT, read from the other side: repeats taken from a day before the check
 * to 30 days after it) retracts the missed repeats the stage recorded for them: each keeps its
 * row with when and by which decision, and its count and saving leave the roll-ups (negative
 * deltas on the repeat's own day). Past statistics move here, by design: the repeat was not
 * missed. Runs in the decision's transaction, under the lock the stage records missed repeats
 * under. Returns how many were retracted.
 */
export async function retractMissedRepeats(trx: Knex.Transaction, d: CoveringDecision): Promise<number> {
  const { rows: live } = await trx.raw(`with recursive start_persons(id) as (values (?::bigint)), ${PERSON_GROUP_CTES} select min(id) as id from live`, [d.personId]);
  await lockPersonItem(trx, Number(live[0]?.id ?? d.personId), d.itemId);
  // recognition_missed_person_item_idx per person of the group, then the repeat by primary key
  const { rows } = await trx.raw(
    `with recursive start_persons(id) as (values (?::bigint)), ${PERSON_GROUP_CTES}
     update recognition_missed m set retracted_at = ?, retracted_by_decision_id = ?
     from recognition_results r
     where m.person_id in (select id from grp) and m.item_id = ? and m.organization_id = ? and m.retracted_at is null
       and r.id = m.result_row_id
       and r.reference_at between ?::timestamptz - make_interval(days => ${DECISION_COVERS_DAYS_AFTER}) and ?::timestamptz + make_interval(days => ${DECISION_COVERS_DAYS_BEFORE})
     returning m.day, m.organization_id, m.item_id, m.price_cny`,
    [d.personId, d.decidedAt, d.decisionId, d.itemId, d.organizationId, d.askedAt, d.askedAt],
  );
  const retracted = rows as Array<{ day: string; organization_id: number; item_id: number; price_cny: string | number }>;
  if (retracted.length > 0) {
    await trx('recognition_daily_deltas').insert(retracted.map((m) => ({ day: m.day, organization_id: m.organization_id, item_id: m.item_id, missed: -1, missed_cny: -Number(m.price_cny) })));
  }
  return retracted.length;
}
