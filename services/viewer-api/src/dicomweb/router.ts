import { Router } from 'express';
import { requireScope } from '@hub/shared/auth';
import type { BlobStore } from '@hub/shared/blob';
import type { Knex } from '@hub/shared/db';
import type { Logger } from '@hub/shared/log';
import { createDicomwebAudit } from './audit';
import { qidoHandler } from './qido';
import { checkUids } from './respond';
import { bulkdataHandler, framesHandler, metadataHandler, retrieveHandler } from './wado';

export const DICOMWEB_PATH = '/dicomweb';

export interface DicomwebRouterDeps {
  db: Knex;
  blob: BlobStore;
  log: Logger;
  /** The hub's public base URL; RetrieveURLs and BulkDataURIs are made from it. */
  publicUrl: string;
}

/**
 * DICOMweb for viewers (PS3.18): QIDO-RS searches and WADO-RS retrieval, metadata, frames
 * and bulk data under /dicomweb, every route behind `results:read` and audited per study.
 * STOW-RS (POST) is the ingest service's door on the same paths. CORS for browser viewers is
 * the HTTP app's (HUB_CORS_ORIGINS), as it must answer before authentication.
 */
export function createDicomwebRouter(deps: DicomwebRouterDeps): Router {
  const router = Router();
  const base = `${deps.publicUrl}${DICOMWEB_PATH}`;
  const audit = createDicomwebAudit(deps.db);
  const qido = { db: deps.db, audit, base };
  const wado = { db: deps.db, blob: deps.blob, audit, log: deps.log.child({ door: 'dicomweb' }), base };
  const read = [requireScope('results:read'), checkUids];

  const study = `${DICOMWEB_PATH}/studies/:study`;
  const series = `${study}/series/:series`;
  const instance = `${series}/instances/:instance`;

  router.get(`${DICOMWEB_PATH}/studies`, ...read, qidoHandler(qido, 'study'));
  router.get(`${DICOMWEB_PATH}/series`, ...read, qidoHandler(qido, 'series'));
  router.get(`${DICOMWEB_PATH}/instances`, ...read, qidoHandler(qido, 'instance'));
  router.get(`${study}/series`, ...read, qidoHandler(qido, 'series'));
  router.get(`${study}/instances`, ...read, qidoHandler(qido, 'instance'));
  router.get(`${series}/instances`, ...read, qidoHandler(qido, 'instance'));

  for (const path of [study, series, instance]) {
    router.get(path, ...read, retrieveHandler(wado));
    router.get(`${path}/metadata`, ...read, metadataHandler(wado));
  }
  router.get(`${instance}/frames/:frames`, ...read, framesHandler(wado));
  router.get(`${instance}/bulkdata/:range`, ...read, bulkdataHandler(wado));
  return router;
}
