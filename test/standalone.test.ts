import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client as MinioClient } from 'minio';
import S3rver from 's3rver';
import { freePort, readJson, testDatabase, TEST_ID_HASH_SECRET, TEST_TOKEN_SECRET, type TestDatabase } from '@hub/shared/testing';
import { runEntry, type HubProcess } from './support/process';

// Each service on its own, as a deployment that scales them apart runs them: an external
// PostgreSQL (DATABASE_URL) and an S3-compatible store (S3_*), configured only by environment.
describe('each service started on its own against external PostgreSQL and S3', () => {
  let database: TestDatabase;
  let s3: S3rver;
  let s3Dir: string;
  let s3Port: number;
  const running: HubProcess[] = [];

  beforeAll(async () => {
    database = await testDatabase();
    s3Dir = await mkdtemp(path.join(os.tmpdir(), 'hub-standalone-s3-'));
    s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3Dir, configureBuckets: [{ name: 'hub-results' }] });
    s3Port = (await s3.run()).port;
  });
  afterAll(async () => {
    for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await s3.close();
    await database.drop();
    await rm(s3Dir, { recursive: true, force: true });
  });

  const environment = async () => ({
    DATABASE_URL: database.url,
    S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
    S3_BUCKET: 'hub-results',
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: 'true',
    HUB_TOKEN_SECRET: TEST_TOKEN_SECRET,
    HUB_ID_HASH_SECRET: TEST_ID_HASH_SECRET,
    HTTP_PORT: String(await freePort()),
    DICOM_PORT: String(await freePort()),
    MLLP_PORT: String(await freePort()),
    HUB_DATA_DIR: path.join(s3Dir, 'unused-data-dir'),
    LOG_LEVEL: 'warn',
  });

  it.each(['ingest', 'index', 'viewer-api'])('starts %s alone, reports ready on both stores, and stops cleanly', async (service) => {
    const env = await environment();
    const proc = runEntry(`services/${service}/src/main.ts`, env);
    running.push(proc);
    await proc.waitFor('is ready');
    const ready = await fetch(`http://127.0.0.1:${env.HTTP_PORT}/readyz`);
    expect(ready.status).toBe(200);
    expect(await readJson(ready)).toEqual({ status: 'ready', checks: { database: 'ok', 'blob-store': 'ok' } });
    expect((await fetch(`http://127.0.0.1:${env.HTTP_PORT}/fhir/metadata`)).status).toBe(service === 'viewer-api' ? 200 : 401);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('starts all three at once on one fresh database without a migration conflict', async () => {
    await database.db.raw('drop schema public cascade; create schema public;');
    const procs = await Promise.all(['ingest', 'index', 'viewer-api'].map(async (s) => runEntry(`services/${s}/src/main.ts`, await environment())));
    running.push(...procs);
    await Promise.all(procs.map((p) => p.waitFor('is ready')));
    for (const p of procs) p.child.kill('SIGTERM');
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0]);
  });

  it('starts no embedded PostgreSQL and keeps no objects locally when DATABASE_URL and S3 are set', async () => {
    await expect(stat(path.join(s3Dir, 'unused-data-dir', 'postgres'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(path.join(s3Dir, 'unused-data-dir', 'blobs'))).rejects.toMatchObject({ code: 'ENOENT' });
    // the readiness probe went to the bucket, seen by a client that shares no code with the hub
    const minio = new MinioClient({ endPoint: '127.0.0.1', port: s3Port, useSSL: false, accessKey: 'S3RVER', secretKey: 'S3RVER', pathStyle: true });
    expect(await minio.bucketExists('hub-results')).toBe(true);
  });
});
