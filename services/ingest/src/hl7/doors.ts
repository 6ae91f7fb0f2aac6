import { readFile } from 'node:fs/promises';
import type { Express } from 'express';
import type { Hub } from '@hub/shared/runtime';
import type { Accept } from '../accept';
import { createBatchAccept } from '../accept-batch';
import { createFhirIntakeRouter } from '../fhir/intake';
import { createMllpListener, type MllpListener } from '../mllp/listener';
import { createSenderDirectory } from '../mllp/senders';
import { createHl7HttpRouter, HL7_HTTP_PATH } from './http';
import { createHl7Receiver } from './receive';

export interface LabDoors {
  mount(app: Express): void;
  /** Starts the MLLP listener; returns the banner lines saying where to point an LIS. */
  start(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * The lab doors: HL7 v2 over MLLP and over HTTP (one receiver), and FHIR Bundle intake.
 * HL7 v2 messages are small and come by the thousand a second, so they take the batched
 * accept path (group commit across connections, one segment object per batch); a FHIR
 * Bundle may be large and takes the single path.
 */
export function createLabDoors(hub: Hub, accept: Accept): LabDoors {
  const { config, log } = hub;
  const batch = createBatchAccept({ db: hub.db, blob: hub.blob, log, metrics: hub.metrics });
  const receive = createHl7Receiver({ accept: batch.accept, idHashSecret: hub.idHashSecret, log, metrics: hub.metrics });
  let mllp: MllpListener | undefined;

  return {
    mount(app) {
      app.use(createHl7HttpRouter({ receive }));
      app.use(createFhirIntakeRouter({ db: hub.db, accept, idHashSecret: hub.idHashSecret, log }));
    },
    async start() {
      const tls = config.mllp.tls;
      mllp = createMllpListener({
        host: config.mllp.host,
        port: config.mllp.port,
        receive,
        senders: createSenderDirectory(hub.db),
        log,
        ...(tls
          ? { tls: { cert: await readFile(tls.certFile), key: await readFile(tls.keyFile), ...(tls.caFile ? { ca: await readFile(tls.caFile), requestCert: true, rejectUnauthorized: true } : {}) } }
          : {}),
      });
      const port = await mllp.start();
      const host = ['0.0.0.0', '::'].includes(config.mllp.host) ? 'localhost' : config.mllp.host;
      const over = tls ? (tls.caFile ? ' over mutual TLS' : ' over TLS') : '';
      return [
        `HL7 v2 MLLP        ${host}:${port}${over}  (ORU^R01, ADT A01/A04/A08/A40; senders by MSH-4 and address: npm run admin -- hl7 add)`,
        `HL7 v2 over HTTP   POST ${config.publicUrl}${HL7_HTTP_PATH}  (x-application/hl7-v2+er7; FHIR Bundles: POST ${config.publicUrl}/fhir; scope results:write)`,
      ];
    },
    async stop() {
      await mllp?.stop(config.shutdownGraceMs);
      mllp = undefined;
      await batch.stop();
    },
  };
}
