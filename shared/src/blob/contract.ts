import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { collect, expectRejects, generatedStream, MiB, sha256Of, streamOf, watchRss } from './contract-support';
import type { BlobStore } from './types';

/**
 * One behaviour for every BlobStore driver: each driver's test file runs this suite against
 * a real back end. Not a test file itself, so that both drivers can import it.
 */

/** A look at what a driver wrote that does not go through the driver. */
export interface IndependentView {
  /** The stored bytes of `key`, or null when there is no such object. Small objects only. */
  read(key: string): Promise<Buffer | null>;
  /** The stored size of `key`, or null when there is no such object. */
  size(key: string): Promise<number | null>;
  /** Remains of writes (temp files) that must not outlive a put, when the back end can tell. */
  leftovers?(): Promise<string[]>;
}

/**
 * Ways a stand-in back end used in tests is known to differ from the real one, each with the
 * reason. Each relaxes one assertion, and the test's title says so; the driver is not excused.
 */
export interface KnownDeviations {
  /** The back end lists a folder's keys before sibling keys that sort earlier ("a/x" before "a-b"). */
  listOrderAcrossFolders?: string;
  /** The back end writes an object in place, so concurrent puts of one key can leave a mix. */
  atomicOverwrite?: string;
}

export interface ContractSubject {
  store: BlobStore;
  verify?: IndependentView;
  cleanup(): Promise<void>;
}

const LARGE_OBJECT_BYTES = 500 * MiB;
const RSS_GROWTH_LIMIT = 200 * MiB;

async function keysOf(store: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  return keys;
}

export function describeBlobStoreContract(
  name: string,
  makeStore: () => Promise<ContractSubject>,
  deviations: KnownDeviations = {},
): void {
  describe(`${name} blob store contract`, () => {
    let subject: ContractSubject;
    let store: BlobStore;
    // Every test works under its own prefix, so tests share one store without seeing each other.
    let ns: string;

    beforeAll(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.cleanup();
    });
    beforeEach(() => {
      ns = `contract-${randomUUID()}`;
    });

    /** Nothing under `key`, seen through the driver and around it; no temp files left over. */
    async function expectNoObject(key: string): Promise<void> {
      expect(await store.head(key)).toBeNull();
      expect(await keysOf(store, ns)).not.toContain(key);
      await expectRejects('NotFound', () => store.get(key));
      if (subject.verify) expect(await subject.verify.read(key)).toBeNull();
      await expectNoLeftovers();
    }

    async function expectNoLeftovers(): Promise<void> {
      if (subject.verify?.leftovers) expect(await subject.verify.leftovers()).toEqual([]);
    }

    async function expectStored(key: string, data: Buffer): Promise<void> {
      expect((await collect(await store.get(key))).equals(data)).toBe(true);
      if (subject.verify) expect((await subject.verify.read(key))?.equals(data)).toBe(true);
    }

    describe('put and get', () => {
      test('returns the same bytes it was given as a Buffer', async () => {
        const data = randomBytes(300 * 1024);
        await store.put(`${ns}/a.bin`, data);
        await expectStored(`${ns}/a.bin`, data);
      });

      test('returns the same bytes it was given as a stream', async () => {
        const data = randomBytes(1 * MiB + 12345);
        await store.put(`${ns}/dicom/1.2.840.1/1.2.840.2/1.2.840.3.dcm`, streamOf(data));
        await expectStored(`${ns}/dicom/1.2.840.1/1.2.840.2/1.2.840.3.dcm`, data);
      });

      test('stores and returns an empty object', async () => {
        const written = await store.put(`${ns}/empty`, Buffer.alloc(0));
        expect(written).toEqual({ key: `${ns}/empty`, size: 0, sha256: sha256Of(Buffer.alloc(0)) });
        expect((await store.head(`${ns}/empty`))?.size).toBe(0);
        await expectStored(`${ns}/empty`, Buffer.alloc(0));
      });

      test('resolves with the size and SHA-256 it wrote, and head agrees', async () => {
        const data = randomBytes(70_001);
        const written = await store.put(`${ns}/x`, streamOf(data, 4096));
        expect(written).toEqual({ key: `${ns}/x`, size: data.length, sha256: sha256Of(data) });
        const info = await store.head(`${ns}/x`);
        expect(info).toMatchObject({ key: `${ns}/x`, size: data.length });
        // Not toBeInstanceOf(Date): fs.Stats dates come from outside Jest's sandbox realm.
        expect(info?.modifiedAt?.getTime()).toBeGreaterThan(0);
        // A store that records the hash must record the right one.
        if (info?.sha256 !== undefined) expect(info.sha256).toBe(sha256Of(data));
        if (subject.verify) expect(await subject.verify.size(`${ns}/x`)).toBe(data.length);
      });

      test('accepts a body that matches the expected size and SHA-256', async () => {
        const data = randomBytes(5000);
        const sha256 = sha256Of(data);
        await expect(store.put(`${ns}/ok`, streamOf(data, 1000), { size: 5000, sha256: sha256.toUpperCase() })).resolves.toEqual({
          key: `${ns}/ok`,
          size: 5000,
          sha256,
        });
        await expectStored(`${ns}/ok`, data);
      });

      test('replaces an existing object', async () => {
        await store.put(`${ns}/r`, Buffer.from('first version, longer than the second'));
        await store.put(`${ns}/r`, streamOf(Buffer.from('second')));
        await expectStored(`${ns}/r`, Buffer.from('second'));
      });
    });

    describe('refused bodies', () => {
      const wrongSha = 'ab'.repeat(32);

      test('rejects a stream whose SHA-256 differs and writes nothing', async () => {
        await expectRejects('BadInput', () => store.put(`${ns}/bad`, streamOf(randomBytes(200_000)), { sha256: wrongSha }));
        await expectNoObject(`${ns}/bad`);
      });

      test('rejects a Buffer whose SHA-256 differs and writes nothing', async () => {
        await expectRejects('BadInput', () => store.put(`${ns}/bad`, randomBytes(1000), { sha256: wrongSha }));
        await expectNoObject(`${ns}/bad`);
      });

      test('rejects a stream longer than its expected size and writes nothing', async () => {
        await expectRejects('BadInput', () => store.put(`${ns}/long`, streamOf(randomBytes(100_000)), { size: 99_999 }));
        await expectNoObject(`${ns}/long`);
      });

      test('rejects a stream shorter than its expected size and writes nothing', async () => {
        await expectRejects('BadInput', () => store.put(`${ns}/short`, streamOf(randomBytes(100_000)), { size: 100_001 }));
        await expectNoObject(`${ns}/short`);
      });

      test('rejects a Buffer whose size differs and writes nothing', async () => {
        await expectRejects('BadInput', () => store.put(`${ns}/size`, randomBytes(10), { size: 11 }));
        await expectNoObject(`${ns}/size`);
      });

      test('rejects a body whose SHA-256 differs and keeps the old object', async () => {
        const old = randomBytes(50_000);
        await store.put(`${ns}/kept`, old);
        await expectRejects('BadInput', () => store.put(`${ns}/kept`, streamOf(randomBytes(60_000)), { sha256: wrongSha }));
        await expectStored(`${ns}/kept`, old);
        await expectNoLeftovers();
      });

      test('rejects a body larger than one upload part whose SHA-256 differs and keeps the old object', async () => {
        const old = randomBytes(1000);
        await store.put(`${ns}/big`, old);
        const body = generatedStream(20 * MiB).stream;
        await expectRejects('BadInput', () => store.put(`${ns}/big`, body, { sha256: wrongSha }));
        await expectStored(`${ns}/big`, old);
        await expectNoLeftovers();
      });

      test('passes on the failure of a body stream and keeps the old object', async () => {
        const old = randomBytes(1000);
        await store.put(`${ns}/cut`, old);
        let sent = 0;
        const hungUp = new Readable({
          read() {
            if (sent++ < 3) this.push(randomBytes(64 * 1024));
            else this.destroy(new Error('client hung up'));
          },
        });
        await expect(store.put(`${ns}/cut`, hungUp)).rejects.toThrow('client hung up');
        await expectStored(`${ns}/cut`, old);
        await expectNoLeftovers();
      });

      test('rejects an expected SHA-256 that is not 64 hex digits, or a negative size', async () => {
        await expectRejects('BadInput', () => store.put(`${ns}/h`, Buffer.from('x'), { sha256: 'abc' }));
        await expectRejects('BadInput', () => store.put(`${ns}/h`, Buffer.from('x'), { size: -1 }));
        await expectNoObject(`${ns}/h`);
      });
    });

    describe('missing objects', () => {
      test('rejects get of a missing key with NotFound', async () => {
        await expectRejects('NotFound', () => store.get(`${ns}/missing`));
        await expectRejects('NotFound', () => store.get(`${ns}/missing`, { start: 0, end: 1 }));
      });

      test('answers head of a missing key with null', async () => {
        expect(await store.head(`${ns}/missing`)).toBeNull();
      });

      test('treats a folder of deeper keys as no object', async () => {
        await store.put(`${ns}/folder/inner`, Buffer.from('x'));
        expect(await store.head(`${ns}/folder`)).toBeNull();
        await expectRejects('NotFound', () => store.get(`${ns}/folder`));
        await store.delete(`${ns}/folder`);
        await expectStored(`${ns}/folder/inner`, Buffer.from('x'));
      });
    });

    describe('ranges', () => {
      const data = randomBytes(1000);
      const read = async (range: { start: number; end?: number }): Promise<Buffer> =>
        collect(await store.get(`${ns}/r`, range));

      beforeEach(async () => {
        await store.put(`${ns}/r`, data);
      });

      test('reads an inclusive start-end range', async () => {
        expect((await read({ start: 10, end: 19 })).equals(data.subarray(10, 20))).toBe(true);
      });

      test('reads from a start offset to the end', async () => {
        expect((await read({ start: 990 })).equals(data.subarray(990))).toBe(true);
      });

      test('reads the last byte alone', async () => {
        expect((await read({ start: 999, end: 999 })).equals(data.subarray(999))).toBe(true);
      });

      test('clamps a range end past the last byte, as HTTP does', async () => {
        expect((await read({ start: 0, end: 5000 })).equals(data)).toBe(true);
      });

      test('rejects a range starting at or beyond the end with BadInput', async () => {
        await expectRejects('BadInput', () => store.get(`${ns}/r`, { start: 1000 }));
        await expectRejects('BadInput', () => store.get(`${ns}/r`, { start: 5000, end: 6000 }));
      });

      test('rejects a range ending before it starts, or negative, with BadInput', async () => {
        await expectRejects('BadInput', () => store.get(`${ns}/r`, { start: 5, end: 4 }));
        await expectRejects('BadInput', () => store.get(`${ns}/r`, { start: -1 }));
      });
    });

    describe('delete', () => {
      test('deletes an object so that get rejects with NotFound and head is null', async () => {
        await store.put(`${ns}/d/e`, Buffer.from('gone soon'));
        await store.delete(`${ns}/d/e`);
        await expectNoObject(`${ns}/d/e`);
      });

      test('resolves when deleting a missing key', async () => {
        await expect(store.delete(`${ns}/never-was`)).resolves.toBeUndefined();
      });

      test('leaves sibling objects alone', async () => {
        await store.put(`${ns}/s/one`, Buffer.from('1'));
        await store.put(`${ns}/s/two`, Buffer.from('2'));
        await store.delete(`${ns}/s/one`);
        expect(await keysOf(store, `${ns}/`)).toEqual([`${ns}/s/two`]);
      });
    });

    describe('list', () => {
      const names = ['p/a', 'p/ab', 'p/b/c', 'p/b/d/e', 'p.x', 'p-y', 'pa/z', 'q/a'];

      beforeEach(async () => {
        for (const name of names) await store.put(`${ns}/${name}`, Buffer.from(name));
      });

      test('lists only keys under a folder prefix, sorted, including deeper paths', async () => {
        expect(await keysOf(store, `${ns}/p/`)).toEqual(['p/a', 'p/ab', 'p/b/c', 'p/b/d/e'].map((n) => `${ns}/${n}`));
      });

      const acrossFolders = deviations.listOrderAcrossFolders;
      test(`treats the prefix as a plain string prefix, ${acrossFolders ? `order across folders not checked: ${acrossFolders}` : 'in key order across folders'}`, async () => {
        // "-" < "." < "/" < "a": a folder sorts by its name followed by "/".
        const expected = ['p-y', 'p.x', 'p/a', 'p/ab', 'p/b/c', 'p/b/d/e', 'pa/z'].map((n) => `${ns}/${n}`);
        const listed = await keysOf(store, `${ns}/p`);
        expect(acrossFolders ? [...listed].sort() : listed).toEqual(expected);
        expect(await keysOf(store, `${ns}/p/a`)).toEqual([`${ns}/p/a`, `${ns}/p/ab`]);
      });

      test('lists nothing for a prefix no key has', async () => {
        expect(await keysOf(store, `${ns}/none`)).toEqual([]);
        expect(await keysOf(store, `${ns}-other/`)).toEqual([]);
      });

      test('gives each listed object its size', async () => {
        const infos = [];
        for await (const info of store.list(`${ns}/p/b/`)) infos.push(info);
        expect(infos.map(({ key, size }) => ({ key, size }))).toEqual([
          { key: `${ns}/p/b/c`, size: 5 },
          { key: `${ns}/p/b/d/e`, size: 7 },
        ]);
      });
    });

    describe('keys', () => {
      const invalid = ['../x', '/abs', 'a//b', 'a/../b', 'a\\b', '', 'a/./b', 'a/', '.hidden', 'a b', 'nul\0x', 'é', 'x'.repeat(1025)];

      test.each(invalid.map((key) => [JSON.stringify(key).slice(0, 40), key]))(
        'rejects the key %s with BadInput in put, get, head and delete',
        async (_label, key) => {
          await expectRejects('BadInput', () => store.put(key, Buffer.from('x')));
          await expectRejects('BadInput', () => store.put(key, streamOf(Buffer.from('x'))));
          await expectRejects('BadInput', () => store.get(key));
          await expectRejects('BadInput', () => store.head(key));
          await expectRejects('BadInput', () => store.delete(key));
        },
      );

      test('rejects a list prefix no key could start with', async () => {
        for (const prefix of ['../', '/a', 'a//', 'a/../', '.tmp/', 'a\\b']) {
          await expectRejects('BadInput', () => keysOf(store, prefix));
        }
      });
    });

    describe('concurrency', () => {
      const notAtomic = deviations.atomicOverwrite;
      test(`keeps exactly one writer’s content when eight put the same key at once${notAtomic ? ` (final content not checked: ${notAtomic})` : ''}`, async () => {
        const bodies = Array.from({ length: 8 }, (_, i) => randomBytes(1 * MiB + i * 130_000));
        const key = `${ns}/contended`;
        try {
          const written = await Promise.all(
            bodies.map((body, i) => store.put(key, i % 2 === 0 ? body : streamOf(body))),
          );
          expect(written).toEqual(bodies.map((body) => ({ key, size: body.length, sha256: sha256Of(body) })));
          await expectNoLeftovers();
          if (notAtomic) return;
          const stored = await collect(await store.get(key));
          const winner = bodies.findIndex((body) => body.equals(stored));
          expect(winner).toBeGreaterThanOrEqual(0);
          expect((await store.head(key))?.size).toBe(bodies[winner].length);
          if (subject.verify) expect((await subject.verify.read(key))?.equals(bodies[winner])).toBe(true);
        } finally {
          // A back end that is not atomic may hold a mangled object now; the tests after this
          // one share the store (s3rver then fails every HeadBucket, since it lists the bucket).
          await store.delete(key);
        }
      });
    });

    describe('large objects', () => {
      test(
        'streams a 500 MB object in and out with SHA-256 intact and bounded memory',
        async () => {
          const key = `${ns}/large.bin`;
          const generated = generatedStream(LARGE_OBJECT_BYTES);
          const rss = watchRss();
          try {
            const written = await store.put(key, generated.stream, { size: LARGE_OBJECT_BYTES });
            const putGrowth = rss.growth();
            expect(written).toEqual({ key, size: LARGE_OBJECT_BYTES, sha256: generated.sha256() });
            if (subject.verify) expect(await subject.verify.size(key)).toBe(LARGE_OBJECT_BYTES);

            const readBack = createHash('sha256');
            let readBytes = 0;
            for await (const chunk of await store.get(key)) {
              readBack.update(chunk as Buffer);
              readBytes += (chunk as Buffer).length;
            }
            expect(readBytes).toBe(LARGE_OBJECT_BYTES);
            expect(readBack.digest('hex')).toBe(written.sha256);
            // Growth is measured from before the put, across both directions.
            expect(putGrowth).toBeLessThan(RSS_GROWTH_LIMIT);
            expect(rss.growth()).toBeLessThan(RSS_GROWTH_LIMIT);
          } finally {
            rss.stop();
          }
          await store.delete(key);
        },
        180_000,
      );
    });

    test('check resolves on a reachable, writable store', async () => {
      await expect(store.check()).resolves.toBeUndefined();
    });
  });
}
