import type { AckError, Message } from '@hub/shared/hl7';
import { localIdsOf, patientOf, type PatientContext } from './patient';
import { ERR, Problems } from './problems';
import { resultGroupsOf } from './results';
import { LAB_SUBMISSION_VERSION, type LabSubmission, type PatientGroup } from '@hub/shared/lab';

/** ADT events that tell the hub who a patient is (A28/A31 are the person-only variants HIS send). */
const REGISTRATION_EVENTS = new Set(['A01', 'A04', 'A08', 'A28', 'A31']);

export type MappedMessage = { ok: true; submission: LabSubmission } | { ok: false; errors: AckError[] };

/**
 * An HL7 v2 message as the lab submission the index reads, or the content errors an AE
 * names (segment, field, HL7 code, our code). Message types other than ORU^R01 and ADT
 * A01/A04/A08/A28/A31/A40 are refused with ERR 200 (unknown type) or 201 (unknown event).
 */
export function labSubmissionOf(message: Message, options: Omit<PatientContext, 'problems'>): MappedMessage {
  const problems = new Problems();
  const ctx: PatientContext = { ...options, problems };
  const { code, trigger } = message.messageType;
  const type = `${code}^${trigger ?? ''}`;
  let event: LabSubmission['event'] | undefined;
  let groups: PatientGroup[] = [];

  if (code === 'ORU') {
    if (trigger === 'R01') {
      event = 'results';
      groups = resultGroupsOf(message, ctx);
    } else problems.add('MSH-9', ERR.unsupportedEvent, `ORU^${trigger ?? ''} is not supported: the hub takes ORU^R01 results`, 'unsupported-event');
  } else if (code === 'ADT') {
    if (trigger !== undefined && REGISTRATION_EVENTS.has(trigger)) {
      event = 'registration';
      groups = registrationGroupsOf(message, ctx);
    } else if (trigger === 'A40') {
      event = 'merge';
      groups = mergeGroupsOf(message, ctx);
    } else problems.add('MSH-9', ERR.unsupportedEvent, `ADT^${trigger ?? ''} is not supported: the hub takes ADT A01, A04, A08, A28, A31 and A40`, 'unsupported-event');
  } else {
    problems.add('MSH-9', ERR.unsupportedMessageType, `message type ${code} is not supported: the hub takes ORU^R01 and ADT`, 'unsupported-message-type');
  }

  if (problems.any || !event) return { ok: false, errors: problems.list };
  return { ok: true, submission: { lab: LAB_SUBMISSION_VERSION, event, messageType: type, groups } };
}

function registrationGroupsOf(message: Message, ctx: PatientContext): PatientGroup[] {
  const pid = message.segment('PID');
  if (!pid) {
    ctx.problems.add('PID', ERR.requiredMissing, 'an ADT message needs a PID segment', 'missing-pid');
    return [];
  }
  const patient = patientOf(pid, 'PID', ctx);
  return patient ? [{ patient, reports: [] }] : [];
}

/** ADT^A40 (ADT_A39 structure): one or more PID + MRG pairs; MRG-1 lists the retired numbers. */
function mergeGroupsOf(message: Message, ctx: PatientContext): PatientGroup[] {
  const groups: PatientGroup[] = [];
  const pids = message.segments('PID');
  if (pids.length === 0) ctx.problems.add('PID', ERR.requiredMissing, 'an ADT^A40 needs a PID segment (the surviving patient)', 'missing-pid');
  let pidCount = 0;
  let mrgCount = 0;
  let current: PatientGroup | undefined;
  let pidSeen = false;
  for (const seg of message.segments()) {
    if (seg.name === 'PID') {
      pidCount++;
      const patient = patientOf(seg, pidCount === 1 ? 'PID' : `PID[${pidCount}]`, ctx);
      current = patient ? { patient, reports: [], priorLocalIds: [] } : undefined;
      if (current) groups.push(current);
      pidSeen = true;
    } else if (seg.name === 'MRG') {
      mrgCount++;
      const loc = mrgCount === 1 ? 'MRG' : `MRG[${mrgCount}]`;
      if (!pidSeen) ctx.problems.add(loc, ERR.segmentSequence, 'MRG must follow the PID of the surviving patient', 'mrg-without-pid');
      const prior = localIdsOf(seg.field(1));
      if (prior.length === 0) ctx.problems.add(`${loc}-1`, ERR.requiredMissing, 'MRG-1 (prior patient identifier) holds no hospital patient number to merge', 'missing-prior-id');
      if (current) current.priorLocalIds = [...new Set(prior.filter((id) => id !== current!.patient.localId))];
      pidSeen = false;
    }
  }
  if (pids.length > 0 && mrgCount === 0) ctx.problems.add('MRG', ERR.requiredMissing, 'an ADT^A40 needs an MRG segment naming the record to merge', 'missing-mrg');
  return groups;
}
