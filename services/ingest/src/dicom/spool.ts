import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readdir, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';

/**
 * Where the DICOM doors put an instance while it arrives, hashed as it is written, so that
 * accept() gets size and SHA-256 up front and the header can be read from its beginning.
 * An instance is held in memory up to the spool's memory limit (a CT or MR image, a few
 * hundred KB, never touches the disk twice) and spills to a file beyond it (a multi-frame
 * object of hundreds of MB is never held whole).
 */
export type SpooledInstance = SpooledDigest & ({ bytes: Buffer; path?: undefined } | { path: string; bytes?: undefined });

interface SpooledDigest {
  size: number;
  /** Of the whole object as stored. */
  sha256: string;
  /** Of the data set after the file meta information, when the file meta says where that starts. */
  dataSetSha256?: string;
}

export interface SpoolWriter extends Writable {
  /** Resolves once everything written is held (after end()). */
  finished(): Promise<SpooledInstance>;
  /** Stops writing and lets go of what it held (removes the file); safe to call at any time, more than once. */
  discard(): Promise<void>;
}

export interface Spool {
  dir: string;
  /** The most bytes of one instance held in memory before it spills to a file. */
  memoryLimit: number;
  /** A new spool file. `dataSetAt`: where the data set starts, or 'part10' to read it from the file meta group length. */
  create(options: { dataSetAt: number | 'part10' }): SpoolWriter;
  /** Removes files left by a process that died mid-transfer. */
  sweep(olderThanMs?: number): Promise<number>;
}

const META_GROUP_LENGTH_END = 144; // preamble 128 + "DICM" + (0002,0000) UL element of 12 bytes

/** Where the data set of a Part-10 file starts, from its first 144 bytes; undefined if they do not say. */
export function dataSetOffsetOfPart10(head: Uint8Array): number | undefined {
  if (head.length < META_GROUP_LENGTH_END) return undefined;
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.toString('latin1', 128, 132) !== 'DICM') return undefined;
  if (b.readUInt16LE(132) !== 0x0002 || b.readUInt16LE(134) !== 0x0000 || b.toString('latin1', 136, 138) !== 'UL' || b.readUInt16LE(138) !== 4) return undefined;
  return META_GROUP_LENGTH_END + b.readUInt32LE(140);
}

/** writev may write less than asked (a full disk, a signal); the rest is written again. */
async function writeAll(fh: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    let { bytesWritten } = await fh.writev(rest);
    if (bytesWritten === 0) throw Object.assign(new Error('the spool file accepts no more bytes'), { code: 'EIO' });
    while (rest.length > 0 && bytesWritten >= rest[0]!.length) bytesWritten -= rest.shift()!.length;
    if (bytesWritten > 0) rest = [rest[0]!.subarray(bytesWritten), ...rest.slice(1)];
  }
}

class SpoolFile extends Writable implements SpoolWriter {
  private fh: FileHandle | undefined;
  /** The instance while it fits in memory; undefined once it spilled to the file. */
  private held: Buffer[] | undefined = [];
  private readonly fileHash: Hash = createHash('sha256');
  private dataSetHash: Hash | undefined;
  private dataSetAt: number | undefined;
  private head: Buffer | undefined;
  private written = 0;
  private done: Promise<SpooledInstance>;
  private discarded = false;
  /** The write to the file in progress, which discard() waits for before removing the file. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly filePath: string,
    dataSetAt: number | 'part10',
    private readonly memoryLimit: number,
  ) {
    // A larger buffer than the default 16 KiB: fewer, larger writes; still bounded.
    super({ highWaterMark: 1 << 20 });
    if (dataSetAt === 'part10') this.head = Buffer.alloc(0);
    else this.startDataSetHash(dataSetAt);
    this.done = new Promise((resolve, reject) => {
      this.once('finish', () => {
        const digest: SpooledDigest = {
          size: this.written,
          sha256: this.fileHash.digest('hex'),
          ...(this.dataSetHash && this.dataSetAt !== undefined && this.written >= this.dataSetAt ? { dataSetSha256: this.dataSetHash.digest('hex') } : {}),
        };
        resolve(this.held ? { ...digest, bytes: Buffer.concat(this.held, this.written) } : { ...digest, path: this.filePath });
        this.held = undefined;
      });
      this.once('error', reject);
    });
    this.done.catch(() => undefined);
    // Failures reach the door through finished(); a late one must not become an unhandled 'error'.
    this.on('error', () => undefined);
  }

  private startDataSetHash(at: number) {
    this.dataSetAt = at;
    this.dataSetHash = createHash('sha256');
  }

  private hash(chunk: Buffer) {
    const start = this.written;
    this.fileHash.update(chunk);
    if (this.head) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, META_GROUP_LENGTH_END - this.head.length)]);
      if (this.head.length >= META_GROUP_LENGTH_END) {
        const at = dataSetOffsetOfPart10(this.head);
        this.head = undefined;
        if (at !== undefined) this.startDataSetHash(at);
      }
    }
    const end = start + chunk.length;
    if (this.dataSetHash && this.dataSetAt !== undefined && end > this.dataSetAt) this.dataSetHash.update(chunk.subarray(Math.max(0, this.dataSetAt - start)));
    this.written = end;
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    for (const b of buffers) this.hash(b);
    if (this.held && this.written <= this.memoryLimit) {
      this.held.push(...buffers);
      callback();
      return;
    }
    this.writing = this.spill(buffers);
    this.writing.then(() => callback(), callback);
  }

  /** Past the memory limit: everything held so far, then every later chunk, goes to the file. */
  private async spill(buffers: Buffer[]): Promise<void> {
    if (this.held) {
      const held = this.held;
      this.held = undefined;
      this.fh = await open(this.filePath, 'wx', 0o600);
      buffers = [...held, ...buffers];
    }
    // discarded while the file was opening: discard() closes and removes it once this has settled
    if (this.destroyed) return;
    await writeAll(this.fh!, buffers);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.fh) return callback();
    this.fh.close().then(() => {
      this.fh = undefined;
      callback();
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = undefined;
    this.held = undefined;
    (fh ? fh.close() : Promise.resolve()).then(
      () => callback(error),
      () => callback(error),
    );
  }

  finished(): Promise<SpooledInstance> {
    return this.done;
  }

  async discard(): Promise<void> {
    if (this.discarded) return;
    this.discarded = true;
    if (!this.destroyed) {
      const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
      this.destroy();
      await closed;
    }
    this.held = undefined;
    await this.writing.catch(() => undefined);
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
    await unlink(this.filePath).catch(() => undefined);
  }
}

/** Instances up to 8 MiB are held in memory by default: every CT, MR, CR/DX and US image of a day's work. */
export const DEFAULT_SPOOL_MEMORY_LIMIT = 8 << 20;

export function createSpool(dir: string, memoryLimit = DEFAULT_SPOOL_MEMORY_LIMIT): Spool {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    dir,
    memoryLimit,
    create: ({ dataSetAt }) => new SpoolFile(path.join(dir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`), dataSetAt, memoryLimit),
    async sweep(olderThanMs = 0) {
      let removed = 0;
      for (const name of await readdir(dir)) {
        if (!name.endsWith('.part')) continue;
        const file = path.join(dir, name);
        const info = await stat(file).catch(() => undefined);
        // 0: every file (a file written this very millisecond may carry an mtime a little ahead of Date.now())
        if (info && (olderThanMs <= 0 || Date.now() - info.mtimeMs >= olderThanMs)) {
          await rm(file, { force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}
