import type { Response } from 'express';
import { recordAudit } from '@hub/shared/audit';
import { principalOf } from '@hub/shared/auth';
import type { Knex } from '@hub/shared/db';

/** One study touched by a DICOMweb read. */
export interface StudyRead {
  studyUid: string;
  personId: number;
}

// A viewer asks for each frame of a study separately (hundreds of requests to open one CT);
// one audit row per study per caller in this window says the same, without a row per frame.
const FRAME_WINDOW_MS = 10 * 60 * 1000;
const MAX_REMEMBERED = 50_000;

/**
 * Audit rows for DICOMweb reads, written before the answer (a read that is not audited did
 * not happen): who (client, organization, the practitioner the caller names in
 * X-Practitioner), which person, which study, what, when.
 */
export function createDicomwebAudit(db: Knex) {
  const recent = new Map<string, number>();

  async function record(res: Response, action: string, studies: StudyRead[], detail: Record<string, unknown>): Promise<void> {
    const principal = principalOf(res);
    const practitioner = (res.req.get('x-practitioner') ?? '').slice(0, 200) || undefined;
    const seen = new Set<string>();
    const unique = studies.filter((s) => !seen.has(s.studyUid) && seen.add(s.studyUid));
    await recordAudit(
      db,
      unique.map((s) => ({
        action,
        outcome: 'ok' as const,
        organizationId: principal.organization.id,
        clientId: principal.clientId,
        practitioner,
        patientId: s.personId,
        resourceType: 'ImagingStudy',
        resourceId: s.studyUid,
        requestId: res.locals.requestId as string,
        detail,
      })),
    );
  }

  return {
    /** Searches, retrievals and metadata: a row per study in the answer. */
    record,
    /** Frames and bulk data: a row per study and caller in a ten-minute window. */
    async recordOnce(res: Response, action: string, study: StudyRead, detail: Record<string, unknown>): Promise<void> {
      const principal = principalOf(res);
      const key = `${principal.clientId}\u0000${res.req.get('x-practitioner') ?? ''}\u0000${action}\u0000${study.studyUid}`;
      const now = Date.now();
      if ((recent.get(key) ?? 0) > now - FRAME_WINDOW_MS) return;
      await record(res, action, [study], detail);
      if (recent.size >= MAX_REMEMBERED) recent.clear();
      recent.set(key, now);
    },
  };
}

export type DicomwebAudit = ReturnType<typeof createDicomwebAudit>;
