import type { InstanceOutcome } from '../dicom';

/**
 * The Store Instances Response Module (PS3.18 10.5.3, Annex I) in the DICOM JSON model:
 * what was stored (Referenced SOP Sequence, with where to retrieve it) and what was not
 * (Failed SOP Sequence, with a Failure Reason per instance).
 */
type Attribute = { vr: string; Value?: unknown[] };
type DicomJsonObject = Record<string, Attribute>;

const TAG = {
  RetrieveUrl: '00081190',
  FailedSopSequence: '00081198',
  ReferencedSopSequence: '00081199',
  FailureReason: '00081197',
  ReferencedSopClassUid: '00081150',
  ReferencedSopInstanceUid: '00081155',
} as const;

const attr = (vr: string, value: unknown | undefined): Attribute => (value === undefined || value === '' ? { vr } : { vr, Value: [value] });

export interface StowResponse {
  status: 200 | 202 | 409;
  body: DicomJsonObject;
}

/** `baseUrl`: the hub's public URL; `studyInstanceUid`: the study of /studies/{study}, if the request named one. */
export function stowResponse(outcomes: InstanceOutcome[], baseUrl: string, studyInstanceUid?: string): StowResponse {
  const studyUrl = (uid: string) => `${baseUrl}/dicomweb/studies/${uid}`;
  const stored = outcomes.filter((o): o is Extract<InstanceOutcome, { ok: true }> => o.ok);
  const failed = outcomes.filter((o): o is Extract<InstanceOutcome, { ok: false }> => !o.ok);
  const studies = new Set(stored.map((o) => o.studyInstanceUid));
  const study = studyInstanceUid ?? (studies.size === 1 ? [...studies][0] : undefined);

  // Retrieve URL of the study is Type 2: present, empty when the instances span several studies.
  const body: DicomJsonObject = { [TAG.RetrieveUrl]: attr('UR', study && studyUrl(study)) };
  if (failed.length > 0) {
    body[TAG.FailedSopSequence] = {
      vr: 'SQ',
      Value: failed.map((o) => ({
        [TAG.ReferencedSopClassUid]: attr('UI', o.sopClassUid),
        [TAG.ReferencedSopInstanceUid]: attr('UI', o.sopInstanceUid),
        [TAG.FailureReason]: attr('US', o.status),
      })),
    };
  }
  if (stored.length > 0) {
    body[TAG.ReferencedSopSequence] = {
      vr: 'SQ',
      Value: stored.map((o) => ({
        [TAG.ReferencedSopClassUid]: attr('UI', o.sopClassUid),
        [TAG.ReferencedSopInstanceUid]: attr('UI', o.sopInstanceUid),
        [TAG.RetrieveUrl]: attr('UR', `${studyUrl(o.studyInstanceUid)}/series/${o.seriesInstanceUid}/instances/${o.sopInstanceUid}`),
      })),
    };
  }
  const status = failed.length === 0 ? 200 : stored.length === 0 ? 409 : 202;
  return { status, body };
}
