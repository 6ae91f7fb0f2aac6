import type { Response } from 'express';
import { recordAudit } from '@hub/shared/audit';
import { principalOf } from '@hub/shared/auth';
import type { Knex } from '@hub/shared/db';
import { auditOfAuthorization, type Authorization } from '../recognition/consents';
import { createLookupRecorder } from '../stats/lookups';

/** One study touched by a DICOMweb read, and how the read was authorized (or refused). */
export interface StudyRead {
  studyUid: string;
  personId: number;
  authorization: Authorization;
}

// A viewer asks for each frame of a study separately (hundreds of requests to open one CT);
// one audit row per study per caller in this window says the same, without a row per frame.
const FRAME_WINDOW_MS = 10 * 60 * 1000;
const MAX_REMEMBERED = 50_000;

/**
 * Audit rows for DICOMweb reads, written before the answer (a read that is not audited did
 * not happen): who (client, organization, the practitioner the caller names in
 * X-Practitioner), which person, which study, what, when. Reads of another organization's
 * studies are counted as look-ups for the statistics at the same time.
 */
export function createDicomwebAudit(db: Knex) {
  const recent = new Map<string, number>();
  const lookups = createLookupRecorder(db);

  async function record(res: Response, action: string, studies: StudyRead[], detail: Record<string, unknown>): Promise<void> {
    const principal = principalOf(res);
    const practitioner = (res.req.get('x-practitioner') ?? '').slice(0, 200) || undefined;
    const seen = new Set<string>();
    const unique = studies.filter((s) => !seen.has(s.studyUid) && seen.add(s.studyUid));
    await recordAudit(
      db,
      unique.map((s) => {
        // emergencies flagged with their reason, refusals as denied
        const how = auditOfAuthorization(s.authorization);
        return {
          action,
          outcome: how.outcome,
          emergency: how.emergency,
          organizationId: principal.organization.id,
          clientId: principal.clientId,
          practitioner,
          patientId: s.personId,
          resourceType: 'ImagingStudy',
          resourceId: s.studyUid,
          requestId: res.locals.requestId as string,
          detail: { ...detail, ...how.detail },
        };
      }),
    );
    // another organization's studies read: look-ups for the authority's statistics
    const others = unique.filter((s) => s.authorization.allowed && s.authorization.basis !== 'own-organization');
    await lookups(principal.organization.id, 'dicomweb', { studyUids: others.map((s) => s.studyUid) });
  }

  return {
    /** Searches, retrievals and metadata: a row per study in the answer. */
    record,
    /** Searches naming patients (PatientID, PatientName) whose records the caller may not read: a denied row per person. */
    async recordRefusedPatients(res: Response, action: string, refused: Array<{ personId: number; authorization: Authorization }>): Promise<void> {
      const principal = principalOf(res);
      const practitioner = (res.req.get('x-practitioner') ?? '').slice(0, 200) || undefined;
      const seen = new Set<number>();
      await recordAudit(
        db,
        refused
          .filter((r) => !seen.has(r.personId) && seen.add(r.personId))
          .map((r) => {
            const how = auditOfAuthorization(r.authorization);
            return { action, outcome: how.outcome, emergency: how.emergency, organizationId: principal.organization.id, clientId: principal.clientId, practitioner, patientId: r.personId, resourceType: 'Patient', requestId: res.locals.requestId as string, detail: how.detail };
          }),
      );
    },
    /** Frames and bulk data: a row per study, caller and authorization basis in a ten-minute window. */
    async recordOnce(res: Response, action: string, study: StudyRead, detail: Record<string, unknown>): Promise<void> {
      const principal = principalOf(res);
      // an emergency read is a read of its own in the log, not folded into an earlier one by consent
      const basis = study.authorization.allowed ? study.authorization.basis : 'denied';
      const key = `${principal.clientId}\u0000${res.req.get('x-practitioner') ?? ''}\u0000${action}\u0000${study.studyUid}\u0000${basis}`;
      const now = Date.now();
      if ((recent.get(key) ?? 0) > now - FRAME_WINDOW_MS) return;
      await record(res, action, [study], detail);
      if (recent.size >= MAX_REMEMBERED) recent.clear();
      recent.set(key, now);
    },
  };
}

export type DicomwebAudit = ReturnType<typeof createDicomwebAudit>;
