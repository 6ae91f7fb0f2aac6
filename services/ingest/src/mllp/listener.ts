import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { ackErrorFromHubError, buildAckForUnparseable, DEFAULT_MAX_FRAME_BYTES, frame, MllpDecoder } from '@hub/shared/hl7';
import type { HubError } from '@hub/shared/errors';
import type { Logger } from '@hub/shared/log';
import { ERR } from '../hl7/problems';
import type { Hl7Receiver } from '../hl7/receive';
import type { SenderDirectory } from './senders';

export interface MllpListenerOptions {
  host: string;
  port: number;
  receive: Hl7Receiver;
  senders: SenderDirectory;
  log: Logger;
  /** A connection with no traffic this long is closed (a stalled sender frees its slot). */
  idleTimeoutMs?: number;
  maxFrameBytes?: number;
  maxConnections?: number;
  /** Frames read ahead of their ACKs before the socket is paused (bounds memory per sender; default 64). */
  maxPendingFrames?: number;
  /**
   * MLLP over TLS: key and certificate of the hub; with `requestCert` and `ca`, only LIS
   * holding a certificate from that CA get in (mutual TLS, a sender binding stronger than
   * its address).
   */
  tls?: TlsOptions;
}

export interface MllpListener {
  /** Listens; resolves with the port (useful with port 0). */
  start(): Promise<number>;
  /** Stops accepting, lets each connection finish the message in hand, closes the rest after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

type Work = { kind: 'message'; bytes: Buffer } | { kind: 'refusal'; error: HubError };

/**
 * The HL7 v2 MLLP door. Each connection is read by its own decoder and answered strictly
 * in order, one ACK per frame, each sent only once the message is durable (or refused).
 * A connection pipelines: the frames a sender writes ahead are read and handed to accept
 * one after the other (in order, so a correction is recorded after what it corrects) without
 * waiting for the ACKs before them, which lets one group commit carry many of them; at most
 * `maxPendingFrames` wait for their ACKs before the socket is paused. Connections never wait
 * on each other: a slow or stalled sender holds only its own socket, until the idle timeout
 * closes it; a frame over the size limit is skipped and refused.
 */
export function createMllpListener(options: MllpListenerOptions): MllpListener {
  const { log } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
  const maxPending = options.maxPendingFrames ?? 64;
  const connections = new Map<Socket, { idle: () => boolean }>();
  let server: Server | undefined;
  let stopping = false;

  function serve(socket: Socket): void {
    const remote = socket.remoteAddress ?? '';
    // ACKs to send, in frame order; each resolves when its message is durable or refused
    const acks: Promise<Buffer>[] = [];
    let writing = false;
    let ended = false;
    // frames are admitted one after the other: accept sees them in the order they came
    let admitted: Promise<unknown> = Promise.resolve();
    const finishIfDone = () => {
      if ((ended || stopping) && acks.length === 0 && !socket.destroyed) socket.end();
    };
    connections.set(socket, { idle: () => acks.length === 0 });

    const take = (work: Work) => {
      const ack = admitted.then(() => admit(work));
      admitted = ack.catch(() => undefined);
      acks.push(ack.then((a) => a.ack).catch((err) => internalError(work, err)));
      if (acks.length > maxPending) socket.pause();
      void writeAcks();
    };

    const decoder = new MllpDecoder({
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      onFrame: (bytes) => take({ kind: 'message', bytes }),
      onError: (error) => {
        log.info({ remote, code: error.detail.code }, 'MLLP frame dropped');
        // A frame too large still gets its AR, so the sender does not wait for an ACK that
        // never comes; a restarted or truncated frame has no one waiting for it.
        if (error.detail.code === 'mllp-frame-too-large') take({ kind: 'refusal', error });
      },
      onDiscard: (count) => log.debug({ remote, count }, 'bytes outside MLLP frames skipped'),
    });

    /** Writes ACKs as they become ready, strictly in frame order. */
    async function writeAcks(): Promise<void> {
      if (writing) return;
      writing = true;
      try {
        while (acks.length > 0 && !socket.destroyed) {
          const ack = await acks[0]!;
          acks.shift();
          if (!socket.destroyed) socket.write(frame(ack));
          if (socket.isPaused() && acks.length <= maxPending / 2 && !stopping) socket.resume();
        }
      } finally {
        writing = false;
      }
      finishIfDone();
    }

    /** Reads and hands over one frame; resolves once handed over, with its ACK to come. */
    async function admit(work: Work): Promise<{ ack: Promise<Buffer> }> {
      if (work.kind === 'refusal') {
        return { ack: Promise.resolve(Buffer.from(buildAckForUnparseable('', { controlId: 'HUB-REFUSED', errors: [ackErrorFromHubError(work.error)] }), 'utf8')) };
      }
      const admitted = await options.receive.admit(work.bytes, { source: 'mllp', organizationFor: (message) => options.senders.resolve(message, remote) });
      return { ack: admitted.ack.then((received) => received.ack) };
    }

    function internalError(work: Work, err: unknown): Buffer {
      // A bug must not cost the sender its connection (and the messages queued behind it).
      log.error({ remote, err }, 'MLLP message failed');
      const text = buildAckForUnparseable(work.kind === 'message' ? work.bytes : '', { controlId: 'HUB-ERROR', errors: [{ code: ERR.internal, message: 'application internal error' }] });
      return Buffer.from(text, 'utf8');
    }

    socket.setNoDelay(true);
    socket.setTimeout(idleTimeoutMs, () => {
      // Idle means no bytes either way; a message still being stored is not idleness.
      if (acks.length > 0) return;
      log.info({ remote }, 'MLLP connection idle; closing');
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('end', () => {
      ended = true;
      decoder.end();
      finishIfDone();
    });
    socket.on('error', (err) => log.debug({ remote, err }, 'MLLP connection error'));
    socket.on('close', () => connections.delete(socket));
  }

  return {
    start() {
      return new Promise((resolve, reject) => {
        // Half-open: a sender may write its batch and close its side at once; the ACKs still go out.
        server = options.tls ? createTlsServer({ ...options.tls, allowHalfOpen: true }, serve) : createServer({ allowHalfOpen: true }, serve);
        server.maxConnections = options.maxConnections ?? 512;
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server!.off('error', reject);
          server!.on('error', (err) => log.error({ err }, 'MLLP listener error'));
          server!.on('tlsClientError', (err) => log.info({ err }, 'MLLP TLS handshake refused'));
          resolve((server!.address() as { port: number }).port);
        });
      });
    },
    async stop(graceMs = 5000) {
      stopping = true;
      const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      for (const [socket, state] of connections) if (state.idle()) socket.end();
      const timer = setTimeout(() => {
        for (const socket of connections.keys()) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
