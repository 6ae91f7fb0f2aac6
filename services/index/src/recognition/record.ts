import type { Knex } from '@hub/shared/db';
import type { RecognitionFacts } from '@hub/shared/recognition';
import { detectMissedRepeat, laterRepeatsOf } from './missed';
import { mapLabReport, mapStudy, type MappedResult, type ResultKind } from './results';

export interface RecordedResult {
  id: number;
  itemId: number;
  /** first mapped now (an upload) rather than updated */
  inserted: boolean;
  /** a missed repeat was recorded for it */
  missed: boolean;
}

/**
 * Maps one result to its catalog items and writes its recognition rows: a new row counts as an
 * upload (and as films avoided when its organization no longer prints film) and is checked for
 * a missed repeat; a known row is updated, and a change of its time, patient or values after
 * it was final is a correction (corrected_at). Items the result no longer maps to are
 * withdrawn, not deleted: checks and decisions may name them. Safe to repeat.
 */
export async function recordResult(trx: Knex.Transaction, facts: RecognitionFacts, kind: ResultKind, resultId: number): Promise<RecordedResult[]> {
  const mapped = kind === 'lab' ? await mapLabReport(trx, facts, resultId) : await mapStudy(trx, facts, resultId);
  await trx('recognition_results')
    .where({ kind, result_id: resultId })
    .whereNot('status', 'withdrawn')
    .modify((q) => (mapped.length > 0 ? q.whereNotIn('item_id', mapped.map((m) => m.itemId)) : q))
    .update({ status: 'withdrawn', updated_at: trx.fn.now() });

  const recorded: RecordedResult[] = [];
  for (const m of mapped) {
    const { rows } = await trx.raw(
      `insert into recognition_results as r (kind, result_id, item_id, patient_id, organization_id, reference_at, reference_day, status, summary, available_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)
       on conflict (kind, result_id, item_id) do update set
         patient_id = excluded.patient_id,
         organization_id = excluded.organization_id,
         reference_at = excluded.reference_at,
         reference_day = excluded.reference_day,
         status = excluded.status,
         summary = excluded.summary,
         -- a settled result whose time, patient or content changes has been corrected
         corrected_at = case
           when r.status in ('final', 'corrected') and excluded.status <> 'withdrawn'
             and (r.reference_at, r.patient_id, r.summary) is distinct from (excluded.reference_at, excluded.patient_id, excluded.summary)
           then now() else r.corrected_at end,
         updated_at = now()
       returning id, (xmax = 0) as inserted`,
      [m.kind, m.resultId, m.itemId, m.patientId, m.organizationId, m.referenceAt, m.referenceDay, m.status, JSON.stringify(m.summary), m.availableAt],
    );
    const { id, inserted } = rows[0] as { id: number; inserted: boolean };
    let missed = false;
    if (inserted && m.status !== 'withdrawn') {
      await countUpload(trx, facts, m);
      missed = await detectMissedRepeat(trx, facts, { ...m, id });
      // results are not always mapped in the order they were taken (a bulk import, a retry):
      // one mapped earlier may have repeated this one
      if (m.status !== 'preliminary') {
        for (const later of await laterRepeatsOf(trx, { ...m, id })) await detectMissedRepeat(trx, facts, later);
      }
    }
    recorded.push({ id, itemId: m.itemId, inserted, missed });
  }
  return recorded;
}

/** An upload on its reference day; an imaging study from an organization that no longer prints film saves its films. */
async function countUpload(trx: Knex.Transaction, facts: RecognitionFacts, m: MappedResult): Promise<void> {
  const stopped = facts.organizations.get(m.organizationId)?.stoppedPrintingFilmOn;
  const films = m.kind === 'imaging' && stopped && stopped <= m.referenceDay ? (facts.versionOf(m.itemId, m.referenceDay)?.filmsPerExam ?? 0) : 0;
  await trx('recognition_daily_deltas').insert({ day: m.referenceDay, organization_id: m.organizationId, item_id: m.itemId, uploads: 1, films_avoided: films });
}
