import { component, type Message, type Segment } from '@hub/shared/hl7';
import { observationOf } from './observation';
import { patientOf, type PatientContext } from './patient';
import { ERR } from './problems';
import type { PatientGroup, ReportStatus, ReportSubmission } from '@hub/shared/lab';
import { parseHl7Time, testCoding, timeField } from './values';

/** HL7 table 0123 (OBR-25) as FHIR DiagnosticReport.status. */
const REPORT_STATUS: Record<string, ReportStatus> = {
  O: 'registered',
  I: 'registered',
  S: 'registered',
  A: 'partial',
  P: 'preliminary',
  R: 'preliminary',
  C: 'corrected',
  F: 'final',
  X: 'cancelled',
};

/** A report being read: its OBR and what follows it, until the next OBR or PID. */
interface OpenReport {
  report: Omit<ReportSubmission, 'effectiveAt'> & { effectiveAt?: string };
  loc: string;
  /** Fallbacks for the collection time when OBR-7 is empty, best first: SPM-17, the first OBX-14, OBR-14, OBR-22. */
  fallback: { specimen?: string; observed?: string; received?: string; reported?: string };
  statusGiven: boolean;
}

/**
 * ORU^R01 (v2.3–2.5.1): each PID starts a patient, each OBR a report, each OBX an
 * observation of the report before it. ORC gives order numbers to an OBR that lacks them;
 * SPM (v2.5) gives the specimen; NTE and Z-segments are left in the original message.
 */
export function resultGroupsOf(message: Message, ctx: PatientContext): PatientGroup[] {
  const { problems } = ctx;
  const groups: PatientGroup[] = [];
  const seen = new Map<string, number>();
  const occurrence = (seg: Segment) => {
    const n = (seen.get(seg.name) ?? 0) + 1;
    seen.set(seg.name, n);
    return n === 1 ? seg.name : `${seg.name}[${n}]`;
  };
  const sentAt = parseHl7Time(message.get('MSH-7'))?.iso;
  let group: PatientGroup | undefined;
  let open: OpenReport | undefined;
  let orc: Segment | undefined;
  // the last OBR could not be read (already reported): its OBX are checked, not kept
  let reportFailed = false;

  const close = () => {
    if (!open || !group) return;
    const { report, loc } = open;
    const { specimen, observed, received, reported } = open.fallback;
    const effectiveAt = report.effectiveAt ?? specimen ?? observed ?? received ?? reported ?? sentAt;
    if (!effectiveAt) {
      problems.add(`${loc}-7`, ERR.requiredMissing, 'OBR-7 (specimen collection time) is required: it is the date the result counts from', 'missing-collection-time');
    } else {
      if (!open.statusGiven) report.status = derivedStatus(report);
      uniqueKeys(report);
      group.reports.push({ ...report, effectiveAt });
    }
    open = undefined;
  };

  for (const seg of message.segments()) {
    if (seg.name === 'MSH') continue;
    const loc = occurrence(seg);
    switch (seg.name) {
      case 'PID': {
        close();
        reportFailed = false;
        const patient = patientOf(seg, loc, ctx);
        group = patient ? { patient, reports: [] } : undefined;
        if (patient) groups.push(group!);
        orc = undefined;
        break;
      }
      case 'ORC':
        close();
        orc = seg;
        break;
      case 'OBR':
        close();
        if (group) open = openReport(seg, loc, orc, message, problems);
        else skipReport(seg, loc, problems);
        reportFailed = open === undefined;
        orc = undefined;
        break;
      case 'OBX': {
        if (!open && !reportFailed) {
          problems.add(loc, ERR.segmentSequence, 'OBX outside a report: an observation follows the OBR it belongs to', 'obx-without-obr');
          break;
        }
        const obs = observationOf(seg, loc, problems);
        if (obs && open) {
          // OBX-14 is when the LIS analysed it; the result counts from the collection time
          // (OBR-7), which is the observation's time too. OBX-14 only stands in for a missing OBR-7.
          open.fallback.observed ??= obs.effectiveAt;
          delete obs.effectiveAt;
          open.report.observations.push(obs);
        }
        break;
      }
      case 'SPM':
        if (open) {
          const type = testCoding(seg.field(4)[0]).local;
          if (type) open.report.specimen = { type: type.code, ...(type.display ? { display: type.display } : {}) };
          open.fallback.specimen ??= timeField(seg.value(17), `${loc}-17`, problems)?.iso;
        }
        break;
    }
  }
  close();
  if (seen.get('PID') === undefined) problems.add('PID', ERR.requiredMissing, 'an ORU^R01 needs a PID segment', 'missing-pid');
  else if (seen.get('OBR') === undefined) problems.add('OBR', ERR.requiredMissing, 'an ORU^R01 needs at least one OBR', 'missing-obr');
  return groups;
}

function openReport(obr: Segment, loc: string, orc: Segment | undefined, message: Message, problems: PatientContext['problems']): OpenReport | undefined {
  const coding = testCoding(obr.field(4)[0]);
  const code = coding.local?.code ?? coding.loinc?.code;
  if (!code) {
    problems.add(`${loc}-4`, ERR.requiredMissing, 'OBR-4 (universal service identifier: the test) is required', 'missing-test-code');
    return undefined;
  }
  const placer = obr.value(2)?.trim() || orc?.value(2)?.trim();
  const filler = obr.value(3)?.trim() || orc?.value(3)?.trim();
  // Without order numbers a later correction cannot find the report: it is keyed to this message.
  const key = filler ? `F|${filler}|${code}` : placer ? `P|${placer}|${code}` : `M|${message.controlId}|${obr.value(1) ?? loc}|${code}`;
  const report: OpenReport['report'] = { key, ...coding, status: 'final', observations: [] };
  if (placer) report.placerOrderNumber = placer;
  if (filler) report.fillerOrderNumber = filler;

  const rawStatus = obr.value(25)?.trim().toUpperCase();
  const status = rawStatus ? REPORT_STATUS[rawStatus] : undefined;
  if (rawStatus && !status) problems.add(`${loc}-25`, ERR.tableValue, 'OBR-25 result status is not one of HL7 table 0123 (F, C, P, A, R, X, O, I, S)', 'unknown-result-status');
  if (status) report.status = status;

  const collected = timeField(obr.value(7), `${loc}-7`, problems);
  if (collected) report.effectiveAt = collected.iso;
  const received = timeField(obr.value(14), `${loc}-14`, problems);
  const reported = timeField(obr.value(22), `${loc}-22`, problems);
  if (reported) report.issuedAt = reported.iso;
  // OBR-15 (v2.3–2.5 specimen source): code&text in the first component
  const source = obr.field(15)[0];
  const specimenCode = component(source, 1, 1)?.trim();
  if (specimenCode) {
    const display = component(source, 1, 2)?.trim();
    report.specimen = { type: specimenCode, ...(display ? { display } : {}) };
  }
  return { report, loc, fallback: { received: received?.iso, reported: reported?.iso }, statusGiven: status !== undefined };
}

/** An OBR with no usable patient before it: still checked, so the AE lists all its faults. */
function skipReport(obr: Segment, loc: string, problems: PatientContext['problems']): void {
  if (!testCoding(obr.field(4)[0]).local && !testCoding(obr.field(4)[0]).loinc) {
    problems.add(`${loc}-4`, ERR.requiredMissing, 'OBR-4 (universal service identifier: the test) is required', 'missing-test-code');
  }
  timeField(obr.value(7), `${loc}-7`, problems);
}

/** A report without OBR-25: preliminary while any result is, final otherwise. */
function derivedStatus(report: OpenReport['report']): ReportStatus {
  const statuses = report.observations.map((o) => o.status);
  if (statuses.includes('preliminary')) return 'preliminary';
  if (statuses.includes('corrected')) return 'corrected';
  return 'final';
}

/** The same test twice in a report without sub-ids: the second becomes `code#2`, so both are kept. */
function uniqueKeys(report: OpenReport['report']): void {
  const count = new Map<string, number>();
  for (const obs of report.observations) {
    const n = (count.get(obs.key) ?? 0) + 1;
    count.set(obs.key, n);
    if (n > 1) obs.key = `${obs.key}#${n}`;
  }
}
