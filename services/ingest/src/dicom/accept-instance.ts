import { createReadStream } from 'node:fs';
import { blobKeyFor } from '@hub/shared/blob';
import { isAcceptedTransferSyntax, storageSopClass, type InstanceHeader } from '@hub/shared/dicom';
import type { Knex } from '@hub/shared/db';
import { badInput, forbidden, isHubError, unsupported } from '@hub/shared/errors';
import type { Logger } from '@hub/shared/log';
import type { Accept, Accepted } from '../accept';
import { readHeaderOf } from './header-file';
import type { SpooledInstance } from './spool';
import { failureStatusOf, statusHex } from './status';
import { createStudyOwners } from './study-owners';
import { dicomSummary } from './summary';

export interface InstanceAcceptanceDeps {
  db: Knex;
  accept: Accept;
  idHashSecret: string;
  log: Logger;
}

/** Who sent an instance, through which door, and what the door already knows it must be. */
export interface InstanceSource {
  organizationId: number;
  door: 'c-store' | 'stow-rs';
  callingAeTitle?: string;
  /** STOW-RS to /studies/{study}: every instance must belong to this study. */
  studyInstanceUid?: string;
}

export interface InstanceUids {
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
}

export type InstanceOutcome =
  | ({ ok: true; outcome: Accepted['outcome']; acceptedId: number } & Required<InstanceUids>)
  | ({ ok: false; status: number; code: string; reason: string } & InstanceUids);

/** What is already accepted under one SOP Instance UID, looked up ahead (see AcceptInstance.lookAhead). */
export interface EarlierVersions {
  sopInstanceUid: string;
  rows: Promise<EarlierRow[]>;
}

interface EarlierRow {
  id: string | number;
  organization_id: string | number;
  data_set_sha256: string | null;
}

export interface AcceptInstance {
  (file: SpooledInstance, from: InstanceSource, earlier?: EarlierVersions): Promise<InstanceOutcome>;
  /**
   * Starts looking up the versions accepted under a SOP Instance UID the door already knows
   * (C-STORE names it in the command, before the data set arrives), so the look-up runs while
   * the data set is still on the wire. Used only if the data set names the same UID.
   */
  lookAhead(sopInstanceUid: string): EarlierVersions;
}

/**
 * The DICOM accept, behind both doors: read the header from the spooled Part-10 file, check
 * it (storable SOP class and transfer syntax, the study the door expects, the study held by
 * the sender's own organization), then hand the file to the one accept path. Every failure
 * becomes an outcome with its DICOM status; nothing here breaks the door's connection.
 */
export function createInstanceAcceptance(deps: InstanceAcceptanceDeps): AcceptInstance {
  const owners = createStudyOwners(deps.db);

  async function check(header: InstanceHeader, from: InstanceSource): Promise<void> {
    if (!storageSopClass(header.sopClassUid)) {
      throw unsupported(`SOP Class UID ${header.sopClassUid} is not a storage SOP class the hub accepts`, { code: 'sop-class-not-supported', location: '(0008,0016) SOP Class UID' });
    }
    if (!isAcceptedTransferSyntax(header.transferSyntaxUid)) {
      throw unsupported(`transfer syntax ${header.transferSyntaxUid} is not one the hub accepts`, { code: 'transfer-syntax-not-supported', location: '(0002,0010) Transfer Syntax UID' });
    }
    if (from.studyInstanceUid !== undefined && header.studyInstanceUid !== from.studyInstanceUid) {
      throw badInput(`the instance belongs to study ${header.studyInstanceUid}, not to ${from.studyInstanceUid} named in the request`, {
        code: 'study-instance-uid-mismatch',
        location: '(0020,000D) Study Instance UID',
      });
    }
    const owner = await owners.claim(header.studyInstanceUid, from.organizationId);
    if (owner !== from.organizationId) {
      throw forbidden(`study ${header.studyInstanceUid} is held by another organization; a hospital writes only its own studies`, {
        code: 'study-held-by-another-organization',
        location: '(0020,000D) Study Instance UID',
      });
    }
  }

  /**
   * The versions already accepted under this SOP Instance UID (few; served by
   * accepted_objects_identity_key). Another organization's instance of the same UID is refused;
   * the same data set through another door (other file meta) is the same push.
   */
  const lookAhead = (sopInstanceUid: string): EarlierVersions => {
    const rows = deps.db('accepted_objects')
      .where({ kind: 'dicom', identity: sopInstanceUid })
      .select('id', 'organization_id', deps.db.raw(`summary->>'dataSetSha256' as data_set_sha256`))
      .then((found) => found as EarlierRow[]);
    // awaited (or dropped with its data set) later: a failure now must not go unhandled
    rows.catch(() => undefined);
    return { sopInstanceUid, rows };
  };

  async function earlierVersions(header: InstanceHeader, from: InstanceSource, dataSetSha256: string | undefined, earlier: EarlierVersions | undefined): Promise<number | undefined> {
    const rows = await (earlier?.sopInstanceUid === header.sopInstanceUid ? earlier : lookAhead(header.sopInstanceUid)).rows;
    if (rows.some((r) => Number(r.organization_id) !== from.organizationId)) {
      throw forbidden(`SOP Instance UID ${header.sopInstanceUid} is held by another organization`, { code: 'instance-held-by-another-organization', location: '(0008,0018) SOP Instance UID' });
    }
    const same = dataSetSha256 === undefined ? undefined : rows.find((r) => r.data_set_sha256 === dataSetSha256);
    return same ? Number(same.id) : undefined;
  }

  const acceptInstance = async (file: SpooledInstance, from: InstanceSource, earlier?: EarlierVersions): Promise<InstanceOutcome> => {
    let header: InstanceHeader | undefined;
    try {
      header = await readHeaderOf(file);
      await check(header, from);
      const uids = { sopClassUid: header.sopClassUid, sopInstanceUid: header.sopInstanceUid, studyInstanceUid: header.studyInstanceUid, seriesInstanceUid: header.seriesInstanceUid };
      const sameDataSet = await earlierVersions(header, from, file.dataSetSha256, earlier);
      if (sameDataSet !== undefined) return { ok: true, outcome: 'duplicate', acceptedId: sameDataSet, ...uids };
      const accepted = await deps.accept({
        kind: 'dicom',
        organizationId: from.organizationId,
        identity: header.sopInstanceUid,
        source: from.door,
        blobKey: blobKeyFor('dicom', header.studyInstanceUid, header.seriesInstanceUid, header.sopInstanceUid, `${file.sha256}.dcm`),
        body: file.bytes ?? createReadStream(file.path, { highWaterMark: 1 << 20 }),
        // looked for just above, by the data set's hash, when the file meta says where the data set starts
        duplicateChecked: file.dataSetSha256 !== undefined,
        size: file.size,
        sha256: file.sha256,
        contentType: 'application/dicom',
        summary: dicomSummary(header, { idHashSecret: deps.idHashSecret, dataSetSha256: file.dataSetSha256, callingAeTitle: from.callingAeTitle }),
      });
      return { ok: true, outcome: accepted.outcome, acceptedId: accepted.acceptedId, ...uids };
    } catch (err) {
      const status = failureStatusOf(err);
      const known = isHubError(err);
      const code = known ? (err.detail.code ?? err.kind) : 'internal';
      if (known && err.kind !== 'Unavailable') deps.log.info({ door: from.door, organizationId: from.organizationId, status: statusHex(status), code }, 'DICOM instance refused');
      else deps.log.error({ door: from.door, organizationId: from.organizationId, status: statusHex(status), err }, 'DICOM instance could not be stored');
      const reason = known ? err.message : status === 0xa700 ? 'the hub cannot store the instance now; send it again later' : 'the hub failed to process the instance';
      return {
        ok: false,
        status,
        code,
        reason,
        ...(header && { sopClassUid: header.sopClassUid, sopInstanceUid: header.sopInstanceUid, studyInstanceUid: header.studyInstanceUid, seriesInstanceUid: header.seriesInstanceUid }),
      };
    }
  };
  return Object.assign(acceptInstance, { lookAhead });
}
