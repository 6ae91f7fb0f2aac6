import type { Hub, ServicePart } from '@hub/shared/runtime';
import { createAccept } from './accept';
import { createDicomDoors } from './dicom-doors';
import { createLabDoors } from './hl7/doors';

/**
 * The doors hospitals push through (STOW-RS, C-STORE, MLLP, FHIR intake). Every door ends in
 * one accept path: store the object, record its row, then acknowledge.
 */
export function createIngestService(hub: Hub): ServicePart {
  const accept = createAccept({ db: hub.db, blob: hub.blob, log: hub.log, metrics: hub.metrics });
  const dicom = createDicomDoors(hub, accept);
  const lab = createLabDoors(hub, accept);
  return {
    name: 'ingest',
    mount(app) {
      dicom.mount(app);
      lab.mount(app);
    },
    start: async () => [...(await dicom.start()), ...(await lab.start())],
    stop: async () => {
      await lab.stop();
      await dicom.stop();
    },
  };
}

export { listDicomSenders, registerDicomSender, removeDicomSender, type DicomSender } from './dimse/senders';
export { addHl7Sender, listHl7Senders, removeHl7Sender, type Hl7Sender } from './mllp/senders';
export { labSubmissionOf } from './hl7/map';
