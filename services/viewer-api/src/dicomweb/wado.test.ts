import { Router } from 'express';
import { toDicomJson, TransferSyntax } from '@hub/shared/dicom';
import { buildInstance, generateUid, instanceSpec } from '@hub/shared/dicom/testing';
import { readJson, startTestHub, type TestHub } from '@hub/shared/testing';
import { createDicomwebRouter } from '.';
import { indexInstances, parseMultipart } from './testing';

describe('WADO-RS', () => {
  let t: TestHub;
  let token: string;
  const study = generateUid();
  const ct = generateUid();
  const jpeg = generateUid();
  const frameBytes = 16 * 16 * 2;
  // three CT slices; a 3-frame native image whose frame k is filled with byte k; a 2-frame JPEG Lossless series
  const sliceSpecs = [1, 2, 3].map((n) => instanceSpec({ studyInstanceUid: study, seriesInstanceUid: ct, seriesNumber: 1, instanceNumber: n, patientId: 'W-1', pixelBytes: 20_000 + n }));
  const slices = sliceSpecs.map((spec) => buildInstance(spec));
  const multiFrame = instanceSpec({ studyInstanceUid: study, seriesNumber: 2, modality: 'MR', rows: 16, columns: 16, numberOfFrames: 3, patientId: 'W-1', extra: [{ tag: 0x7fe00010, vr: 'OW', value: Buffer.concat([1, 2, 3].map((k) => Buffer.alloc(frameBytes, k))) }] });
  const jpegFrame = (fill: number) => Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(300, fill), Buffer.from([0xff, 0xd9])]);
  const jpegFrames = [jpegFrame(0x11), jpegFrame(0x22)];
  const compressed = instanceSpec({
    studyInstanceUid: study, seriesInstanceUid: jpeg, seriesNumber: 3, transferSyntaxUid: TransferSyntax.JpegLossless, numberOfFrames: 2, rows: 32, columns: 32, patientId: 'W-1',
    extra: [{ tag: 0x7fe00010, vr: 'OB', value: { fragments: jpegFrames, offsets: [0, 8 + jpegFrames[0]!.length] } }],
  });
  const files = [...slices, buildInstance(multiFrame), buildInstance(compressed)];

  beforeAll(async () => {
    t = await startTestHub((hub) => [
      // the STOW-RS door answers POST on the same paths, and is mounted first in the hub
      { name: 'stow', mount: (app) => app.use(Router().post('/dicomweb/studies{/:study}', (_req, res) => void res.status(200).end())) },
      { name: 'dicomweb', mount: (app) => app.use(createDicomwebRouter({ db: hub.db, blob: hub.blob, log: hub.log, publicUrl: 'http://hub.example' })) },
    ]);
    token = await t.tokenFor('H1', ['results:read']);
    await indexInstances(t.hub, 'H1', files);
  });
  afterAll(() => t.stop());

  const get = (path: string, accept?: string) => fetch(`${t.baseUrl}/dicomweb${path.replace('http://hub.example/dicomweb', '')}`, { headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) } });
  const multipart = async (res: Response) => parseMultipart(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type')!);

  it('retrieves a study as multipart/related application/dicom, each part byte-identical to what was pushed', async () => {
    const res = await get(`/studies/${study}`, 'multipart/related; type="application/dicom"; transfer-syntax=*');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
    const parts = await multipart(res);
    expect(parts.map((p) => Buffer.compare(p.body, files[parts.indexOf(p)]!))).toEqual([0, 0, 0, 0, 0]);
    expect(parts[4]!.headers['content-type']).toBe(`application/dicom; transfer-syntax=${TransferSyntax.JpegLossless}`);
    expect(parts[0]!.headers['content-length']).toBe(String(files[0]!.length));
  });

  it('retrieves a series, and one instance as multipart or as a single application/dicom body', async () => {
    const series = await multipart(await get(`/studies/${study}/series/${ct}`));
    expect(series.map((p) => p.body.equals(slices[series.indexOf(p)]!))).toEqual([true, true, true]);
    const sop = sliceSpecs[1]!.sopInstanceUid;
    const one = await multipart(await get(`/studies/${study}/series/${ct}/instances/${sop}`, 'multipart/related; type="application/dicom"'));
    expect(one).toHaveLength(1);
    expect(one[0]!.body.equals(slices[1]!)).toBe(true);
    const single = await get(`/studies/${study}/series/${ct}/instances/${sop}`, 'application/dicom');
    expect(single.headers.get('content-type')).toBe('application/dicom');
    expect(Buffer.from(await single.arrayBuffer()).equals(slices[1]!)).toBe(true);
  });

  it('sends instances as stored: another transfer syntax or media type is 406', async () => {
    expect((await get(`/studies/${study}/series/${ct}`, `multipart/related; type="application/dicom"; transfer-syntax=${TransferSyntax.ExplicitVrLittleEndian}`)).status).toBe(200);
    const res = await get(`/studies/${study}/series/${jpeg}`, `multipart/related; type="application/dicom"; transfer-syntax=${TransferSyntax.ExplicitVrLittleEndian}`);
    expect(res.status).toBe(406);
    expect((await readJson(res)).error.message).toContain(TransferSyntax.JpegLossless);
    expect((await get(`/studies/${study}`, 'application/zip')).status).toBe(406);
    expect((await get(`/studies/${study}/series/${jpeg}`, `multipart/related; type="application/dicom"; transfer-syntax=${TransferSyntax.JpegLossless}`)).status).toBe(200);
  });

  it('serves metadata at study, series and instance level, with BulkDataURIs that return the bytes', async () => {
    const res = await get(`/studies/${study}/metadata`);
    expect(res.headers.get('content-type')).toContain('application/dicom+json');
    const all = await readJson(res);
    expect(all).toHaveLength(5);
    const { '7FE00010': pixel, ...rest } = all[0];
    expect(rest).toEqual(toDicomJson(slices[0]!));
    const pixels = Buffer.from(await (await get(pixel.BulkDataURI, 'application/octet-stream')).arrayBuffer());
    expect(pixel.vr).toBe('OW');
    expect(pixels.equals(slices[0]!.subarray(slices[0]!.length - pixels.length))).toBe(true);
    expect(pixels.length).toBe(20_002);
    expect(await readJson(await get(`/studies/${study}/series/${ct}/metadata`))).toHaveLength(3);
    const sop = all[1]['00080018'].Value[0];
    const [one] = await readJson(await get(`/studies/${study}/series/${ct}/instances/${sop}/metadata`));
    expect(one['00200013'].Value).toEqual([2]);
    // encapsulated pixel data is served as frames, not as bulk data
    expect(all[4]['7FE00010']).toBeUndefined();
  });

  it('cuts frames out of uncompressed pixel data', async () => {
    const url = `/studies/${study}/series/${multiFrame.seriesInstanceUid}/instances/${multiFrame.sopInstanceUid}/frames/3,1`;
    const res = await get(url, 'multipart/related; type="application/octet-stream"; transfer-syntax=*');
    expect(res.status).toBe(200);
    const parts = await multipart(res);
    expect(parts.map((p) => [p.body.length, p.body[0], p.body[frameBytes - 1], p.headers['content-type']])).toEqual([
      [frameBytes, 3, 3, `application/octet-stream; transfer-syntax=${TransferSyntax.ExplicitVrLittleEndian}`],
      [frameBytes, 1, 1, `application/octet-stream; transfer-syntax=${TransferSyntax.ExplicitVrLittleEndian}`],
    ]);
    expect((await get(url.replace('3,1', '4'))).status).toBe(404);
    expect((await get(url, 'multipart/related; type="image/jpeg"')).status).toBe(406);
  });

  it('serves compressed frames as stored, one fragment per frame', async () => {
    const url = `/studies/${study}/series/${jpeg}/instances/${compressed.sopInstanceUid}/frames/2`;
    const parts = await multipart(await get(url, 'multipart/related; type=application/octet-stream; transfer-syntax=*'));
    expect(parts).toHaveLength(1);
    expect(parts[0]!.headers['content-type']).toBe(`application/octet-stream; transfer-syntax=${TransferSyntax.JpegLossless}`);
    const frame = parts[0]!.body;
    expect(frame.equals(jpegFrames[1]!)).toBe(true);
    const asJpeg = await get(url, 'image/jpeg');
    expect(asJpeg.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await asJpeg.arrayBuffer()).equals(frame)).toBe(true);
  });

  it('answers a CORS preflight without a token, also where STOW-RS has a route, and lets the viewer read the answer', async () => {
    for (const path of ['/dicomweb/studies', `/dicomweb/studies/${study}/metadata`]) {
      const res = await fetch(`${t.baseUrl}${path}`, { method: 'OPTIONS', headers: { origin: 'http://viewer.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-headers')).toContain('Authorization');
      expect(res.headers.get('access-control-allow-headers')).toContain('X-Emergency-Reason');
    }
    const res = await fetch(`${t.baseUrl}/dicomweb/studies/${study}/metadata`, { headers: { origin: 'http://viewer.example', authorization: `Bearer ${token}` } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const denied = await fetch(`${t.baseUrl}/dicomweb/studies`, { headers: { origin: 'http://viewer.example' } });
    expect([denied.status, denied.headers.get('access-control-allow-origin')]).toEqual([401, '*']);
  });

  it('audits each retrieval before answering, and the frames of a study once per viewer', async () => {
    const count = async (action: string) => Number((await t.hub.db('audit_events').where({ resource_id: study, action }).count('* as c').first())!.c);
    const retrievals = await count('dicomweb-retrieve');
    await (await get(`/studies/${study}/series/${ct}`)).arrayBuffer();
    expect(await count('dicomweb-retrieve')).toBe(retrievals + 1);
    const latest = await t.hub.db('audit_events').where({ resource_id: study, action: 'dicomweb-retrieve' }).orderBy('id', 'desc').first();
    expect(latest).toMatchObject({ resource_type: 'ImagingStudy', detail: { series: ct, instances: 3 }, patient_id: expect.any(Number) });
    const frames = `/studies/${study}/series/${multiFrame.seriesInstanceUid}/instances/${multiFrame.sopInstanceUid}/frames`;
    for (const n of [1, 2, 3]) await (await get(`${frames}/${n}`)).arrayBuffer();
    expect(await count('dicomweb-frames')).toBe(1);
  });

  it.each([
    ['an unknown study', 404, `/studies/${generateUid()}`],
    ['an unknown instance of a known series', 404, `/studies/${study}/series/${ct}/instances/${generateUid()}/metadata`],
    ['a path segment that is not a UID', 400, '/studies/not-a-uid/metadata'],
  ])('answers %s with %i', async (_name, status, path) => {
    expect((await get(path)).status).toBe(status);
  });
});
