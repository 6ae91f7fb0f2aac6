import path from 'node:path';
import type { Express } from 'express';
import type { Hub } from '@hub/shared/runtime';
import type { Accept } from './accept';
import { createInstanceAcceptance, createSpool } from './dicom';
import { identifySender } from './dimse/senders';
import { startDimseServer, type DimseServer } from './dimse/server';
import { createStowRouter } from './stow/router';

export interface DicomDoors {
  mount(app: Express): void;
  /** Starts the C-STORE SCP; returns the banner lines saying where to point a PACS. */
  start(): Promise<string[]>;
  stop(): Promise<void>;
}

/** The two DICOM doors, C-STORE (DIMSE) and STOW-RS, over one DICOM accept and one spool folder. */
export function createDicomDoors(hub: Hub, accept: Accept): DicomDoors {
  const { config, log } = hub;
  const spool = createSpool(path.join(config.dataDir, 'spool', 'dicom'), config.dicom.spoolMemoryBytes);
  const acceptInstance = createInstanceAcceptance({ db: hub.db, accept, idHashSecret: hub.idHashSecret, log });
  let dimse: DimseServer | undefined;

  return {
    mount(app) {
      app.use(createStowRouter({ acceptInstance, spool, publicUrl: config.publicUrl, log }));
    },
    async start() {
      // Spool files of a process that died mid-transfer were never acknowledged: the sender sends them
      // again. Only files untouched for a while go, in case another process shares the data folder.
      const swept = await spool.sweep(15 * 60 * 1000);
      if (swept > 0) log.info({ swept }, 'removed unfinished DICOM spool files');
      dimse = await startDimseServer({
        host: config.dicom.host,
        port: config.dicom.port,
        aeTitle: config.dicom.aeTitle,
        identifySender: (ae, address) => identifySender(hub.db, ae, address),
        acceptInstance,
        spool,
        log,
      });
      const host = ['0.0.0.0', '::'].includes(config.dicom.host) ? 'localhost' : config.dicom.host;
      return [
        `DICOM C-STORE      ${host}:${dimse.port}  called AE title ${config.dicom.aeTitle}  (C-ECHO too; calling AE titles: npm run admin -- ae add)`,
        `DICOMweb STOW-RS   POST ${config.publicUrl}/dicomweb/studies  (multipart/related; type="application/dicom", scope results:write)`,
      ];
    },
    async stop() {
      await dimse?.close(config.shutdownGraceMs);
      dimse = undefined;
    },
  };
}
