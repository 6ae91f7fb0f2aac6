import type { Request, Response } from 'express';
import type { BlobStore } from '@hub/shared/blob';
import type { Knex } from '@hub/shared/db';
import { TransferSyntax } from '@hub/shared/dicom';
import { badInput } from '@hub/shared/errors';
import type { Logger } from '@hub/shared/log';
import { negotiate, type Offer } from './accept';
import { authorizeRetrieval } from './access';
import type { DicomwebAudit } from './audit';
import { frameMediaType, frameSource, openFrame } from './frames';
import { instancesOf, targetUrl, type StoredInstance, type Target } from './instances';
import { sendMultipart, sendSingle, write, type Part } from './multipart';
import { notAcceptable } from './respond';

export interface WadoDeps {
  db: Knex;
  blob: BlobStore;
  audit: DicomwebAudit;
  log: Logger;
  /** `${publicUrl}/dicomweb` */
  base: string;
}

const targetOf = (req: Request): Target => ({ study: String(req.params.study), series: req.params.series as string | undefined, instance: req.params.instance as string | undefined });
const heldOf = (i: StoredInstance) => ({ studyUid: i.study_uid, personId: i.person_id, organizationId: i.organization_id });
const detailOf = (t: Target) => ({ ...(t.series ? { series: t.series } : {}), ...(t.instance ? { instance: t.instance } : {}) });

/** A failure after the first byte can only cut the answer short; it is logged, not hidden. */
async function streaming(res: Response, log: Logger, send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (err) {
    if (!res.headersSent) throw err;
    log.error({ err, requestId: res.locals.requestId }, 'DICOMweb answer cut short');
    res.destroy();
  }
}

/**
 * WADO-RS retrieval (PS3.18 10.4) of a study, series or instance: the stored objects as
 * they were pushed, byte for byte, as multipart/related; type="application/dicom" (or one
 * instance as application/dicom), each streamed from the blob store in turn.
 */
export function retrieveHandler(deps: WadoDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const target = targetOf(req);
    const instances = await instancesOf(deps.db, target);
    const study = await authorizeRetrieval(deps.db, deps.audit, req, res, 'dicomweb-retrieve', heldOf(instances[0]!), detailOf(target));
    const offer: Offer = { partType: 'application/dicom', singlePart: target.instance !== undefined, transferSyntaxes: [...new Set(instances.map((i) => i.transfer_syntax_uid))] };
    const chosen = negotiate(req.get('accept'), [offer]);
    if (!chosen) return notAcceptable(res, `the hub sends instances as stored (transfer syntax ${offer.transferSyntaxes.join(', ')}), as multipart/related; type="application/dicom"`);
    await deps.audit.record(res, 'dicomweb-retrieve', [study], { ...detailOf(target), instances: instances.length });
    const parts: Part[] = instances.map((i) => ({
      headers: {
        'Content-Type': `application/dicom; transfer-syntax=${i.transfer_syntax_uid}`,
        'Content-Length': String(i.size),
        'Content-Location': targetUrl(deps.base, { study: i.study_uid, series: i.series_uid, instance: i.sop_instance_uid }),
      },
      open: () => deps.blob.get(i.blob_key),
    }));
    await streaming(res, deps.log, () => (chosen.multipart ? sendMultipart(res, 'application/dicom', parts) : sendSingle(res, 'application/dicom', parts[0]!)));
  };
}

const METADATA_CHUNK = 200;

/**
 * WADO-RS metadata (PS3.18 10.4.1.1.2): the DICOM JSON of each instance, rebuilt from its
 * series' base and its own difference (migration 0004), read and written in chunks so a
 * large study is never one buffer. Bulk values get BulkDataURIs of this instance; native
 * pixel data one too; encapsulated pixel data is left out (its frames are under /frames).
 */
export function metadataHandler(deps: WadoDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const target = targetOf(req);
    const instances = await instancesOf(deps.db, target);
    const study = await authorizeRetrieval(deps.db, deps.audit, req, res, 'dicomweb-metadata', heldOf(instances[0]!), detailOf(target));
    if (!negotiate(req.get('accept'), [{ partType: 'application/dicom+json', singlePart: true, transferSyntaxes: [] }, { partType: 'application/json', singlePart: true, transferSyntaxes: [] }])) {
      return notAcceptable(res, 'metadata is served as application/dicom+json');
    }
    await deps.audit.record(res, 'dicomweb-metadata', [study], { ...detailOf(target), instances: instances.length });
    res.status(200).type('application/dicom+json');
    let first = true;
    await streaming(res, deps.log, async () => {
      if (!(await write(res, '['))) return;
      for (let k = 0; k < instances.length; k += METADATA_CHUNK) {
        const chunk = instances.slice(k, k + METADATA_CHUNK);
        const { rows } = await deps.db.raw(
          `select i.id, jsonb_strip_nulls(se.metadata_base || m.attributes)::text as json
           from instances i join series se on se.id = i.series_id join instance_metadata m on m.instance_id = i.id
           where i.id = any (?)`,
          [chunk.map((i) => i.id)],
        );
        const byId = new Map((rows as Array<{ id: number; json: string }>).map((r) => [r.id, r.json]));
        const texts = chunk.filter((i) => byId.has(i.id)).map((i) => withUris(byId.get(i.id)!, i, deps.base));
        for (const text of texts) {
          if (!(await write(res, first ? text : `,${text}`))) return;
          first = false;
        }
      }
      res.end(']');
    });
  };
}

/** Turns the index's bulk markers into BulkDataURIs of the instance and adds native pixel data's. */
function withUris(json: string, i: StoredInstance, base: string): string {
  const url = targetUrl(base, { study: i.study_uid, series: i.series_uid, instance: i.sop_instance_uid });
  let text = json.replace(/"BulkDataURI": "bulk:(\d+):(\d+)"/g, (_m, offset, length) => `"BulkDataURI": "${url}/bulkdata/${offset}-${length}"`);
  if (i.pixel_data_offset !== null && !i.pixel_data_encapsulated && i.pixel_data_length !== null) {
    const pixel = `"7FE00010": {"vr": "${(i.bits_allocated ?? 16) > 8 ? 'OW' : 'OB'}", "BulkDataURI": "${url}/bulkdata/${i.pixel_data_offset}-${i.pixel_data_length}"}`;
    text = text === '{}' ? `{${pixel}}` : `${text.slice(0, -1)}, ${pixel}}`;
  }
  return text;
}

/**
 * Frames (PS3.18 10.4.1.1.4): native frames as application/octet-stream in explicit VR
 * little endian, compressed ones as stored, in application/octet-stream or their image
 * media type; each part read from the stored object by range.
 */
export function framesHandler(deps: WadoDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const target = targetOf(req);
    const [instance] = await instancesOf(deps.db, target);
    const study = await authorizeRetrieval(deps.db, deps.audit, req, res, 'dicomweb-frames', heldOf(instance!), detailOf(target));
    const source = await frameSource(deps.blob, instance!, String(req.params.frames));
    const offers: Offer[] = instance!.pixel_data_encapsulated
      ? [
          { partType: 'application/octet-stream', transferSyntaxes: [source.transferSyntaxUid], singlePart: source.frames.length === 1 },
          { partType: frameMediaType(source.transferSyntaxUid), transferSyntaxes: [source.transferSyntaxUid], singlePart: source.frames.length === 1 },
        ]
      : [{ partType: 'application/octet-stream', transferSyntaxes: [instance!.transfer_syntax_uid], alsoAs: TransferSyntax.ExplicitVrLittleEndian, singlePart: source.frames.length === 1 }];
    const chosen = negotiate(req.get('accept'), offers);
    if (!chosen) return notAcceptable(res, `frames are sent as stored (transfer syntax ${source.transferSyntaxUid}) as ${offers.map((o) => o.partType).join(' or ')}`);
    await deps.audit.recordOnce(res, 'dicomweb-frames', study, detailOf(target));
    const parts: Part[] = source.frames.map((ranges) => ({
      headers: {
        'Content-Type': `${chosen.partType}; transfer-syntax=${source.transferSyntaxUid}`,
        'Content-Length': String(ranges.reduce((n, r) => n + r.end - r.start + 1, 0)),
      },
      open: async () => openFrame(deps.blob, instance!.blob_key, ranges),
    }));
    await streaming(res, deps.log, () => (chosen.multipart ? sendMultipart(res, chosen.partType, parts) : sendSingle(res, chosen.partType, parts[0]!)));
  };
}

/** A bulk value of an instance, by the offset and length its BulkDataURI names. */
export function bulkdataHandler(deps: WadoDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const target = targetOf(req);
    const [instance] = await instancesOf(deps.db, target);
    const study = await authorizeRetrieval(deps.db, deps.audit, req, res, 'dicomweb-bulkdata', heldOf(instance!), detailOf(target));
    const m = String(req.params.range).match(/^(\d{1,15})-(\d{1,15})$/);
    const start = Number(m?.[1]);
    const length = Number(m?.[2]);
    if (!m || length === 0 || start + length > instance!.size) throw badInput(`bulk data "${String(req.params.range).slice(0, 40)}" is not a value of this instance`, { code: 'invalid-bulkdata' });
    const chosen = negotiate(req.get('accept'), [{ partType: 'application/octet-stream', singlePart: true, transferSyntaxes: [instance!.transfer_syntax_uid], alsoAs: TransferSyntax.ExplicitVrLittleEndian }]);
    if (!chosen) return notAcceptable(res, 'bulk data is sent as application/octet-stream');
    await deps.audit.recordOnce(res, 'dicomweb-bulkdata', study, detailOf(target));
    const part: Part = {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(length) },
      open: () => deps.blob.get(instance!.blob_key, { start, end: start + length - 1 }),
    };
    await streaming(res, deps.log, () => (chosen.multipart ? sendMultipart(res, 'application/octet-stream', [part]) : sendSingle(res, 'application/octet-stream', part)));
  };
}
