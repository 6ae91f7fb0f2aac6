import { recordAudit } from '@hub/shared/audit';
import type { Knex } from '@hub/shared/db';
import { badInput, conflict, forbidden, notFound } from '@hub/shared/errors';
import { localDate, type FactsCache } from '@hub/shared/recognition';
import { z } from 'zod';
import { retractMissedRepeats } from './retract-missed';

/** Why a clinician declines a recognizable prior: the national list (国卫医发〔2022〕6号, art. 14), and other + text. */
export const declineReasons = [
  'condition-changed',
  'value-changes-fast',
  'before-surgery-or-transfusion',
  'emergency',
  'legal-or-disability-appraisal',
  'patient-request',
  'lab-failed-quality-assessment',
  'result-too-old',
  'physician-judgement',
  'other',
] as const;
export type DeclineReason = (typeof declineReasons)[number];

const id = (what: string) => z.union([z.string().regex(/^\d{1,18}$/, `must be a ${what} id`), z.number().int().positive()]).transform(Number);

export const decisionSchema = z
  .strictObject({
    checkId: id('check'),
    resultId: id('result'),
    decision: z.enum(['recognized', 'declined']),
    reasons: z.array(z.enum(declineReasons)).max(declineReasons.length).optional(),
    text: z.string().trim().max(1000, 'must be at most 1000 characters').optional(),
    practitioner: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  })
  .superRefine((d, ctx) => {
    const reasons = d.reasons ?? [];
    if (d.decision === 'declined' && reasons.length === 0) ctx.addIssue({ code: 'custom', path: ['reasons'], message: 'a declined result gives at least one reason from the national list' });
    if (d.decision === 'recognized' && reasons.length > 0) ctx.addIssue({ code: 'custom', path: ['reasons'], message: 'a recognized result takes no reasons' });
    if (new Set(reasons).size !== reasons.length) ctx.addIssue({ code: 'custom', path: ['reasons'], message: 'names each reason once' });
    if (reasons.includes('other') && !d.text) ctx.addIssue({ code: 'custom', path: ['text'], message: 'the reason "other" is explained in text' });
  });

export type DecisionRequest = z.output<typeof decisionSchema>;

export interface Decision {
  id: string;
  check: string;
  result: string;
  decision: 'recognized' | 'declined';
  reasons: DeclineReason[];
  text: string | null;
  practitioner: string;
  decidedAt: string;
  day: string;
  /** the item's price on the decision day: what a recognized result saved */
  priceCny: number;
}

const view = (r: Record<string, any>): Decision => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
  id: String(r.id),
  check: String(r.check_id),
  result: String(r.result_row_id),
  decision: r.decision,
  reasons: r.reasons,
  text: r.reason_text,
  practitioner: r.practitioner,
  decidedAt: (r.decided_at as Date).toISOString(),
  day: r.day,
  priceCny: r.price_cny,
});

const sameDecision = (a: Record<string, unknown>, d: DecisionRequest) =>
  a.decision === d.decision && JSON.stringify([...(a.reasons as string[])].sort()) === JSON.stringify([...(d.reasons ?? [])].sort()) && (a.reason_text ?? null) === (d.text || null);

/**
 * A clinician's decision on a result a check offered. Only the organization that made the
 * check decides on it; the result must have been offered by that check (for that patient) as
 * recognizable; recognized only if not corrected since (the clinician saw the
 * old values: a new check shows the corrected ones). The same decision again is the same
 * decision (created: false); another one on the same result is a conflict. The first
 * recognized decision of a check is a repeat avoided, saving the item's price on the day. A
 * decision recorded after a repeat it covers retracts that missed repeat (retractMissedRepeats).
 */
export async function recordDecision(
  db: Knex,
  facts: FactsCache,
  request: DecisionRequest,
  caller: { organizationId: number; clientId?: string; requestId?: string },
  now: Date = new Date(),
): Promise<{ decision: Decision; created: boolean }> {
  const known = await facts.get();
  return db.transaction(async (trx) => {
    // the check row is locked: two decisions on one check settle its counters one after the other
    const check = await trx('recognition_checks').where({ id: request.checkId }).forUpdate().first();
    if (!check) throw notFound(`no check ${request.checkId}`, { location: 'checkId', code: 'unknown-check' });
    if (check.organization_id !== caller.organizationId) throw forbidden('a decision is made by the organization that made the check', { location: 'checkId', code: 'not-own-check' });
    const offered = (check.offered_ids as Array<number | string>).map(Number);
    if (!offered.includes(request.resultId)) throw badInput(`check ${request.checkId} did not offer result ${request.resultId}`, { location: 'resultId', code: 'result-not-offered' });

    const existing = await trx('recognition_decisions').where({ check_id: check.id, result_row_id: request.resultId }).first();
    if (existing) {
      if (sameDecision(existing, request)) return { decision: view(existing), created: false };
      throw conflict(`result ${request.resultId} was already ${existing.decision} on this check; make a new check to decide again`, { location: 'decision', code: 'already-decided' });
    }
    const result = await trx('recognition_results').where({ id: request.resultId }).first('id', 'patient_id', 'corrected_at', 'item_id');
    // a result offered for reference only is neither recognized nor declined: there is no repeat to avoid
    if (!(check.recognizable_ids as Array<number | string>).map(Number).includes(request.resultId)) {
      throw conflict('the check offered this result for reference only: there is nothing to recognize or decline', { location: 'resultId', code: 'not-recognizable' });
    }
    if (request.decision === 'recognized') {
      if (result.corrected_at && result.corrected_at > check.asked_at) {
        throw conflict('the result was corrected after the check: check again to see the corrected result', { location: 'resultId', code: 'corrected-since-check' });
      }
    }

    const region = known.regionOf(caller.organizationId);
    const day = localDate(now, region?.timeZone ?? 'Asia/Shanghai');
    const price = known.versionOf(check.item_id, day)?.priceCny ?? 0;
    const [row] = await trx('recognition_decisions')
      .insert({
        check_id: check.id,
        result_row_id: request.resultId,
        organization_id: caller.organizationId,
        person_id: check.person_id,
        item_id: check.item_id,
        decision: request.decision,
        reasons: request.reasons ?? [],
        reason_text: request.text || null,
        practitioner: request.practitioner,
        decided_at: now,
        day,
        price_cny: price,
      })
      .returning('*');

    const firstDecision = check.first_decided_at === null;
    const firstRecognized = request.decision === 'recognized' && check.recognized_at === null;
    const firstDeclined = request.decision === 'declined' && check.declined_at === null;
    await trx('recognition_checks')
      .where({ id: check.id })
      .update({
        ...(firstDecision ? { first_decided_at: now } : {}),
        ...(firstRecognized ? { recognized_at: now } : {}),
        ...(firstDeclined ? { declined_at: now } : {}),
      });
    const deltas: Array<Record<string, unknown>> = [];
    // paired with the check's own day, where it was counted as having found a recognizable result
    if (firstDecision && (check.recognizable_ids as unknown[]).length > 0) deltas.push({ day: check.day, organization_id: caller.organizationId, item_id: check.item_id, checks_decided: 1 });
    if (firstRecognized) deltas.push({ day, organization_id: caller.organizationId, item_id: check.item_id, recognized: 1, saved_cny: price });
    if (firstDeclined) deltas.push({ day, organization_id: caller.organizationId, item_id: check.item_id, declined: 1 });
    if (deltas.length > 0) await trx('recognition_daily_deltas').insert(deltas);
    // the repeats this decision covers were no missed repeats, though recorded as such before it
    await retractMissedRepeats(trx, { decisionId: row.id, personId: check.person_id, itemId: check.item_id, organizationId: caller.organizationId, askedAt: check.asked_at, decidedAt: now });
    if (request.decision === 'declined') {
      await trx('recognition_reason_deltas').insert((request.reasons ?? []).map((reason) => ({ day, organization_id: caller.organizationId, item_id: check.item_id, reason })));
    }
    await recordAudit(trx, {
      at: now,
      action: 'recognition.decision',
      outcome: 'ok',
      organizationId: caller.organizationId,
      clientId: caller.clientId,
      practitioner: request.practitioner,
      patientId: result.patient_id,
      resourceType: 'RecognitionDecision',
      resourceId: String(row.id),
      purpose: check.purpose,
      requestId: caller.requestId,
      detail: { check: String(check.id), result: String(request.resultId), decision: request.decision, reasons: request.reasons ?? [] },
    });
    return { decision: view(row), created: true };
  });
}
