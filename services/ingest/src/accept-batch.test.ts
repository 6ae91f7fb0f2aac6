import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createFsBlobStore, type BlobStore } from '@hub/shared/blob';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, testLogger, type TestDatabase } from '@hub/shared/testing';
import { ACCEPTED_CHANNEL, type Acceptance } from './accept';
import { createBatchAccept } from './accept-batch';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function read(blob: BlobStore, key: string, range?: { start: number; end: number }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await blob.get(key, range)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('accepting small objects in batches', () => {
  let t: TestDatabase;
  let root: string;
  let blob: BlobStore;
  let org: number;
  beforeAll(async () => {
    t = await testDatabase();
    root = await mkdtemp(path.join(os.tmpdir(), 'hub-accept-batch-'));
    blob = createFsBlobStore({ root });
    org = (await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id;
  });
  afterAll(async () => {
    await t.drop();
    await rm(root, { recursive: true, force: true });
  });

  const message = (folder: string, controlId: string, text = `MSH|^~\\&|LIS|H1|||||ORU^R01|${controlId}|P|2.5.1`): Acceptance => {
    const body = Buffer.from(text);
    return { kind: 'hl7v2', organizationId: org, identity: `${org}|${controlId}`, source: 'mllp', blobKey: `${folder}/${controlId}-${sha(body)}.hl7`, body, size: body.length, sha256: sha(body), summary: { controlId } };
  };
  const rowsOf = (identities: string[]) => t.db('accepted_objects').whereIn('identity', identities.map((i) => `${org}|${i}`)).orderBy('id').select('id', 'identity', 'blob_key', 'blob_offset', 'size');

  it('stores the originals of a batch as one segment per folder; each row names its byte range, and reads back exactly', async () => {
    const batch = createBatchAccept({ db: t.db, blob, log: testLogger() });
    const ids = Array.from({ length: 30 }, (_, i) => `S-${i}`);
    const sent = ids.map((id, i) => message(i % 3 === 0 ? 'hl7v2/H1/2024-03-15' : 'hl7v2/H1/2024-03-16', id, `MSH|^~\\&|LIS|H1|||||ORU^R01|${id}|P|2.5.1\rPID|1||M${i}${'x'.repeat(i * 37)}`));
    const results = await Promise.all(sent.map((a) => batch.accept(a)));
    await batch.stop();
    expect(results.every((r) => r.outcome === 'stored')).toBe(true);

    const rows = await rowsOf(ids);
    expect(rows.map((r) => r.identity)).toEqual(ids.map((id) => `${org}|${id}`));
    const segments = new Set(rows.map((r) => r.blob_key as string));
    // the first acceptance is written at once; the rest gathered while it was, by folder
    expect(segments.size).toBeLessThanOrEqual(4);
    for (const key of segments) expect(key).toMatch(/^hl7v2\/H1\/2024-03-1[56]\/seg-[0-9TZ]+-[0-9a-f]{12}\.mllp$/);
    for (const [i, row] of rows.entries()) {
      const original = await read(blob, row.blob_key, { start: Number(row.blob_offset), end: Number(row.blob_offset) + Number(row.size) - 1 });
      expect(original.equals(sent[i]!.body as Buffer)).toBe(true);
    }
    // each original is MLLP-framed inside its segment
    const first = rows[0]!;
    const whole = await read(blob, first.blob_key);
    expect(whole[Number(first.blob_offset) - 1]).toBe(0x0b);
    expect(whole.subarray(Number(first.blob_offset) + Number(first.size), Number(first.blob_offset) + Number(first.size) + 2)).toEqual(Buffer.from([0x1c, 0x0d]));
  });

  it('writes the same object twice in a batch once, answers a resend as a duplicate without a second row, and a new version as replaced', async () => {
    const batch = createBatchAccept({ db: t.db, blob, log: testLogger() }, { maxInFlight: 1 });
    const one = message('hl7v2/H1/dup', 'D-1');
    const v2 = message('hl7v2/H1/dup', 'D-1', 'MSH|^~\\&|LIS|H1|||||ORU^R01|D-1|P|2.5.1\rOBX|1|NM|GLU||5.3');
    const first = batch.accept(message('hl7v2/H1/dup', 'D-0'));
    // these three gather into one batch while the first is written
    const results = await Promise.all([batch.accept(one), batch.accept(one), batch.accept(v2)]);
    await first;
    expect(results.map((r) => r.outcome)).toEqual(['stored', 'duplicate', 'replaced']);
    expect(results[1]!.acceptedId).toBe(results[0]!.acceptedId);
    const segment = (await rowsOf(['D-1']))[0]!.blob_key;
    expect((await read(blob, segment)).toString('latin1').split('\x0b').length - 1).toBe(2);
    // a resend later, and a resend of the second version alongside a third
    const v3 = message('hl7v2/H1/dup', 'D-1', 'MSH|^~\\&|LIS|H1|||||ORU^R01|D-1|P|2.5.1\rOBX|1|NM|GLU||5.4');
    expect(await batch.accept(one)).toEqual({ acceptedId: results[0]!.acceptedId, outcome: 'duplicate' });
    const later = await Promise.all([batch.accept(v2), batch.accept(v3)]);
    expect(later.map((r) => r.outcome)).toEqual(['duplicate', 'replaced']);
    expect(later[0]!.acceptedId).toBe(results[2]!.acceptedId);
    await batch.stop();
    expect((await rowsOf(['D-1'])).length).toBe(3);
  });

  it('commits rows in the order they were handed in, across batches written side by side', async () => {
    const batch = createBatchAccept({ db: t.db, blob, log: testLogger() }, { maxBatch: 7, maxInFlight: 3, lingerMs: 0 });
    const ids = Array.from({ length: 60 }, (_, i) => `O-${i}`);
    await Promise.all(ids.map((id) => batch.accept(message('hl7v2/H1/order', id))));
    await batch.stop();
    expect((await rowsOf(ids)).map((r) => r.identity)).toEqual(ids.map((id) => `${org}|${id}`));
  });

  it('refuses every acceptance of a batch whose segment cannot be stored, and leaves no row', async () => {
    const failing: BlobStore = { ...blob, put: async () => Promise.reject(new Error('disk full')) };
    const batch = createBatchAccept({ db: t.db, blob: failing, log: testLogger() });
    const ids = ['F-1', 'F-2', 'F-3'];
    const results = await Promise.allSettled(ids.map((id) => batch.accept(message('hl7v2/H1/fail', id))));
    await batch.stop();
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await rowsOf(ids)).toEqual([]);
  });

  it('refuses a body that is not the declared bytes before it joins a batch', async () => {
    const batch = createBatchAccept({ db: t.db, blob, log: testLogger() });
    const good = message('hl7v2/H1/check', 'C-1');
    await expect(batch.accept({ ...good, sha256: 'f'.repeat(64) })).rejects.toMatchObject({ kind: 'BadInput', detail: { code: 'sha256-mismatch' } });
    await expect(batch.accept({ ...good, size: 3 })).rejects.toMatchObject({ kind: 'BadInput', detail: { code: 'size-mismatch' } });
    await batch.stop();
    expect(await rowsOf(['C-1'])).toEqual([]);
  });

  it('costs only its own acceptance when PostgreSQL refuses one row of a batch', async () => {
    const batch = createBatchAccept({ db: t.db, blob, log: testLogger() });
    // jsonb cannot hold U+0000: the row of this one is refused
    const poisoned = { ...message('hl7v2/H1/poison', 'P-2'), summary: { text: 'a\u0000b' } };
    const results = await Promise.allSettled([batch.accept(message('hl7v2/H1/poison', 'P-0')), batch.accept(message('hl7v2/H1/poison', 'P-1')), batch.accept(poisoned), batch.accept(message('hl7v2/H1/poison', 'P-3'))]);
    await batch.stop();
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((await rowsOf(['P-0', 'P-1', 'P-2', 'P-3'])).map((r) => r.identity)).toEqual([`${org}|P-0`, `${org}|P-1`, `${org}|P-3`]);
  });

  it('wakes the index workers once per batch, when its rows are committed', async () => {
    const listener = new pg.Client({ connectionString: t.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.payload ?? ''));
    await listener.query(`listen ${ACCEPTED_CHANNEL}`);
    try {
      const batch = createBatchAccept({ db: t.db, blob, log: testLogger() }, { maxInFlight: 1 });
      const first = batch.accept(message('hl7v2/H1/notify', 'N-0'));
      // these gather while the first is written: one batch, one notification
      const rest = ['N-1', 'N-2', 'N-3', 'N-4'].map((id) => batch.accept(message('hl7v2/H1/notify', id)));
      await Promise.all([first, ...rest]);
      await batch.stop();
      for (let i = 0; i < 50 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual(['hl7v2', 'hl7v2']);
    } finally {
      await listener.end();
    }
  });
});
