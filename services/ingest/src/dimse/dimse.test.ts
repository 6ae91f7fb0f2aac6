import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buffer } from 'node:stream/consumers';
import { parseInstanceHeader, TransferSyntax } from '@hub/shared/dicom';
import { buildDataSet, buildInstance, instanceSpec, type InstanceSpec } from '@hub/shared/dicom/testing';
import { unavailable } from '@hub/shared/errors';
import { createOrganization } from '@hub/shared/org';
import { freePort, startTestHub, type TestHub } from '@hub/shared/testing';
import { createIngestService } from '..';
import { registerDicomSender } from './senders';
import { rawStore, type RawInstance } from './test-scu';

const run = promisify(execFile);
const IMPLICIT = TransferSyntax.ImplicitVrLittleEndian;

describe('C-STORE SCP', () => {
  let hub: TestHub;
  let port: number;
  let dir: string;

  beforeAll(async () => {
    port = await freePort();
    hub = await startTestHub((h) => [createIngestService(h)], {
      DICOM_PORT: String(port),
      DICOM_HOST: '127.0.0.1',
      DICOM_AE_TITLE: 'HUB',
      MLLP_PORT: String(await freePort()),
      MLLP_HOST: '127.0.0.1',
    });
    const db = hub.hub.db;
    for (const code of ['H1', 'H2']) await createOrganization(db, { code, name: `${code} hospital`, kind: 'hospital' });
    await registerDicomSender(db, { organizationCode: 'H1', aeTitle: 'H1_PACS' });
    await registerDicomSender(db, { organizationCode: 'H1', aeTitle: 'H1_CT', addresses: ['127.0.0.0/8'] });
    await registerDicomSender(db, { organizationCode: 'H2', aeTitle: 'H2_PACS' });
    await registerDicomSender(db, { organizationCode: 'H2', aeTitle: 'H2_FAR', addresses: ['10.9.9.9'] });
    dir = await mkdtemp(path.join(tmpdir(), 'dimse-test-'));
  });
  afterAll(async () => {
    await hub?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  let n = 0;
  async function files(...specs: InstanceSpec[]): Promise<Array<{ file: string; spec: ReturnType<typeof instanceSpec>; dataSet: Buffer }>> {
    return Promise.all(
      specs.map(async (s) => {
        const spec = instanceSpec(s);
        const file = path.join(dir, `${++n}.dcm`);
        await writeFile(file, buildInstance(spec));
        return { file, spec, dataSet: buildDataSet(spec) };
      }),
    );
  }

  const storescu = (aet: string, paths: string[], extra: string[] = []) =>
    run('storescu', ['-aet', aet, '-aec', 'HUB', '-nh', ...extra, '127.0.0.1', String(port), ...paths]).catch((err: { code: number; stdout: string; stderr: string }) => err);

  const rows = (sopInstanceUid: string) => hub.hub.db('accepted_objects').where({ kind: 'dicom', identity: sopInstanceUid }).orderBy('id');
  const stored = async (sopInstanceUid: string) => buffer(await hub.hub.blob.get((await rows(sopInstanceUid))[0].blob_key));

  it('answers C-ECHO from a registered sender', async () => {
    const { stdout, stderr } = await run('echoscu', ['-v', '-aet', 'H1_PACS', '-aec', 'HUB', '127.0.0.1', String(port)]);
    expect(`${stdout}${stderr}`).toMatch(/Received Echo Response \(Success\)/);
  });

  it('stores what storescu pushes (CT, MR implicit VR, CR, DX, US, SC, PDF, JPEG-compressed) as Part-10 files with the data set byte for byte', async () => {
    const pushed = await files(
      { modality: 'CT' },
      { modality: 'MR', transferSyntaxUid: IMPLICIT },
      { modality: 'CR' },
      { modality: 'DX' },
      { modality: 'US' },
      { modality: 'OT' },
      { modality: 'DOC' },
      { modality: 'CT', transferSyntaxUid: TransferSyntax.JpegLosslessSv1, numberOfFrames: 2 },
    );
    // storescu proposes uncompressed transfer syntaxes unless told: -xs adds JPEG lossless
    expect(await storescu('H1_PACS', pushed.slice(0, 7).map((p) => p.file))).toMatchObject({ stderr: '' });
    expect(await storescu('H1_PACS', [pushed[7]!.file], ['-xs'])).toMatchObject({ stderr: '' });
    for (const { spec, dataSet } of pushed) {
      const [row] = await rows(spec.sopInstanceUid);
      expect(row).toMatchObject({ organization_id: expect.anything(), source: 'c-store', state: 'accepted' });
      expect(row.summary).toMatchObject({ sopClassUid: spec.sopClassUid, studyInstanceUid: spec.studyInstanceUid, transferSyntaxUid: spec.transferSyntaxUid, callingAeTitle: 'H1_PACS' });
      const bytes = await stored(spec.sopInstanceUid);
      expect(bytes.subarray(bytes.length - dataSet.length)).toEqual(dataSet);
      const header = parseInstanceHeader(bytes);
      expect(header).toMatchObject({ sopInstanceUid: spec.sopInstanceUid, transferSyntaxUid: spec.transferSyntaxUid });
      expect(row.blob_key).toBe(`dicom/${spec.studyInstanceUid}/${spec.seriesInstanceUid}/${spec.sopInstanceUid}/${row.sha256}.dcm`);
    }
    // DCMTK reads the stored file back
    const jpeg = pushed[7]!;
    const out = path.join(dir, 'back.dcm');
    await writeFile(out, await stored(jpeg.spec.sopInstanceUid));
    const { stdout } = await run('dcmdump', ['-M', out]);
    expect(stdout).toContain('=JPEGLossless:Non-hierarchical-1stOrderPrediction');
    expect(stdout).toMatch(/\(fffe,e000\) pi/);
  });

  it('keeps a GB18030 and a UTF-8 Chinese patient name', async () => {
    const pushed = await files({ charset: 'GB18030', patientName: 'Zhang^San=张^三' }, { charset: 'ISO_IR 192', patientName: 'Li^Si=李^四', transferSyntaxUid: IMPLICIT });
    await storescu('H1_PACS', pushed.map((p) => p.file));
    expect((await rows(pushed[0]!.spec.sopInstanceUid))[0].summary).toMatchObject({ patientName: { alphabetic: 'Zhang^San', ideographic: '张^三' }, specificCharacterSet: ['GB18030'] });
    expect((await rows(pushed[1]!.spec.sopInstanceUid))[0].summary).toMatchObject({ patientName: { alphabetic: 'Li^Si', ideographic: '李^四' }, specificCharacterSet: ['ISO_IR 192'] });
  });

  const raw = (s: InstanceSpec, bytes?: (b: Buffer) => Buffer): RawInstance => {
    const spec = instanceSpec({ ...s, transferSyntaxUid: IMPLICIT });
    const dataSet = buildDataSet(spec);
    return { sopClassUid: spec.sopClassUid, sopInstanceUid: spec.sopInstanceUid, bytes: bytes ? bytes(dataSet) : dataSet };
  };

  it('answers each bad instance with its own status and stores the good one that follows on the same association', async () => {
    const good = raw({ modality: 'CT' });
    const noSopInstance = raw({ omit: [0x00080018] });
    const otherClass = raw({ modality: 'MR' });
    const result = await rawStore(port, 'H1_PACS', 'HUB', [
      raw({}, (b) => b.subarray(0, b.length - 1000)),
      { ...raw({}), bytes: Buffer.from('this is not DICOM at all, only some text of even length.') },
      noSopInstance,
      { ...otherClass, sopClassUid: '1.2.840.10008.5.1.4.1.1.2' },
      good,
    ]);
    expect(result).toEqual({
      results: [
        { status: 0xc000, errorComment: expect.stringMatching(/^0xC000 truncated/) },
        { status: 0xc000, errorComment: expect.stringMatching(/^0xC000 (malformed|truncated)/) },
        { status: 0xa900, errorComment: expect.stringMatching(/^0xA900 missing-sop-instance-uid/) },
        { status: 0xa900, errorComment: expect.stringMatching(/^0xA900 sop-class-uid-mismatch/) },
        { status: 0x0000, errorComment: undefined },
      ],
    });
    expect(await rows(good.sopInstanceUid)).toHaveLength(1);
    expect(await rows(otherClass.sopInstanceUid)).toHaveLength(0);
  });

  it.each([
    ['an unknown calling AE title', 'NOBODY', 'HUB', 3],
    ['a calling AE title registered for another source address', 'H2_FAR', 'HUB', 3],
    ['a called AE title other than the hub', 'H1_PACS', 'NOT_HUB', 7],
  ])('rejects the association of %s', async (_what, calling, called, reason) => {
    expect(await rawStore(port, calling, called, [raw({})])).toEqual({ rejected: { result: 1, source: 1, reason } });
  });

  it('answers a C-ECHO and then C-STOREs on the same association', async () => {
    expect(await rawStore(port, 'H1_PACS', 'HUB', [raw({}), raw({ modality: 'MR' })], { echoFirst: true })).toEqual({ results: [{ status: 0 }, { status: 0 }] });
  });

  it('accepts a sender registered with its source network', async () => {
    expect(await rawStore(port, 'H1_CT', 'HUB', [raw({})])).toEqual({ results: [{ status: 0 }] });
  });

  it('stores a pushed instance once however often it comes, and from two senders at once one row per instance', async () => {
    const study = instanceSpec().studyInstanceUid;
    const pushed = await files(...Array.from({ length: 6 }, (_, i) => ({ studyInstanceUid: study, instanceNumber: i + 1 })));
    const paths = pushed.map((p) => p.file);
    await Promise.all([storescu('H1_PACS', paths), storescu('H1_CT', paths), storescu('H1_PACS', paths)]);
    await storescu('H1_PACS', paths);
    for (const p of pushed) expect(await rows(p.spec.sopInstanceUid)).toHaveLength(1);
  });

  it('refuses an instance of a study another organization holds, with 0x0124 Not Authorized', async () => {
    const study = instanceSpec().studyInstanceUid;
    expect(await rawStore(port, 'H1_PACS', 'HUB', [raw({ studyInstanceUid: study })])).toEqual({ results: [{ status: 0 }] });
    const intruder = raw({ studyInstanceUid: study });
    const result = await rawStore(port, 'H2_PACS', 'HUB', [intruder]);
    expect(result).toEqual({ results: [{ status: 0x0124, errorComment: expect.stringMatching(/study-held-by-another-organization/) }] });
    expect(await rows(intruder.sopInstanceUid)).toHaveLength(0);
  });

  it('answers 0xA700 while the blob store cannot write, and stores again once it can', async () => {
    const spy = jest.spyOn(hub.hub.blob, 'put').mockRejectedValueOnce(unavailable('blob store cannot write: ENOSPC', { code: 'ENOSPC' }));
    const instance = raw({});
    const result = await rawStore(port, 'H1_PACS', 'HUB', [instance, instance]);
    spy.mockRestore();
    expect(result).toEqual({ results: [{ status: 0xa700, errorComment: expect.any(String) }, { status: 0 }] });
    expect(await rows(instance.sopInstanceUid)).toHaveLength(1);
  });

  it('leaves no spool file behind', async () => {
    expect(await readdir(path.join(hub.hub.config.dataDir, 'spool', 'dicom'))).toEqual([]);
  });
});
