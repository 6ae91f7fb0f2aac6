import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'minio';
import { bootstrapBucket, s3ClientOptions, waitForEndpoint } from '../../infra/bootstrap/create-bucket';

// A real S3-compatible server in this process; the bootstrap talks to it over HTTP.

/** The part of s3rver (shipped without types) used here. */
interface S3rver {
  /** Listens; resolves with the bound address (`port: 0` picks a free port). */
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  /** Its request handler, to mount under another HTTP server. */
  getMiddleware(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  httpServer?: http.Server;
}
type S3rverOptions = { port: number; address: string; silent: boolean; directory: string };
// require, not import: the typing is local and does not depend on an ambient declaration elsewhere.
const S3rver = require('s3rver') as new (options: S3rverOptions) => S3rver;

const credentials = { accessKey: 'S3RVER', secretKey: 'S3RVER' };

function clientFor(port: number): Client {
  return new Client({ endPoint: '127.0.0.1', port, useSSL: false, pathStyle: true, region: 'us-east-1', ...credentials, retryOptions: { disableRetry: true } });
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on (free a moment ago). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let directory: string;
let s3rver: S3rver;
let port: number;
const requests: string[] = [];

beforeAll(async () => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-s3rver-'));
  s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  ({ port } = await s3rver.run());
  s3rver.httpServer!.on('request', (req: http.IncomingMessage) => requests.push(`${req.method} ${req.url}`));
});

afterAll(async () => {
  await s3rver.close();
  fs.rmSync(directory, { recursive: true, force: true });
});

describe('bootstrapBucket against s3rver', () => {
  it('creates a missing bucket and asks for versioning, reporting that s3rver cannot version as a warning', async () => {
    const client = clientFor(port);
    const lines: string[] = [];
    requests.length = 0;

    const outcome = await bootstrapBucket(client, 'hub-first-run', 'us-east-1', (line) => lines.push(line));

    expect(outcome).toEqual({ created: true, versioning: 'unsupported' });
    expect(await client.bucketExists('hub-first-run')).toBe(true);
    // The versioning request went out; s3rver does not know the subresource and takes it for
    // CreateBucket, so it answers BucketAlreadyExists.
    expect(requests).toContain('PUT /hub-first-run?versioning');
    expect(lines).toEqual([
      'bucket hub-first-run: created in region us-east-1',
      expect.stringMatching(/^warning: bucket hub-first-run: the store does not implement versioning \(it answered BucketAlreadyExists to the versioning request\); objects are not versioned/),
    ]);
  });

  it('leaves an existing bucket as it is on a second run', async () => {
    const client = clientFor(port);
    await bootstrapBucket(client, 'hub-second-run', 'us-east-1', () => {});
    const lines: string[] = [];
    requests.length = 0;

    const outcome = await bootstrapBucket(client, 'hub-second-run', 'us-east-1', (line) => lines.push(line));

    expect(outcome.created).toBe(false);
    expect(lines[0]).toBe('bucket hub-second-run: exists, left as it is');
    // No CreateBucket: the only PUT is the versioning request.
    expect(requests.filter((r) => r.startsWith('PUT '))).toEqual(['PUT /hub-second-run?versioning']);
    const buckets = await client.listBuckets();
    expect(buckets.filter((b) => b.name === 'hub-second-run')).toHaveLength(1);
  });
});

describe('bootstrapBucket and the store\'s answer to versioning', () => {
  /** s3rver for everything, except ?versioning which gets the scripted answers. */
  async function storeAnswering(versioning: { PUT: [number, string]; GET?: [number, string] }): Promise<{ client: Client; server: http.Server }> {
    const s3 = s3rver.getMiddleware();
    const server = http.createServer((req, res) => {
      if (!new URL(req.url ?? '/', 'http://store').searchParams.has('versioning')) return s3(req, res);
      const [status, body] = (req.method === 'PUT' ? versioning.PUT : versioning.GET) ?? [405, ''];
      req.resume();
      res.writeHead(status, { 'content-type': 'application/xml' }).end(body);
    });
    return { client: clientFor(await listen(server)), server };
  }
  const s3Error = (code: string): string => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;
  const versioningState = (status: string): string =>
    `<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>${status}</Status></VersioningConfiguration>`;

  it('reports a store that answers NotImplemented as a warning line instead of failing', async () => {
    const { client, server } = await storeAnswering({ PUT: [501, s3Error('NotImplemented')] });
    const lines: string[] = [];
    try {
      const outcome = await bootstrapBucket(client, 'hub-no-versioning', 'us-east-1', (line) => lines.push(line));
      expect(outcome).toEqual({ created: true, versioning: 'unsupported' });
      expect(lines[1]).toMatch(/^warning: bucket hub-no-versioning: the store does not implement versioning \(it answered NotImplemented\)/);
    } finally {
      await close(server);
    }
  });

  it('says versioning is enabled only once the store reports it enabled', async () => {
    const { client, server } = await storeAnswering({ PUT: [200, ''], GET: [200, versioningState('Enabled')] });
    const lines: string[] = [];
    try {
      const outcome = await bootstrapBucket(client, 'hub-versioned', 'us-east-1', (line) => lines.push(line));
      expect(outcome).toEqual({ created: true, versioning: 'enabled' });
      expect(lines).toEqual(['bucket hub-versioned: created in region us-east-1', 'bucket hub-versioned: versioning enabled']);
    } finally {
      await close(server);
    }
  });

  it('warns when the store accepts the request but keeps versioning off', async () => {
    const { client, server } = await storeAnswering({ PUT: [200, ''], GET: [200, '<VersioningConfiguration/>'] });
    const lines: string[] = [];
    try {
      const outcome = await bootstrapBucket(client, 'hub-ignored-versioning', 'us-east-1', (line) => lines.push(line));
      expect(outcome.versioning).toBe('unsupported');
      expect(lines[1]).toMatch(/it accepted the request but reports versioning as never enabled/);
    } finally {
      await close(server);
    }
  });

  it('fails when the store refuses versioning for a reason waiting cannot fix', async () => {
    const { client, server } = await storeAnswering({ PUT: [403, s3Error('AccessDenied')] });
    try {
      await expect(bootstrapBucket(client, 'hub-denied', 'us-east-1', () => {})).rejects.toMatchObject({ code: 'AccessDenied' });
    } finally {
      await close(server);
    }
  });
});

describe('waitForEndpoint', () => {
  const fast = { firstDelayMs: 20, maxDelayMs: 100 };

  it('waits for a store that starts late, then returns', async () => {
    const latePort = await freePort();
    const lateDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-s3rver-late-'));
    const late = new S3rver({ port: latePort, address: '127.0.0.1', silent: true, directory: lateDirectory });
    const started = new Promise<void>((resolve, reject) => setTimeout(() => late.run().then(() => resolve(), reject), 300));
    const lines: string[] = [];
    try {
      await waitForEndpoint(clientFor(latePort), 'hub-objects', { endpoint: `http://127.0.0.1:${latePort}`, attempts: 30, ...fast, log: (line) => lines.push(line) });
      expect(lines[0]).toMatch(/^endpoint http:\/\/127\.0\.0\.1:\d+: not reachable yet \(.*ECONNREFUSED.*\), attempt 1\/30, next in [\d.]+ s$/);
      expect(lines.at(-1)).toMatch(/^endpoint http:\/\/127\.0\.0\.1:\d+: reachable after \d+ attempts$/);
    } finally {
      await started;
      await late.close();
      fs.rmSync(lateDirectory, { recursive: true, force: true });
    }
  });

  it('gives up after the bounded number of attempts with one line naming the endpoint', async () => {
    const deadPort = await freePort();
    const lines: string[] = [];
    const waiting = waitForEndpoint(clientFor(deadPort), 'hub-objects', { endpoint: `http://127.0.0.1:${deadPort}`, attempts: 3, ...fast, log: (line) => lines.push(line) });

    await expect(waiting).rejects.toThrow(new RegExp(`^endpoint http://127\\.0\\.0\\.1:${deadPort}: not reachable after 3 attempts \\(.*ECONNREFUSED.*\\)$`));
    expect(lines).toHaveLength(2);
  });

  it('does not retry when the store refuses the credentials', async () => {
    const refusing = http.createServer((req, res) => {
      req.resume();
      res.writeHead(403).end();
    });
    const refusingPort = await listen(refusing);
    const lines: string[] = [];
    try {
      const waiting = waitForEndpoint(clientFor(refusingPort), 'hub-objects', { endpoint: 'the store', attempts: 5, ...fast, log: (line) => lines.push(line) });
      await expect(waiting).rejects.toThrow(/^endpoint the store: AccessDenied/);
      expect(lines).toEqual([]);
    } finally {
      await close(refusing);
    }
  });
});

describe('s3ClientOptions', () => {
  const blob = { driver: 's3', bucket: 'hub-objects', region: 'us-east-1', partSizeBytes: 16 << 20 } as const;

  it('reaches MinIO by its endpoint URL, path style, with the configured keys', () => {
    const options = s3ClientOptions({ ...blob, endpoint: 'http://minio:9000', forcePathStyle: true, accessKeyId: 'hub', secretAccessKey: 'secret' });
    expect(options).toMatchObject({ endPoint: 'minio', port: 9000, useSSL: false, pathStyle: true, accessKey: 'hub', secretKey: 'secret', region: 'us-east-1' });
  });

  it('reaches AWS S3 over TLS with the instance role when no endpoint and no keys are set', () => {
    const options = s3ClientOptions({ ...blob, forcePathStyle: false });
    expect(options).toMatchObject({ endPoint: 's3.amazonaws.com', useSSL: true, pathStyle: false });
    expect(options.accessKey).toBeUndefined();
    expect(options.credentialsProvider).toBeDefined();
  });
});
