import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { createFsBlobStore, type BlobStore } from '@hub/shared/blob';
import type { Message } from '@hub/shared/hl7';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, testLogger, TEST_ID_HASH_SECRET, type TestDatabase } from '@hub/shared/testing';
// The shared HL7 fixtures (real-world message shapes) are test data; hl7 has no testing entry point to import them by.
import { join, oru } from '../../../../shared/src/hl7/fixtures';
import type { Accept } from '../accept';
import { createBatchAccept, type BatchAccept } from '../accept-batch';
import { createHl7Receiver } from '../hl7/receive';
import type { TlsOptions } from 'node:tls';
import { createMllpListener, type MllpListener } from './listener';
import { addHl7Sender, createSenderDirectory } from './senders';
import { mllpTestClient } from './test-client';

const ZHANG = '110101199003074514';
const oruFrom = (facility: string, controlId: string, extra = '') =>
  join([`MSH|^~\\&|LIS|${facility}|HUB|REGION|20240315103000||ORU^R01^ORU_R01|${controlId}|P|2.5.1|||AL|NE||UNICODE UTF-8`, `PID|1||M${controlId}^^^${facility}^MR~${ZHANG}^^^CHN^NNCHN||张^三||19900307|M`, `OBR|1||F-${controlId}|GLU^葡萄糖^L|||20240315080000`, `OBX|1|NM|GLU^葡萄糖^L||5.2${extra}|mmol/L|3.9-6.1||||F`]);
const msa = (m: Message) => [m.get('MSA-1'), m.get('MSA-2')];
const err = (m: Message) => m.segments('ERR').map((e) => `${e.get('2.1')}-${e.get('2.3') ?? ''}${e.get('2.4') ? `[${e.get('2.4')}]` : ''} ${e.get('3.1')}`);

describe('the MLLP listener', () => {
  let t: TestDatabase;
  let root: string;
  let blob: BlobStore;
  let h1: number;
  const listeners: MllpListener[] = [];
  const batches: BatchAccept[] = [];

  beforeAll(async () => {
    t = await testDatabase();
    root = await mkdtemp(path.join(os.tmpdir(), 'hub-mllp-'));
    blob = createFsBlobStore({ root });
    h1 = (await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id;
    await createOrganization(t.db, { code: 'H2', name: '二院', kind: 'hospital' });
    await addHl7Sender(t.db, { organizationCode: 'H1', facility: 'BJXH' });
    await addHl7Sender(t.db, { organizationCode: 'H2', facility: 'H2LIS', address: '10.9.9.0/24' });
  });
  afterAll(async () => {
    for (const l of listeners) await l.stop(500);
    for (const b of batches) await b.stop();
    await t.drop();
    await rm(root, { recursive: true, force: true });
  });

  const start = async (options: { accept?: Accept; idleTimeoutMs?: number; maxFrameBytes?: number; tls?: TlsOptions } = {}) => {
    let accept = options.accept;
    if (!accept) {
      // as the lab doors run it: group commit across connections
      const batch = createBatchAccept({ db: t.db, blob, log: testLogger() });
      batches.push(batch);
      accept = batch.accept;
    }
    const receive = createHl7Receiver({ accept, idHashSecret: TEST_ID_HASH_SECRET, log: testLogger() });
    const listener = createMllpListener({ host: '127.0.0.1', port: 0, receive, senders: createSenderDirectory(t.db, { ttlMs: 0 }), log: testLogger(), ...options });
    listeners.push(listener);
    return listener.start();
  };
  let port: number;
  beforeAll(async () => {
    port = await start({ idleTimeoutMs: 400 });
  });

  it('answers a batch of frames sent in one write with one AA each, in order, after storing each original', async () => {
    const client = await mllpTestClient(port);
    const ids = ['B-1', 'B-2', 'B-3', 'B-4', 'B-5'];
    client.send(...ids.map((id) => oruFrom('BJXH', id)));
    const acks = await client.acks(5);
    expect(acks.map(msa)).toEqual(ids.map((id) => ['AA', id]));
    const rows = await t.db('accepted_objects').whereIn('identity', ids.map((id) => `${h1}|${id}`)).orderBy('id').select('identity', 'source', 'blob_key', 'blob_offset', 'size', 'summary');
    expect(rows.map((r) => r.identity)).toEqual(ids.map((id) => `${h1}|${id}`));
    // originals accepted together share a segment of the organization's folder for the day
    expect(rows[0].blob_key).toMatch(/^hl7v2\/H1\/\d{4}-\d{2}-\d{2}\/seg-[0-9TZ]+-[0-9a-f]{12}\.mllp$/);
    for (const [i, row] of rows.entries()) {
      const stored: Buffer[] = [];
      for await (const chunk of await blob.get(row.blob_key, { start: Number(row.blob_offset), end: Number(row.blob_offset) + Number(row.size) - 1 })) stored.push(chunk as Buffer);
      expect(Buffer.concat(stored).toString('utf8')).toBe(oruFrom('BJXH', ids[i]!));
    }
    // provenance keeps the message as sent; the summary never holds the national ID in clear
    expect(JSON.stringify(rows.map((r) => r.summary))).not.toContain(ZHANG);
    await client.close();
  });

  it('still answers every frame of a sender that closes its side right after writing them', async () => {
    const client = await mllpTestClient(port);
    client.send(oruFrom('BJXH', 'E-1'), oruFrom('BJXH', 'E-2'));
    client.socket.end();
    expect((await client.acks(2)).map(msa)).toEqual([['AA', 'E-1'], ['AA', 'E-2']]);
    await client.closed;
  });

  it('serves eight connections at once', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => mllpTestClient(port)));
    clients.forEach((c, i) => c.send(...[0, 1, 2, 3].map((n) => oruFrom('BJXH', `C${i}-${n}`))));
    const acks = await Promise.all(clients.map((c) => c.acks(4)));
    acks.forEach((list, i) => expect(list.map(msa)).toEqual([0, 1, 2, 3].map((n) => ['AA', `C${i}-${n}`])));
    await Promise.all(clients.map((c) => c.close()));
  });

  it('answers each kind of malformed message with its own NAK, and stores none of them', async () => {
    const client = await mllpTestClient(port);
    const msh = (id: string, type = 'ORU^R01', version = '2.5.1') => `MSH|^~\\&|LIS|BJXH|HUB|REGION|20240315103000||${type}|${id}|P|${version}`;
    client.send(
      join([msh('N-1'), `PID|1||${ZHANG}^^^CHN^NNCHN`, 'OBR|1||F|GLU|||20240315']),
      join([msh('N-2'), 'PID|1||M1^^^BJXH^MR~110101199003074515^^^CHN^NNCHN', 'OBR|1||F|GLU|||20240315']),
      join([msh('N-3'), 'PID|1||M1', 'OBR|1||F|GLU|||20240315', 'OBX|1|BIN|GLU||5']),
      join([msh('N-4'), 'PID|1||M1', 'OBR|1||F|GLU|||2024-13-45']),
      join([msh('N-5', 'ORM^O01'), 'PID|1||M1']),
      'this is not HL7 at all',
      join([msh('N-7', 'ORU^R01', 'X9'), 'PID|1||M1']),
      Buffer.concat([Buffer.from(`${msh('N-8')}||||||UNICODE UTF-8\rPID|1||M1||`), iconv.encode('张三', 'gb18030'), Buffer.from('\r')]),
    );
    const acks = await client.acks(8);
    expect(acks.map((a) => [a.get('MSA-1'), a.get('MSA-2') ?? null, ...err(a)])).toEqual([
      ['AE', 'N-1', 'PID-3 101'],
      ['AE', 'N-2', 'PID-3[2] 102'],
      ['AE', 'N-3', 'OBX-2 103'],
      ['AE', 'N-4', 'OBR-7 102'],
      ['AE', 'N-5', 'MSH-9 200'],
      ['AR', null, 'MSH- 100'],
      ['AR', 'N-7', 'MSH-12 203'],
      ['AR', 'N-8', 'MSH-18 102'],
    ]);
    expect(acks[1]!.get('ERR-5')).toBe('national-id-check-digit');
    expect(await t.db('accepted_objects').where('identity', 'like', `${h1}|N-%`).count('* as n').first()).toEqual({ n: 0 });
    await client.close();
  });

  it('refuses a sender it does not know, and a registered facility connecting from another address, with AR', async () => {
    const client = await mllpTestClient(port);
    client.send(oruFrom('NOBODY', 'U-1'), oruFrom('H2LIS', 'U-2'));
    const acks = await client.acks(2);
    expect(acks.map((a) => [...msa(a), ...err(a), a.get('ERR-5')])).toEqual([
      ['AR', 'U-1', 'MSH-4 204', 'unknown-sender'],
      ['AR', 'U-2', 'MSH-4 204', 'unknown-sender'],
    ]);
    await client.close();
  });

  it('takes any facility from an address registered without one', async () => {
    await addHl7Sender(t.db, { organizationCode: 'H2', address: '127.0.0.1' });
    const client = await mllpTestClient(port);
    client.send(oruFrom('WHATEVER', 'A-1'));
    expect((await client.acks(1)).map(msa)).toEqual([['AA', 'A-1']]);
    const h2 = await t.db('organizations').where({ code: 'H2' }).first('id');
    expect(await t.db('accepted_objects').where({ identity: `${h2.id}|A-1` }).first('organization_id')).toEqual({ organization_id: h2.id });
    await t.db('hl7_senders').whereNull('sending_facility').delete();
    await client.close();
  });

  it('keeps serving others while one sender stalls mid-frame and another sends garbage, and closes the stalled one when idle', async () => {
    const stalled = await mllpTestClient(port);
    stalled.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from(oruFrom('BJXH', 'S-1').slice(0, 60))]));
    const noisy = await mllpTestClient(port);
    noisy.write(Buffer.from('GET / HTTP/1.1\r\n\r\n\x1c\r'));
    noisy.send(oruFrom('BJXH', 'S-2'));
    const started = Date.now();
    expect((await noisy.acks(1)).map(msa)).toEqual([['AA', 'S-2']]);
    expect(Date.now() - started).toBeLessThan(2000);
    await stalled.closed; // the idle timeout (400 ms here) frees the stalled sender's slot
    await noisy.close();
  });

  it('is idempotent on organization + MSH-10 + content: a resend is AA without a new row; new content is a new version', async () => {
    const client = await mllpTestClient(port);
    client.send(oruFrom('BJXH', 'D-1'), oruFrom('BJXH', 'D-1'), oruFrom('BJXH', 'D-1', '0'));
    expect((await client.acks(3)).map(msa)).toEqual([['AA', 'D-1'], ['AA', 'D-1'], ['AA', 'D-1']]);
    expect(await t.db('accepted_objects').where({ identity: `${h1}|D-1` }).count('* as n').first()).toEqual({ n: 2 });
    await client.close();
  });

  it('answers a GB18030 message in GB18030', async () => {
    const client = await mllpTestClient(port);
    const text = join(oru('GB18030').map((s, i) => (i === 0 ? s.replace('BJXH^12400000400002244A^ISO', 'BJXH') : s)));
    client.send(iconv.encode(text, 'gb18030'));
    const [raw] = await client.rawAcks(1);
    const ack = iconv.decode(raw!, 'gb18030');
    expect(ack).toContain('|GB18030\r');
    expect(ack).toContain('MSA|AA|LIS20240315000123');
    await client.close();
  });

  it('answers AR, and keeps the connection, when the message cannot be stored', async () => {
    const failing: Accept = async () => {
      throw new Error('disk full');
    };
    const sick = await start({ accept: failing });
    const client = await mllpTestClient(sick);
    client.send(oruFrom('BJXH', 'F-1'), oruFrom('BJXH', 'F-2'));
    const acks = await client.acks(2);
    expect(acks.map((a) => [...msa(a), a.get('ERR-3.1'), a.get('ERR-5')])).toEqual([
      ['AR', 'F-1', '207', 'storage-unavailable'],
      ['AR', 'F-2', '207', 'storage-unavailable'],
    ]);
    await client.close();
  });

  it('refuses a frame over the size limit with AR and reads the next one', async () => {
    const small = await start({ maxFrameBytes: 600 });
    const client = await mllpTestClient(small);
    client.send(oruFrom('BJXH', 'L-1', 'x'.repeat(1000)), oruFrom('BJXH', 'L-2'));
    const acks = await client.acks(2);
    expect(acks.map((a) => a.get('MSA-1'))).toEqual(['AR', 'AA']);
    expect(acks[1]!.get('MSA-2')).toBe('L-2');
    await client.close();
  });

  it('speaks MLLP over TLS, and with mutual TLS refuses an LIS without a certificate', async () => {
    const pair = async (name: string) => {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-keyout', path.join(root, `${name}.key`), '-out', path.join(root, `${name}.crt`)], { stdio: 'ignore' });
      return { key: await readFile(path.join(root, `${name}.key`)), cert: await readFile(path.join(root, `${name}.crt`)) };
    };
    const [hub, lis] = [await pair('localhost'), await pair('h1-lis')];
    const secure = await start({ tls: { ...hub, ca: [lis.cert], requestCert: true, rejectUnauthorized: true } });
    const client = await mllpTestClient(secure, '127.0.0.1', { ca: [hub.cert], servername: 'localhost', ...lis });
    client.send(oruFrom('BJXH', 'T-1'));
    expect((await client.acks(1)).map(msa)).toEqual([['AA', 'T-1']]);
    await client.close();
    const stranger = await mllpTestClient(secure, '127.0.0.1', { ca: [hub.cert], servername: 'localhost' }).catch(() => undefined);
    if (stranger) {
      stranger.send(oruFrom('BJXH', 'T-2'));
      await expect(stranger.acks(1, 2000)).rejects.toThrow();
      await stranger.close();
    }
    expect(await t.db('accepted_objects').where({ identity: `${h1}|T-2` }).first()).toBeUndefined();
  });
});
