import { Client, Dataset, requests } from 'dcmjs-dimse';

/**
 * Test support: a C-STORE SCU that sends data set bytes exactly as given (truncated, not DICOM,
 * naming another SOP class than the command …), which DCMTK's storescu refuses to do. Built on
 * dcmjs-dimse's Client with a data set whose encoding is the raw bytes; implicit VR little
 * endian, the transfer syntax that client proposes first.
 */
export interface RawInstance {
  sopClassUid: string;
  sopInstanceUid: string;
  /** The data set as the C-STORE carries it, implicit VR little endian. */
  bytes: Buffer;
}

export interface StoreResult {
  status: number;
  errorComment?: string;
}

class RawDataset extends Dataset {
  constructor(private readonly bytes: Buffer) {
    super({}, '1.2.840.10008.1.2');
  }
  override getDenaturalizedDataset(): Buffer {
    return this.bytes;
  }
}

export type AssociationResult = { rejected: { result: number; source: number; reason: number } } | { results: StoreResult[] };

/** Sends every instance on one association; resolves with each C-STORE status, or the rejection. */
export function rawStore(port: number, callingAeTitle: string, calledAeTitle: string, instances: RawInstance[], options: { echoFirst?: boolean } = {}): Promise<AssociationResult> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const results: StoreResult[] = [];
    if (options.echoFirst) client.addRequest(new requests.CEchoRequest());
    for (const [i, instance] of instances.entries()) {
      const request = new requests.CStoreRequest(new RawDataset(instance.bytes));
      request.setAffectedSopClassUid(instance.sopClassUid);
      request.setAffectedSopInstanceUid(instance.sopInstanceUid);
      request.on('response', (response) => {
        // dcmjs-dimse reads a response command on top of the previous one (it keeps its buffer
        // after a message without data set), so a success can show the last failure's comment.
        const status = response.getStatus();
        results[i] = status === 0 ? { status } : { status, errorComment: (response as unknown as { getErrorComment(): string | undefined }).getErrorComment() };
      });
      client.addRequest(request);
    }
    let rejected: { result: number; source: number; reason: number } | undefined;
    client.on('associationRejected', (r: { result: number; source: number; reason: number }) => (rejected = r));
    client.on('networkError', reject);
    client.on('closed', () => resolve(rejected ? { rejected } : { results }));
    client.send('127.0.0.1', port, callingAeTitle, calledAeTitle);
  });
}
