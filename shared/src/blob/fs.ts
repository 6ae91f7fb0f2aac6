import { randomUUID } from 'node:crypto';
import { createWriteStream, type Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { conflict, isHubError, notFound, unavailable } from '../errors';
import { assertValidKey, assertValidPrefix, isValidKey, isValidSegment } from './keys';
import { Meter, expectedOf, measureBuffer, mismatch, type Expected, type Measured } from './meter';
import { assertValidRange, resolveRange } from './range';
import type { BlobInfo, BlobStore } from './types';

export interface FsBlobStoreOptions {
  /** Folder that holds the objects; created on first write. */
  root: string;
}

/**
 * Writes land in this folder first and are renamed into place, so a reader or a crash never
 * sees half an object. Its name starts with "." so no key can reach it and list skips it.
 */
const TMP_DIR = '.tmp';

/** Failures of the disk itself rather than of the caller: the store is unavailable. */
const UNAVAILABLE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE', 'EBUSY']);

const codeOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

function storeError(err: unknown, what: string): unknown {
  if (isHubError(err)) return err;
  const code = codeOf(err);
  if (code && UNAVAILABLE_CODES.has(code)) return unavailable(`blob store cannot ${what}: ${code}`, { code }, { cause: err });
  return err;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A body held in memory: hashed and checked first, then one write and one fsync (no stream). */
async function writeBuffer(tmp: string, body: Buffer, expected: Expected): Promise<Measured> {
  const measured = measureBuffer(body);
  const error = mismatch(measured, expected);
  if (error) throw error;
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(body);
    // before the rename publishes it: never data still in the page cache (fdatasync: the data and
    // the size, without the timestamps fsync would also write)
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return measured;
}

async function writeStream(tmp: string, body: Readable, expected: Expected): Promise<Measured> {
  const meter = new Meter(expected);
  // flush: fsync before close, so the rename never publishes data still in the page cache.
  await pipeline(body, meter, createWriteStream(tmp, { flags: 'wx', flush: true }));
  return meter.measured;
}

export function createFsBlobStore({ root }: FsBlobStoreOptions): BlobStore {
  const base = path.resolve(root);
  const tmpDir = path.join(base, TMP_DIR);
  // Only ever called with a validated key: no segment is empty, "." or "..", so this stays under base.
  const pathOf = (key: string): string => path.join(base, ...key.split('/'));

  let tmpMade: Promise<void> | undefined;
  /** The temp folder, made on the first write (not on every one). */
  function tmpFolder(again = false): Promise<void> {
    if (again || !tmpMade) {
      tmpMade = mkdir(tmpDir, { recursive: true }).then(
        () => undefined,
        (err: unknown) => {
          tmpMade = undefined;
          throw unavailable(`blob store at ${base} is not writable`, { code: codeOf(err) }, { cause: err });
        },
      );
    }
    return tmpMade;
  }

  /** Creates the folders of `dir` and makes their entries durable, so a renamed file is not lost with its folder. */
  async function makeFolders(dir: string): Promise<void> {
    const firstCreated = await mkdir(dir, { recursive: true });
    if (firstCreated === undefined) return;
    for (let parent = path.dirname(dir); ; parent = path.dirname(parent)) {
      await fsyncDir(parent);
      if (parent === path.dirname(firstCreated) || parent === base) return;
    }
  }

  /** Renames the finished temp file over `key`: readers see the old object or the new one, never a mix. */
  async function publish(tmp: string, key: string): Promise<void> {
    const target = pathOf(key);
    for (let attempt = 1; ; attempt++) {
      try {
        await makeFolders(path.dirname(target));
        await rename(tmp, target);
        break;
      } catch (err) {
        const code = codeOf(err);
        // A delete of the folder's last object may prune the folder between mkdir and rename.
        if (code === 'ENOENT' && attempt < 5) continue;
        if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR' || code === 'ENOTEMPTY') {
          throw conflict(`blob key ${key} collides with an object or folder of another key`, { code: 'blob-key-collision' }, { cause: err });
        }
        throw err;
      }
    }
    try {
      await fsyncDir(path.dirname(target));
    } catch (err) {
      // Only when a concurrent delete of this key already removed the object and its folder.
      if (codeOf(err) !== 'ENOENT') throw err;
    }
  }

  /** Removes folders a delete left empty, up to the root; rmdir refuses a folder that is not empty, so this cannot lose an object. */
  async function pruneFolders(dir: string): Promise<void> {
    for (let folder = dir; folder !== base && folder.startsWith(base + path.sep); folder = path.dirname(folder)) {
      try {
        await rmdir(folder);
      } catch {
        return;
      }
    }
  }

  async function* walk(folderKey: string, namePrefix: string): AsyncGenerator<BlobInfo> {
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(base, folderKey), { withFileTypes: true });
    } catch (err) {
      if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return;
      throw storeError(err, 'list');
    }
    // Key order is the order of whole keys, so a folder sorts as "name/": "a-b" < "a.b" < "a/x".
    const ordered = entries
      .filter((e) => (e.isFile() || e.isDirectory()) && e.name.startsWith(namePrefix) && isValidSegment(e.name))
      .map((e) => ({ name: e.name, folder: e.isDirectory(), order: e.isDirectory() ? `${e.name}/` : e.name }))
      .sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    for (const entry of ordered) {
      const key = folderKey + entry.name;
      if (entry.folder) {
        yield* walk(`${key}/`, '');
        continue;
      }
      if (!isValidKey(key)) continue; // too long as a whole: not one of ours
      const info = await store.head(key); // null when deleted since readdir
      if (info) yield info;
    }
  }

  const store: BlobStore = {
    kind: 'fs',

    async put(key, body, options) {
      assertValidKey(key);
      const expected = expectedOf(options);
      await tmpFolder();
      const tmp = path.join(tmpDir, `${randomUUID()}.part`);
      try {
        const write = () => (Buffer.isBuffer(body) ? writeBuffer(tmp, body, expected) : writeStream(tmp, body, expected));
        const measured = await write().catch(async (err: unknown) => {
          // the temp folder was removed under a running store (a cleanup by hand): made again, and a
          // body in memory written again (a stream is spent: that put fails, the next one works)
          if (codeOf(err) !== 'ENOENT') throw err;
          await tmpFolder(true);
          if (!Buffer.isBuffer(body)) throw err;
          return write();
        });
        await publish(tmp, key);
        return { key, ...measured };
      } catch (err) {
        await rm(tmp, { force: true });
        throw storeError(err, 'write');
      }
    },

    async get(key, range) {
      assertValidKey(key);
      assertValidRange(range);
      let handle;
      try {
        handle = await open(pathOf(key), 'r');
      } catch (err) {
        if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') throw notFound(`no blob ${key}`, { code: 'blob-not-found' });
        throw storeError(err, 'read');
      }
      try {
        const info = await handle.stat();
        // open() succeeds on a folder; a folder is where deeper keys live, not an object.
        if (!info.isFile()) throw notFound(`no blob ${key}`, { code: 'blob-not-found' });
        // The stream reads the open file, so it sees one whole object even if a put replaces it meanwhile.
        return handle.createReadStream(range ? resolveRange(range, info.size) : {});
      } catch (err) {
        await handle.close();
        throw storeError(err, 'read');
      }
    },

    async head(key) {
      assertValidKey(key);
      try {
        const info = await stat(pathOf(key));
        return info.isFile() ? { key, size: info.size, modifiedAt: info.mtime } : null;
      } catch (err) {
        if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return null;
        throw storeError(err, 'read');
      }
    },

    async delete(key) {
      assertValidKey(key);
      const target = pathOf(key);
      try {
        await unlink(target);
      } catch (err) {
        const code = codeOf(err);
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return;
        throw storeError(err, 'delete');
      }
      await pruneFolders(path.dirname(target));
    },

    async *list(prefix) {
      assertValidPrefix(prefix);
      // Walk only the folder the prefix names; its last, partial segment filters that folder's entries.
      const cut = prefix.lastIndexOf('/') + 1;
      yield* walk(prefix.slice(0, cut), prefix.slice(cut));
    },

    async check() {
      const probe = path.join(tmpDir, `check-${randomUUID()}`);
      try {
        await mkdir(tmpDir, { recursive: true });
        await writeFile(probe, 'ok', { flag: 'wx', flush: true });
      } catch (err) {
        throw unavailable(`blob store at ${base} is not writable`, { code: codeOf(err) }, { cause: err });
      } finally {
        await rm(probe, { force: true }).catch(() => undefined);
      }
    },
  };
  return store;
}
