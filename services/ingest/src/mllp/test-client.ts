import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { frame, MllpDecoder, parseMessage, type Message } from '@hub/shared/hl7';

/**
 * A plain MLLP sender over a real TCP socket, as an LIS interface engine is one: for the
 * tests and the benchmark. `send` writes any number of frames in one write (a batch);
 * `acks` waits for that many ACKs, in arrival order.
 */
export interface MllpTestClient {
  socket: Socket;
  send(...messages: Array<string | Buffer>): void;
  /** Raw bytes, framing included or not: for garbage and stalled frames. */
  write(bytes: Buffer | string): void;
  acks(count: number, timeoutMs?: number): Promise<Message[]>;
  /** The raw ACK bytes, for checking their character set. */
  rawAcks(count: number, timeoutMs?: number): Promise<Buffer[]>;
  closed: Promise<void>;
  close(): Promise<void>;
}

export async function mllpTestClient(port: number, host = '127.0.0.1', tls?: ConnectionOptions): Promise<MllpTestClient> {
  const socket = tls ? connectTls({ port, host, ...tls }) : connect({ port, host });
  await new Promise<void>((resolve, reject) => {
    socket.once(tls ? 'secureConnect' : 'connect', resolve);
    socket.once('error', reject);
  });
  const received: Buffer[] = [];
  const waiters: Array<() => void> = [];
  const decoder = new MllpDecoder({
    onFrame: (m) => {
      received.push(m);
      for (const w of waiters.splice(0)) w();
    },
  });
  socket.on('data', (chunk) => decoder.push(chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(() => {
    for (const w of waiters.splice(0)) w();
  });
  let taken = 0;

  const rawAcks = async (count: number, timeoutMs = 10_000): Promise<Buffer[]> => {
    const deadline = Date.now() + timeoutMs;
    while (received.length - taken < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} ACKs, got ${received.length - taken}`);
      if (socket.destroyed && received.length - taken < count) throw new Error(`connection closed after ${received.length - taken} of ${count} ACKs`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const out = received.slice(taken, taken + count);
    taken += count;
    return out;
  };

  return {
    socket,
    send: (...messages) => socket.write(Buffer.concat(messages.map((m) => frame(typeof m === 'string' ? Buffer.from(m, 'utf8') : m)))),
    write: (bytes) => socket.write(bytes),
    rawAcks,
    acks: async (count, timeoutMs) => (await rawAcks(count, timeoutMs)).map((b) => parseMessage(b)),
    closed,
    async close() {
      socket.end();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
      socket.destroy();
    },
  };
}
