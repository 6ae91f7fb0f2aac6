import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { isHubError } from '../errors';
import { describeBlobStoreContract, type IndependentView } from './contract';
import { createFsBlobStore } from './fs';

const missing = (err: unknown): null => {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return null;
  throw err;
};

/** Reads the root folder directly, as an operator (or a backup tool) would see it. */
function diskView(root: string): IndependentView {
  const file = (key: string): string => path.join(root, ...key.split('/'));
  return {
    read: (key) => readFile(file(key)).catch(missing),
    size: (key) => stat(file(key)).then((s) => (s.isFile() ? s.size : null), missing),
    leftovers: () => readdir(path.join(root, '.tmp')).catch((err: unknown) => missing(err) ?? []),
  };
}

describeBlobStoreContract('fs', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'hub-blob-fs-'));
  return {
    store: createFsBlobStore({ root }),
    verify: diskView(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('fs blob store', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'hub-blob-fs-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const kindOf = (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => 'resolved',
      (err: unknown) => (isHubError(err) ? err.kind : err),
    );

  test('keeps each object as a plain file at the path its key names', async () => {
    const store = createFsBlobStore({ root });
    await store.put('dicom/1.2.3/4.5.6.dcm', Buffer.from('DICM'));
    expect(await readFile(path.join(root, 'dicom', '1.2.3', '4.5.6.dcm'), 'utf8')).toBe('DICM');
  });

  test('makes its temp folder again when it was removed under the running store', async () => {
    const store = createFsBlobStore({ root });
    await store.put('a', Buffer.from('first'));
    await rm(path.join(root, '.tmp'), { recursive: true });
    await store.put('b', Buffer.from('second, from memory'));
    expect(await readFile(path.join(root, 'b'), 'utf8')).toBe('second, from memory');
    await rm(path.join(root, '.tmp'), { recursive: true });
    // a stream is spent by the failed attempt: that put fails, the next one works
    expect(await kindOf(store.put('c', Readable.from([Buffer.from('streamed')])))).not.toBe('resolved');
    await store.put('d', Readable.from([Buffer.from('streamed again')]));
    expect(await readFile(path.join(root, 'd'), 'utf8')).toBe('streamed again');
  });

  test('refuses a key that needs a folder where an object is with Conflict, and keeps the object', async () => {
    const store = createFsBlobStore({ root });
    await store.put('a', Buffer.from('object a'));
    await store.put('x/y', Buffer.from('object x/y'));
    expect(await kindOf(store.put('a/b', Buffer.from('under a')))).toBe('Conflict');
    expect(await kindOf(store.put('x', Buffer.from('over folder x')))).toBe('Conflict');
    expect(await readFile(path.join(root, 'a'), 'utf8')).toBe('object a');
    expect(await readFile(path.join(root, 'x', 'y'), 'utf8')).toBe('object x/y');
    expect(await readdir(path.join(root, '.tmp'))).toEqual([]);
  });

  test('removes the folders a delete leaves empty, and keeps the root', async () => {
    const store = createFsBlobStore({ root });
    await store.put('p/q/r/one', Buffer.from('1'));
    await store.put('p/two', Buffer.from('2'));
    await store.delete('p/q/r/one');
    expect((await readdir(root)).sort()).toEqual(['.tmp', 'p']);
    expect(await readdir(path.join(root, 'p'))).toEqual(['two']);
    await store.delete('p/two');
    expect(await readdir(root)).toEqual(['.tmp']);
  });

  test('lists neither its temp folder nor files whose names are not keys', async () => {
    const store = createFsBlobStore({ root });
    await store.put('kept', Buffer.from('k'));
    await mkdir(path.join(root, '.tmp'), { recursive: true });
    await writeFile(path.join(root, '.tmp', 'half-written.part'), 'x');
    await writeFile(path.join(root, '.DS_Store'), 'x');
    await writeFile(path.join(root, 'not a key'), 'x');
    const keys = [];
    for await (const info of store.list('')) keys.push(info.key);
    expect(keys).toEqual(['kept']);
  });

  test('answers check and put with Unavailable when the root cannot hold files', async () => {
    const notAFolder = path.join(root, 'file');
    await writeFile(notAFolder, 'x');
    const store = createFsBlobStore({ root: notAFolder });
    expect(await kindOf(store.check())).toBe('Unavailable');
    expect(await kindOf(store.put('k', Buffer.from('x')))).toBe('Unavailable');
    await expect(createFsBlobStore({ root }).check()).resolves.toBeUndefined();
  });
});
