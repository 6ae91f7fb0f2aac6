import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { Dataset, Scp, constants, responses, type association, type requests } from 'dcmjs-dimse';
import { encodeFileMeta, storageSopClass } from '@hub/shared/dicom';
import type { Logger } from '@hub/shared/log';
import { DicomStatus, statusHex, type AcceptInstance, type EarlierVersions, type Spool, type SpoolWriter } from '../dicom';
import type { SenderCheck } from './senders';
import { chooseTransferSyntax } from './transfer-syntax';

const { PresentationContextResult, RejectResult, RejectSource, RejectReason, SopClass, Status } = constants;
const { CEchoResponse, CStoreResponse } = responses;

export interface ScpDeps {
  /** The hub's own (called) AE title. */
  aeTitle: string;
  identifySender(callingAeTitle: string, peerAddress: string | undefined): Promise<SenderCheck>;
  acceptInstance: AcceptInstance;
  spool: Spool;
  log: Logger;
  /** The largest PDU the hub receives; it bounds what one association holds in memory. */
  maxPduLength: number;
}

/** Error Comment (0000,0902) is an LO: 64 characters of the default repertoire. */
const errorComment = (text: string) => text.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
const SPOOLED = Symbol('spooled instance');
const EARLIER = Symbol('earlier versions');
type StoreRequest = requests.CStoreRequest & { [SPOOLED]?: SpoolWriter; [EARLIER]?: EarlierVersions };

/**
 * One association with a PACS, on dcmjs-dimse's Scp. The caller is bound to its organization
 * by its calling AE title (and source address) before anything is accepted. Each C-STORE
 * data set streams from the PDUs into a spool file, behind a file meta made from the
 * presentation context (so the stored object is a proper Part-10 file of the bytes as
 * received), and is answered with its own status: a bad instance never ends the association.
 */
export function scpFor(deps: ScpDeps) {
  return class HubScp extends Scp {
    private organizationId: number | undefined;
    private callingAeTitle = '';
    private receiving: SpoolWriter | undefined;

    constructor(socket: Socket, options?: ConstructorParameters<typeof Scp>[1]) {
      super(socket, options);
      socket.once('close', () => void this.receiving?.discard());
    }

    private get peer(): Socket {
      return (this as unknown as { socket: Socket }).socket;
    }

    private refuse(result: number, source: number, reason: number, why: string) {
      deps.log.info({ callingAeTitle: this.callingAeTitle, peer: this.peer.remoteAddress, why }, 'DICOM association rejected');
      this.sendAssociationReject(result, source, reason);
      this.peer.end();
    }

    override associationRequested(assoc: association.Association): void {
      void this.negotiate(assoc);
    }

    private async negotiate(assoc: association.Association) {
      this.callingAeTitle = assoc.getCallingAeTitle().trim();
      if (assoc.getCalledAeTitle().trim() !== deps.aeTitle) {
        return this.refuse(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized, `called AE title "${assoc.getCalledAeTitle().trim()}" is not ${deps.aeTitle}`);
      }
      let sender: SenderCheck;
      try {
        sender = await deps.identifySender(this.callingAeTitle, this.peer.remoteAddress);
      } catch (err) {
        deps.log.error({ err }, 'DICOM sender look-up failed');
        // Transient, from the presentation layer: "temporary congestion", try again later.
        return this.refuse(RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.TemporaryCongestion, 'sender look-up failed');
      }
      if (!sender.ok) return this.refuse(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized, sender.reason);
      this.organizationId = sender.organizationId;

      for (const { context } of assoc.getPresentationContexts()) {
        const abstract = context.getAbstractSyntaxUid();
        const verification = abstract === SopClass.Verification;
        if (!verification && !storageSopClass(abstract)) {
          context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
          continue;
        }
        const ts = chooseTransferSyntax(context.getTransferSyntaxUids(), verification);
        if (ts) context.setResult(PresentationContextResult.Accept, ts);
        else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      }
      assoc.setMaxPduLength(deps.maxPduLength);
      deps.log.info({ callingAeTitle: this.callingAeTitle, organization: sender.organizationCode }, 'DICOM association accepted');
      this.sendAssociationAccept();
    }

    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }

    override abort(): void {
      this.peer.end();
    }

    override cEchoRequest(request: requests.CEchoRequest, callback: (response: responses.CEchoResponse) => void): void {
      const response = CEchoResponse.fromRequest(request);
      response.setStatus(Status.Success);
      callback(response);
    }

    /** Where the data set of a C-STORE goes as its PDUs arrive: a spool file that starts with the file meta. */
    override createStoreWritableStream(context: association.PresentationContext, request: requests.CStoreRequest): Writable {
      const meta = encodeFileMeta({
        sopClassUid: request.getAffectedSopClassUid(),
        sopInstanceUid: request.getAffectedSopInstanceUid(),
        transferSyntaxUid: context.getAcceptedTransferSyntaxUid()!,
      });
      const prefix = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), meta]);
      const writer = deps.spool.create({ dataSetAt: prefix.length });
      writer.write(prefix);
      (request as StoreRequest)[SPOOLED] = writer;
      // the versions already accepted under this UID, looked up while the data set arrives
      if (this.organizationId !== undefined) (request as StoreRequest)[EARLIER] = deps.acceptInstance.lookAhead(request.getAffectedSopInstanceUid());
      this.receiving = writer;
      return this.withBackpressure(writer);
    }

    /**
     * dcmjs-dimse waits for 'drain' only on the first write of a data set; later PDUs are
     * written regardless. So the socket itself is paused while the spool file catches up:
     * the sender is slowed by TCP, and at most one PDU per association sits in memory.
     */
    private withBackpressure(writer: SpoolWriter): Writable {
      const socket = this.peer;
      const write = writer.write.bind(writer) as (chunk: Buffer) => boolean;
      let paused = false;
      const resume = () => {
        if (!paused) return;
        paused = false;
        socket.resume();
      };
      writer.on('drain', resume);
      writer.on('error', resume);
      writer.on('close', resume);
      (writer as unknown as { write: (chunk: Buffer) => boolean }).write = (chunk: Buffer) => {
        if (!write(chunk) && !paused && !writer.destroyed) {
          paused = true;
          socket.pause();
        }
        return true;
      };
      return writer;
    }

    override createDatasetFromStoreWritableStream(writable: Writable, _context: association.PresentationContext, callback: (dataset: Dataset) => void): void {
      // The data set is on disk; dcmjs-dimse gets an empty stand-in and never parses the bytes.
      (writable as SpoolWriter).finished().then(
        () => callback(new Dataset()),
        () => callback(new Dataset()),
      );
    }

    override cStoreRequest(request: requests.CStoreRequest, callback: (response: responses.CStoreResponse) => void): void {
      void this.store(request as StoreRequest).then(callback);
    }

    private async store(request: StoreRequest): Promise<responses.CStoreResponse> {
      const response = CStoreResponse.fromRequest(request);
      const writer = request[SPOOLED];
      const earlier = request[EARLIER];
      delete request[SPOOLED];
      delete request[EARLIER];
      try {
        if (!writer || this.organizationId === undefined) throw new Error('C-STORE without a data set');
        const file = await writer.finished().catch((err: unknown) => {
          deps.log.error({ err }, 'C-STORE spool failed');
          return undefined;
        });
        if (!file) {
          response.setStatus(DicomStatus.OutOfResources);
          response.setErrorComment(errorComment('the hub cannot take the instance now; retry later'));
          return response;
        }
        const outcome = await deps.acceptInstance(file, { organizationId: this.organizationId, door: 'c-store', callingAeTitle: this.callingAeTitle }, earlier);
        if (outcome.ok) {
          response.setStatus(Status.Success);
        } else {
          response.setStatus(outcome.status);
          response.setErrorComment(errorComment(`${statusHex(outcome.status)} ${outcome.code}: ${outcome.reason}`));
        }
      } catch (err) {
        deps.log.error({ err }, 'C-STORE failed');
        response.setStatus(DicomStatus.ProcessingFailure);
        response.setErrorComment(errorComment('processing failure'));
      } finally {
        if (this.receiving === writer) this.receiving = undefined;
        await writer?.discard();
      }
      return response;
    }
  };
}
