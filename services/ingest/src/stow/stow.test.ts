import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { TransferSyntax } from '@hub/shared/dicom';
import { buildInstance, instanceSpec, type InstanceSpec } from '@hub/shared/dicom/testing';
import { freePort, readJson, startTestHub, type TestHub } from '@hub/shared/testing';
import { createIngestService } from '..';
import { registerDicomSender } from '../dimse/senders';

const run = promisify(execFile);
const BOUNDARY = 'stow-test-boundary';
const MULTIPART = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;

function multipart(parts: Buffer[], partType = 'application/dicom'): Buffer {
  const chunks = parts.flatMap((p) => [Buffer.from(`--${BOUNDARY}\r\nContent-Type: ${partType}\r\n\r\n`), p, Buffer.from('\r\n')]);
  return Buffer.concat([...chunks, Buffer.from(`--${BOUNDARY}--\r\n`)]);
}

/** What the response says about each instance: [sopInstanceUid, failure reason or 'ok'] */
function outcomes(body: Record<string, { Value?: Array<Record<string, { Value?: unknown[] }>> }>) {
  const ok = (body['00081199']?.Value ?? []).map((i) => [i['00081155']?.Value?.[0], 'ok']);
  const failed = (body['00081198']?.Value ?? []).map((i) => [i['00081155']?.Value?.[0], i['00081197']!.Value![0]]);
  return [...ok, ...failed];
}

describe('STOW-RS', () => {
  let hub: TestHub;
  let dicomPort: number;
  let h1: string;
  let h2: string;

  beforeAll(async () => {
    dicomPort = await freePort();
    hub = await startTestHub((h) => [createIngestService(h)], {
      DICOM_PORT: String(dicomPort),
      DICOM_HOST: '127.0.0.1',
      MLLP_PORT: String(await freePort()),
      MLLP_HOST: '127.0.0.1',
      HUB_PUBLIC_URL: 'https://hub.example.cn',
    });
    h1 = await hub.tokenFor('H1', ['results:write']);
    h2 = await hub.tokenFor('H2', ['results:write']);
  });
  afterAll(() => hub?.stop());

  const stow = (body: Buffer | Readable, token = h1, contentType = MULTIPART, study?: string) =>
    fetch(`${hub.baseUrl}/dicomweb/studies${study ? `/${study}` : ''}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType, accept: 'application/dicom+json' },
      body: body instanceof Readable ? (Readable.toWeb(body) as ReadableStream) : body,
      duplex: 'half',
    } as RequestInit);
  const rows = (sopInstanceUid: string) => hub.hub.db('accepted_objects').where({ kind: 'dicom', identity: sopInstanceUid }).orderBy('id');
  const stored = async (sopInstanceUid: string) => buffer(await hub.hub.blob.get((await rows(sopInstanceUid))[0].blob_key));
  const instances = (...specs: InstanceSpec[]) => specs.map((s) => instanceSpec(s)).map((spec) => ({ spec, file: buildInstance(spec) }));

  it('stores instances of several modalities and transfer syntaxes byte for byte and answers 200 with where to retrieve them', async () => {
    const study = instanceSpec().studyInstanceUid;
    const sent = instances(
      { modality: 'CT', studyInstanceUid: study },
      { modality: 'MR', studyInstanceUid: study, transferSyntaxUid: TransferSyntax.ImplicitVrLittleEndian },
      { modality: 'US', studyInstanceUid: study },
      { modality: 'DOC', studyInstanceUid: study },
      { modality: 'CT', studyInstanceUid: study, transferSyntaxUid: TransferSyntax.JpegLosslessSv1, numberOfFrames: 3, rows: 256, columns: 256 },
      { modality: 'SR', studyInstanceUid: study, transferSyntaxUid: TransferSyntax.DeflatedExplicitVrLittleEndian },
      { modality: 'CT', studyInstanceUid: study, rows: 512, columns: 512 },
    );
    const res = await stow(multipart(sent.map((s) => s.file)));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/dicom\+json/);
    const body = await readJson(res);
    expect(body['00081190']).toEqual({ vr: 'UR', Value: [`https://hub.example.cn/dicomweb/studies/${study}`] });
    expect(body['00081199'].Value[4]).toEqual({
      '00081150': { vr: 'UI', Value: [sent[4]!.spec.sopClassUid] },
      '00081155': { vr: 'UI', Value: [sent[4]!.spec.sopInstanceUid] },
      '00081190': { vr: 'UR', Value: [`https://hub.example.cn/dicomweb/studies/${study}/series/${sent[4]!.spec.seriesInstanceUid}/instances/${sent[4]!.spec.sopInstanceUid}`] },
    });
    for (const { spec, file } of sent) {
      expect(await stored(spec.sopInstanceUid)).toEqual(file);
      expect((await rows(spec.sopInstanceUid))[0]).toMatchObject({ source: 'stow-rs', size: file.length, summary: { transferSyntaxUid: spec.transferSyntaxUid, studyInstanceUid: study } });
    }
    expect((await rows(sent[6]!.spec.sopInstanceUid))[0].summary.pixelData).toMatchObject({ length: 512 * 512 * 2, encapsulated: false });
    expect((await rows(sent[4]!.spec.sopInstanceUid))[0].summary.pixelData).toMatchObject({ encapsulated: true, fragments: 3 });
  });

  it('keeps a GB18030 and a UTF-8 Chinese patient name, and the bytes as sent', async () => {
    const sent = instances({ charset: 'GB18030', patientName: 'Wang^Wu=王^五' }, { charset: 'ISO_IR 192', patientName: 'Zhao^Liu=赵^六' });
    expect((await stow(multipart(sent.map((s) => s.file)))).status).toBe(200);
    expect((await rows(sent[0]!.spec.sopInstanceUid))[0].summary.patientName).toEqual({ alphabetic: 'Wang^Wu', ideographic: '王^五' });
    expect((await rows(sent[1]!.spec.sopInstanceUid))[0].summary.patientName).toEqual({ alphabetic: 'Zhao^Liu', ideographic: '赵^六' });
    expect(await stored(sent[0]!.spec.sopInstanceUid)).toEqual(sent[0]!.file);
  });

  it('answers 202 with a failure reason for each bad instance, stores the good ones, and keeps serving', async () => {
    const [good1, big, noUid, notStorage, good2] = instances({}, { rows: 512, columns: 512 }, { omit: [0x00080018] }, { sopClassUid: '1.2.840.10008.5.1.4.1.1.9999' }, {});
    const res = await stow(
      multipart([good1!.file, big!.file.subarray(0, big!.file.length - 100_000), Buffer.from('%PDF-1.4 not a DICOM file, only some bytes'), noUid!.file, notStorage!.file, good2!.file]),
    );
    expect(res.status).toBe(202);
    expect(outcomes(await readJson(res))).toEqual([
      [good1!.spec.sopInstanceUid, 'ok'],
      [good2!.spec.sopInstanceUid, 'ok'],
      [undefined, 0xc000],
      [undefined, 0xc000],
      [undefined, 0xa900],
      [notStorage!.spec.sopInstanceUid, 0x0122],
    ]);
    expect(await rows(big!.spec.sopInstanceUid)).toHaveLength(0);
    expect((await stow(multipart(instances({}).map((s) => s.file)))).status).toBe(200);
  });

  it('answers 409 when every instance failed', async () => {
    const res = await stow(multipart([Buffer.from('not DICOM'), Buffer.alloc(300)]));
    expect(res.status).toBe(409);
    expect(outcomes(await readJson(res))).toEqual([
      [undefined, 0xc000],
      [undefined, 0xc000],
    ]);
  });

  it('to /studies/{study} refuses an instance of another study with 0xC409', async () => {
    const [inStudy, other] = instances({}, {});
    const res = await stow(multipart([inStudy!.file, other!.file]), h1, MULTIPART, inStudy!.spec.studyInstanceUid);
    expect(res.status).toBe(202);
    expect(outcomes(await readJson(res))).toEqual([
      [inStudy!.spec.sopInstanceUid, 'ok'],
      [other!.spec.sopInstanceUid, 0xc409],
    ]);
  });

  it.each([
    ['multipart/related; type="application/dicom+xml"; boundary=x', 415],
    ['application/json', 415],
    ['application/dicom', 415],
    ['multipart/related; type="application/dicom"', 400],
  ])('answers Content-Type %s with %i', async (contentType, status) => {
    const res = await stow(multipart(instances({}).map((s) => s.file)), h1, contentType);
    expect(res.status).toBe(status);
  });

  it('answers 400 for a body cut before its closing boundary, and one without instances', async () => {
    const body = multipart(instances({}).map((s) => s.file));
    expect((await stow(body.subarray(0, body.length - 40))).status).toBe(400);
    expect((await stow(Buffer.from(`--${BOUNDARY}--\r\n`))).status).toBe(400);
  });

  it('answers 403 to a token without results:write and 401 without a token', async () => {
    const reader = await hub.tokenFor('H1', ['results:read']);
    expect((await stow(multipart(instances({}).map((s) => s.file)), reader)).status).toBe(403);
    const res = await fetch(`${hub.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': MULTIPART }, body: multipart([]) });
    expect(res.status).toBe(401);
  });

  it("refuses to let one organization write into another organization's study (0x0124)", async () => {
    const study = instanceSpec().studyInstanceUid;
    const [mine, intruder] = instances({ studyInstanceUid: study }, { studyInstanceUid: study });
    expect((await stow(multipart([mine!.file]), h1)).status).toBe(200);
    const res = await stow(multipart([intruder!.file]), h2);
    expect(res.status).toBe(409);
    expect(outcomes(await readJson(res))).toEqual([[intruder!.spec.sopInstanceUid, 0x0124]]);
    expect(await rows(intruder!.spec.sopInstanceUid)).toHaveLength(0);
  });

  it('keeps one row per instance when the same study is pushed twice at once, again later, and through C-STORE', async () => {
    const study = instanceSpec().studyInstanceUid;
    const sent = instances(...Array.from({ length: 5 }, (_, i) => ({ studyInstanceUid: study, instanceNumber: i + 1 })));
    const body = multipart(sent.map((s) => s.file));
    const answers = await Promise.all([stow(body), stow(body)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect((await stow(body)).status).toBe(200);

    await registerDicomSender(hub.hub.db, { organizationCode: 'H1', aeTitle: 'H1_STOW_PACS' });
    const dir = await mkdtemp(path.join(tmpdir(), 'stow-dimse-'));
    const files = await Promise.all(sent.map(async (s, i) => (await writeFile(path.join(dir, `${i}.dcm`), s.file), path.join(dir, `${i}.dcm`))));
    await run('storescu', ['-aet', 'H1_STOW_PACS', '-aec', 'HUB', '127.0.0.1', String(dicomPort), ...files]);
    await rm(dir, { recursive: true });
    for (const { spec } of sent) expect(await rows(spec.sopInstanceUid)).toHaveLength(1);
  });

  it('takes a large instance streamed in small chunks, with its pixel data checked against the file', async () => {
    const [large] = instances({ rows: 2048, columns: 2048, numberOfFrames: 4 }); // 32 MiB of pixel data
    const body = multipart([large!.file]);
    const chunks = (function* () {
      for (let at = 0; at < body.length; at += 65_521) yield body.subarray(at, at + 65_521);
    })();
    const res = await stow(Readable.from(chunks));
    expect(res.status).toBe(200);
    expect((await stored(large!.spec.sopInstanceUid)).equals(large!.file)).toBe(true);
  });
});
