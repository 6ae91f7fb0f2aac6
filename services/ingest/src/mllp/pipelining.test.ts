import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createFsBlobStore, type BlobStore } from '@hub/shared/blob';
import type { Message } from '@hub/shared/hl7';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, testLogger, TEST_ID_HASH_SECRET, type TestDatabase } from '@hub/shared/testing';
import { join } from '../../../../shared/src/hl7/fixtures';
import { createBatchAccept, type BatchAccept } from '../accept-batch';
import { createHl7Receiver } from '../hl7/receive';
import { oruMessage } from '@hub/shared/hl7/testing';
import { createMllpListener, type MllpListener } from './listener';
import { addHl7Sender, createSenderDirectory } from './senders';
import { mllpTestClient } from './test-client';

const msa = (m: Message) => `${m.get('MSA-1')} ${m.get('MSA-2')}`;

describe('MLLP senders that pipeline, answered by group commit', () => {
  let t: TestDatabase;
  let root: string;
  let blob: BlobStore;
  let h1: number;
  const running: Array<{ listener: MllpListener; batch: BatchAccept }> = [];

  beforeAll(async () => {
    t = await testDatabase();
    root = await mkdtemp(path.join(os.tmpdir(), 'hub-mllp-pipe-'));
    blob = createFsBlobStore({ root });
    h1 = (await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id;
    await addHl7Sender(t.db, { organizationCode: 'H1', facility: 'BJXH' });
  });
  afterAll(async () => {
    for (const { listener, batch } of running) {
      await listener.stop(500);
      await batch.stop();
    }
    await t.drop();
    await rm(root, { recursive: true, force: true });
  });

  const start = async (store: BlobStore = blob) => {
    const batch = createBatchAccept({ db: t.db, blob: store, log: testLogger() });
    const receive = createHl7Receiver({ accept: batch.accept, idHashSecret: TEST_ID_HASH_SECRET, log: testLogger() });
    const listener = createMllpListener({ host: '127.0.0.1', port: 0, receive, senders: createSenderDirectory(t.db), log: testLogger() });
    running.push({ listener, batch });
    return listener.start();
  };
  const rowsLike = (pattern: string) => t.db('accepted_objects').where('identity', 'like', `${h1}|${pattern}`).orderBy('id').select('identity', 'blob_key');

  it('answers 200 messages pipelined on 4 connections with AA each, in order per connection, one row per MSH-10, in far fewer segments', async () => {
    const port = await start();
    const clients = await Promise.all([0, 1, 2, 3].map(() => mllpTestClient(port)));
    const sent = clients.map((_, c) => Array.from({ length: 50 }, (__, i) => c * 50 + i));
    // each connection writes all 50 frames at once, before the first ACK
    clients.forEach((client, c) => client.send(...sent[c]!.map((i) => oruMessage(i, { sendingFacility: 'BJXH', runId: 'PIPE' }))));
    const acks = await Promise.all(clients.map((client) => client.acks(50)));
    acks.forEach((list, c) => expect(list.map(msa)).toEqual(sent[c]!.map((i) => `AA PIPE-${i}`)));
    await Promise.all(clients.map((client) => client.close()));

    const rows = await rowsLike('PIPE-%');
    expect(rows).toHaveLength(200);
    expect(new Set(rows.map((r) => r.identity)).size).toBe(200);
    // within a connection, rows are committed in the order the frames came
    for (const ids of sent) {
      const order = rows.filter((r) => ids.includes(Number(r.identity.split('-')[1]))).map((r) => Number(r.identity.split('-')[1]));
      expect(order).toEqual(ids);
    }
    expect(new Set(rows.map((r) => r.blob_key)).size).toBeLessThan(100);
  });

  it('collapses the same message sent at once on several connections into one row', async () => {
    const port = await start();
    const clients = await Promise.all([0, 1, 2].map(() => mllpTestClient(port)));
    const same = oruMessage(7, { sendingFacility: 'BJXH', runId: 'SAME' });
    for (const client of clients) client.send(same, same);
    for (const client of clients) expect((await client.acks(2)).map(msa)).toEqual(['AA SAME-7', 'AA SAME-7']);
    await Promise.all(clients.map((client) => client.close()));
    expect(await rowsLike('SAME-%')).toHaveLength(1);
  });

  it('answers a bad message in a pipelined batch with its own AE while its neighbours get AA', async () => {
    const port = await start();
    const client = await mllpTestClient(port);
    const bad = join(['MSH|^~\\&|LIS|BJXH|HUB|REGION|20240315103000||ORU^R01|MIX-BAD|P|2.5.1', 'PID|1||M1', 'OBR|1||F|GLU|||2024-13-45']);
    client.send(oruMessage(1, { sendingFacility: 'BJXH', runId: 'MIX' }), bad, oruMessage(2, { sendingFacility: 'BJXH', runId: 'MIX' }));
    const acks = await client.acks(3);
    expect(acks.map(msa)).toEqual(['AA MIX-1', 'AE MIX-BAD', 'AA MIX-2']);
    expect([acks[1]!.get('ERR-2.1'), acks[1]!.get('ERR-2.3'), acks[1]!.get('ERR-3.1')]).toEqual(['OBR', '7', '102']);
    await client.close();
    expect((await rowsLike('MIX-%')).map((r) => r.identity)).toEqual([`${h1}|MIX-1`, `${h1}|MIX-2`]);
  });

  it('answers AR to every message of a batch whose originals cannot be stored, and records none of them', async () => {
    const full: BlobStore = { ...blob, put: () => Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })) };
    const port = await start(full);
    const client = await mllpTestClient(port);
    client.send(...[1, 2, 3, 4, 5].map((i) => oruMessage(i, { sendingFacility: 'BJXH', runId: 'FULL' })));
    const acks = await client.acks(5);
    expect(acks.map((a) => `${msa(a)} ${a.get('ERR-5')}`)).toEqual([1, 2, 3, 4, 5].map((i) => `AR FULL-${i} storage-unavailable`));
    await client.close();
    expect(await rowsLike('FULL-%')).toEqual([]);
  });
});
