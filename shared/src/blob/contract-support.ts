import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { isHubError, type ErrorKind } from '../errors';

/** Bodies, readers and measurements for the blob store contract and the drivers' own tests. */

export const MiB = 1024 * 1024;

export const sha256Of = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A stream of `data` in chunks, the way a socket delivers a body. */
export function streamOf(data: Buffer, chunkBytes = 64 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunkBytes) chunks.push(data.subarray(at, at + chunkBytes));
  return Readable.from(chunks);
}

/**
 * `totalBytes` of deterministic pseudo-random content (an AES-CTR key stream), made one chunk
 * at a time as the consumer reads, and hashed as it is made.
 */
export function generatedStream(totalBytes: number, chunkBytes = MiB): { stream: Readable; sha256: () => string } {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(chunkBytes);
  const hash = createHash('sha256');
  let produced = 0;
  const stream = new Readable({
    read() {
      if (produced >= totalBytes) {
        this.push(null);
        return;
      }
      const n = Math.min(chunkBytes, totalBytes - produced);
      const chunk = cipher.update(zeros.subarray(0, n));
      produced += n;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

/** Resident memory from now on, sampled often enough to catch a transfer that buffers. */
export function watchRss(): { growth(): number; report(): string; stop(): void } {
  const start = process.memoryUsage.rss();
  let peak = start;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const timer = setInterval(sample, 20);
  return {
    growth: () => (sample(), peak - start),
    report: () => `${Math.round(start / MiB)}→${Math.round(peak / MiB)} MiB`,
    stop: () => clearInterval(timer),
  };
}

/** Asserts `action` rejects with a HubError of `kind`; on failure, shows what it did instead. */
export async function expectRejects(kind: ErrorKind, action: () => Promise<unknown>): Promise<void> {
  const outcome = await action().then(
    (value) => ({ resolved: value }),
    (err: unknown) => err,
  );
  expect(isHubError(outcome, kind) ? kind : outcome).toBe(kind);
}
