import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Client as MinioClient } from 'minio';
import S3rver from 's3rver';
import { isHubError } from '../errors';
import { describeBlobStoreContract, type IndependentView } from './contract';
import { collect, sha256Of } from './contract-support';
import { createS3BlobStore, type S3BlobStoreOptions } from './s3';

const BUCKET = 'hub-test';
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface LocalS3 {
  port: number;
  server: S3rver;
  options(overrides?: Partial<S3BlobStoreOptions>): S3BlobStoreOptions;
  /** An S3 client that shares no code with the driver, to check what it wrote. */
  minio: MinioClient;
  stop(): Promise<void>;
}

/** s3rver in this process, on a free port, with its data in a fresh temp folder. */
async function startLocalS3(): Promise<LocalS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'hub-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: BUCKET }] });
  const { port } = await server.run();
  return {
    port,
    server,
    options: (overrides) => ({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      bucket: BUCKET,
      forcePathStyle: true,
      ...CREDENTIALS,
      ...overrides,
    }),
    minio: new MinioClient({ endPoint: '127.0.0.1', port, useSSL: false, accessKey: 'S3RVER', secretKey: 'S3RVER', pathStyle: true }),
    stop: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver in a child process with OpenSSL's legacy provider. Its ListObjectsV2 continuation
 * tokens are DES-encrypted, which OpenSSL 3 refuses by default, so in this process any
 * truncated listing fails with InternalError; only the paging test needs this.
 */
async function startPagingS3(): Promise<{ port: number; stop(): Promise<void> }> {
  const directory = await mkdtemp(path.join(tmpdir(), 'hub-s3rver-paging-'));
  const script = `
    const S3rver = require(${JSON.stringify(require.resolve('s3rver'))});
    new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: process.argv[1], configureBuckets: [{ name: '${BUCKET}' }] })
      .run().then(({ port }) => console.log(port));`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script, directory], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const listening = once(child.stdout, 'data') as Promise<[Buffer]>;
  const [firstLine] = await Promise.race([
    listening,
    exited.then(() => Promise.reject(new Error('s3rver for the paging test exited before listening'))),
  ]);
  return {
    port: Number(firstLine.toString().trim()),
    stop: async () => {
      child.kill();
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

const isMissing = (err: unknown): boolean => ['NoSuchKey', 'NotFound'].includes((err as { code?: string }).code ?? '');

function minioView(minio: MinioClient): IndependentView {
  return {
    read: (key) =>
      minio.getObject(BUCKET, key).then(collect, (err: unknown) => {
        if (isMissing(err)) return null;
        throw err;
      }),
    size: (key) =>
      minio.statObject(BUCKET, key).then(
        (stat) => stat.size,
        (err: unknown) => {
          if (isMissing(err)) return null;
          throw err;
        },
      ),
  };
}

describeBlobStoreContract(
  's3',
  async () => {
    const s3 = await startLocalS3();
    return { store: createS3BlobStore(s3.options()), verify: minioView(s3.minio), cleanup: s3.stop };
  },
  {
    // s3rver walks its folders depth first; S3, MinIO and Ceph RGW list in UTF-8 byte order.
    listOrderAcrossFolders: 's3rver lists "a/x" before "a-b"',
    // s3rver streams a PUT into the object's own file; S3, MinIO and Ceph RGW replace an
    // object atomically. The driver's half is checked below with s3rver's write events.
    atomicOverwrite: 's3rver writes objects and their metadata files in place',
  },
);

describe('s3 blob store', () => {
  let s3: LocalS3;

  beforeAll(async () => {
    s3 = await startLocalS3();
  });
  afterAll(async () => {
    await s3.stop();
  });

  const kindOf = (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => 'resolved',
      (err: unknown) => (isHubError(err) ? err.kind : err),
    );

  test('records the SHA-256 and content type as object metadata when they are known up front', async () => {
    const store = createS3BlobStore(s3.options());
    const data = Buffer.from('MSH|^~\\&|LIS|HOSP|HUB|REGION|20250101||ORU^R01|1|P|2.5\r');
    const { sha256 } = await store.put('hl7/1.hl7', data, { contentType: 'x-application/hl7-v2+er7' });

    const stat = await s3.minio.statObject(BUCKET, 'hl7/1.hl7');
    expect(stat.metaData).toMatchObject({ sha256, 'content-type': 'x-application/hl7-v2+er7' });
    expect(await store.head('hl7/1.hl7')).toMatchObject({ sha256, contentType: 'x-application/hl7-v2+er7', size: data.length });
  });

  test('records an expected SHA-256 given with a stream as object metadata', async () => {
    const store = createS3BlobStore(s3.options());
    const data = Buffer.from('a streamed body');
    const sha256 = sha256Of(data);
    await store.put('s/1', Readable.from([data]), { sha256 });
    expect((await s3.minio.statObject(BUCKET, 's/1')).metaData).toMatchObject({ sha256 });
    expect((await store.head('s/1'))?.sha256).toBe(sha256);
  });

  test('sends each of eight concurrent writers’ bodies whole, in one PUT each', async () => {
    const store = createS3BlobStore(s3.options());
    const bodies = Array.from({ length: 8 }, (_, i) => randomBytes(1024 * 1024 + i * 130_000));
    const stored: { eventName: string; eTag?: string }[] = [];
    const onEvent: Parameters<S3rver['on']>[1] = (event) => {
      for (const { eventName, s3: { object } } of event.Records) {
        if (object.key === 'contended') stored.push({ eventName, eTag: object.eTag });
      }
    };
    s3.server.on('event', onEvent);
    try {
      await Promise.all(bodies.map((body, i) => store.put('contended', i % 2 === 0 ? body : Readable.from([body]))));
    } finally {
      s3.server.off('event', onEvent);
      // s3rver may have mangled the object's metadata file with these concurrent writes.
      await store.delete('contended');
    }
    // One single-request PUT per writer, each carrying exactly that writer's bytes (S3 ETag = MD5).
    const md5 = (body: Buffer): string => createHash('md5').update(body).digest('hex');
    expect(stored.map((s) => s.eventName)).toEqual(Array(8).fill('ObjectCreated:Put'));
    expect(stored.map((s) => s.eTag).sort()).toEqual(bodies.map(md5).sort());
  });

  test('lists every key across ListObjectsV2 pages', async () => {
    const paging = await startPagingS3();
    try {
      const store = createS3BlobStore(s3.options({ endpoint: `http://127.0.0.1:${paging.port}`, listPageSize: 2 }));
      const keys = ['pg/1', 'pg/2', 'pg/3', 'pg/4/5', 'pg/6'];
      for (const key of keys) await store.put(key, Buffer.from(key));
      await store.put('other', Buffer.from('not under pg/'));
      const listed = [];
      for await (const info of store.list('pg/')) listed.push(info.key);
      expect(listed).toEqual(keys);
    } finally {
      await paging.stop();
    }
  });

  test('answers with Unavailable when the endpoint does not answer', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const store = createS3BlobStore(s3.options({ endpoint: `http://127.0.0.1:${port}` }));
    expect(await kindOf(store.check())).toBe('Unavailable');
    expect(await kindOf(store.get('k'))).toBe('Unavailable');
    expect(await kindOf(store.head('k'))).toBe('Unavailable');
    expect(await kindOf(store.put('k', Buffer.from('x')))).toBe('Unavailable');
    expect(await kindOf(store.delete('k'))).toBe('Unavailable');
  });

  test('answers a missing bucket with Unavailable, not NotFound', async () => {
    const store = createS3BlobStore(s3.options({ bucket: 'no-such-bucket' }));
    expect(await kindOf(store.check())).toBe('Unavailable');
    expect(await kindOf(store.get('k'))).toBe('Unavailable');
  });

  test('refuses a part size below the 5 MiB S3 minimum', () => {
    expect(() => createS3BlobStore(s3.options({ partSizeBytes: 1024 * 1024 }))).toThrow(/partSizeBytes/);
  });
});
