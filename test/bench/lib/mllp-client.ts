import { connect, type Socket } from 'node:net';
import { MllpDecoder, parseMessage } from '@hub/shared/hl7';

export interface MllpRun {
  connections: number;
  /** Messages a connection sends before waiting for ACKs; 1 is the classic one-at-a-time LIS. */
  window: number;
  count: number;
  /** Message `i`, framed (see `frame`): built before the run, so the client's cost is not in it. */
  message: (i: number) => Buffer;
}

export interface MllpOutcome {
  seconds: number;
  /** ACK codes (MSA-1) by count: AA, AE, AR, or CA/CE/CR. */
  acks: Record<string, number>;
  /** The first non-AA ACK, for the one-line error. */
  firstRefusal?: string;
}

/**
 * Sends `count` messages over `connections` MLLP connections, each keeping up to `window`
 * messages in flight, and waits for every ACK. Messages are numbered from a shared counter,
 * so the connections split the work between them.
 */
export async function sendOverMllp(host: string, port: number, run: MllpRun): Promise<MllpOutcome> {
  const acks: Record<string, number> = {};
  let firstRefusal: string | undefined;
  let next = 0;
  const started = performance.now();

  const one = (socket: Socket) =>
    new Promise<void>((resolve, reject) => {
      let inFlight = 0;
      const pump = () => {
        while (inFlight < run.window && next < run.count) {
          inFlight++;
          socket.write(run.message(next++));
        }
        if (inFlight === 0 && next >= run.count) resolve();
      };
      const decoder = new MllpDecoder({
        onFrame: (bytes) => {
          inFlight--;
          const ack = parseMessage(bytes);
          const code = ack.get('MSA-1') ?? '?';
          acks[code] = (acks[code] ?? 0) + 1;
          if (code !== 'AA' && code !== 'CA' && !firstRefusal) firstRefusal = `${code} ${ack.get('MSA-3') ?? ''} ${ack.get('ERR-8') ?? ack.get('ERR-1') ?? ''}`.trim();
          pump();
        },
      });
      socket.on('data', (chunk: Buffer) => decoder.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => (inFlight > 0 || next < run.count ? reject(new Error(`MLLP connection closed with ${inFlight} messages unacknowledged`)) : resolve()));
      pump();
    });

  const sockets = await Promise.all(
    Array.from(
      { length: run.connections },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect({ host, port, noDelay: true }, () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  try {
    await Promise.all(sockets.map(one));
  } finally {
    for (const socket of sockets) socket.end();
  }
  return { seconds: (performance.now() - started) / 1000, acks, firstRefusal };
}
