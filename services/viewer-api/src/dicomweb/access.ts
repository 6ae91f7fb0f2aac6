import type { Request, Response } from 'express';
import { principalOf } from '@hub/shared/auth';
import type { Knex } from '@hub/shared/db';
import { forbidden } from '@hub/shared/errors';
import { authorizationsFor, EMERGENCY_HEADER, emergencyReasonOf, readableBy, type ReadRequest } from '../recognition/authorizations';
import type { Authorization } from '../recognition/consents';
import type { DicomwebAudit, StudyRead } from './audit';
import type { QidoAccess } from './qido-search';

/**
 * Who may read which study over DICOMweb: the organization holding it always; another with the
 * patient's consent in force, or in an emergency with the reason stated in X-Emergency-Reason
 * (flagged in the audit log). A study the caller may not read is absent from QIDO-RS answers
 * (neither returned nor counted, so limit and offset count readable studies only) and its
 * WADO-RS retrieval, metadata, frames and bulk data answer 403 `no-patient-authorization`.
 */

/** A study's side of an authorization: its UID, whose it is, and which organization holds it. */
export interface HeldStudy {
  studyUid: string;
  personId: number;
  organizationId: number;
}

/** The request's reading: the asker, one instant for all its decisions, the emergency reason if stated. */
export function readRequestOf(req: Request, res: Response): ReadRequest {
  if (!res.locals.reading) {
    const emergencyReason = emergencyReasonOf(req.get(EMERGENCY_HEADER));
    res.locals.reading = {
      askingOrganizationId: principalOf(res).organization.id,
      on: new Date(),
      emergencyReason,
      purpose: emergencyReason !== undefined ? 'emergency-treatment' : 'treatment',
    } satisfies ReadRequest;
  }
  return res.locals.reading as ReadRequest;
}

/** The studies with how each may be read: one query for every person not the asker's own. */
export async function authorizeStudies(db: Knex, req: Request, res: Response, studies: readonly HeldStudy[]): Promise<StudyRead[]> {
  const answers = await authorizationsFor(db, readRequestOf(req, res), studies.map((s) => ({ personId: s.personId, resultOrganizationId: s.organizationId })));
  return studies.map((s) => ({ studyUid: s.studyUid, personId: s.personId, authorization: answers.of(s.personId, s.organizationId) }));
}

function refusal(a: Authorization, studyUid: string) {
  const why = a.allowed ? '' : `${a.detail} (${a.reason})`;
  const hint = !a.allowed && a.reason !== 'not-a-care-provider' ? `; in an emergency, state the reason in the ${EMERGENCY_HEADER} header` : '';
  return forbidden(`no-patient-authorization: study ${studyUid} is held by another organization and needs the patient's authorization: ${why}${hint}`, { code: 'no-patient-authorization' });
}

/**
 * A retrieval of one study (or a series or instances of it): its authorization, or a refusal
 * audited as denied and answered 403 before anything is read from the blob store.
 */
export async function authorizeRetrieval(db: Knex, audit: DicomwebAudit, req: Request, res: Response, action: string, study: HeldStudy, detail: Record<string, unknown>): Promise<StudyRead> {
  const [read] = await authorizeStudies(db, req, res, [study]);
  if (!read!.authorization.allowed) {
    await audit.record(res, action, [read!], detail);
    throw refusal(read!.authorization, study.studyUid);
  }
  return read!;
}

/**
 * For a QIDO-RS search: the patient records among those a PatientID / PatientName matched that
 * the caller may read (refusals audited, one row per record's person), and the condition on
 * rows for a search not scoped to patients — none when an emergency read names its studies.
 */
export function qidoReader(db: Knex, audit: DicomwebAudit, req: Request, res: Response, action: string): QidoAccess {
  const read = readRequestOf(req, res);
  return {
    async readableRecords(records) {
      const answers = await authorizationsFor(db, read, records.map((r) => ({ personId: r.personId, resultOrganizationId: r.organizationId })));
      const refused = records.filter((r) => !answers.of(r.personId, r.organizationId).allowed);
      if (refused.length > 0) await audit.recordRefusedPatients(res, action, refused.map((r) => ({ personId: r.personId, authorization: answers.of(r.personId, r.organizationId) })));
      return records.filter((r) => answers.of(r.personId, r.organizationId).allowed).map((r) => r.id);
    },
    readable(named) {
      // an emergency read with a reason is allowed for every patient, except to the authority
      if (named && read.emergencyReason && principalOf(res).organization.kind !== 'authority') return undefined;
      return (columns) => readableBy(db, read, columns);
    },
  };
}
