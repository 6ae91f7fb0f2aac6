import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createFsBlobStore, type BlobStore } from '@hub/shared/blob';
import { encodeText, parseInstanceHeader, toDicomJson } from '@hub/shared/dicom';
import { buildInstance, generateUid, instanceSpec, type InstanceSpec } from '@hub/shared/dicom/testing';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, testLogger, TEST_ID_HASH_SECRET, type TestDatabase } from '@hub/shared/testing';
import { createIndexWorker } from '../worker';
import { indexDicom } from '.';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('indexing DICOM instances', () => {
  let t: TestDatabase;
  let root: string;
  let blob: BlobStore;
  let h1: number;
  let h2: number;
  beforeAll(async () => {
    t = await testDatabase();
    root = await mkdtemp(path.join(os.tmpdir(), 'hub-imaging-index-'));
    blob = createFsBlobStore({ root });
    h1 = (await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id;
    h2 = (await createOrganization(t.db, { code: 'H2', name: '二院', kind: 'hospital' })).id;
  });
  afterAll(async () => {
    await t.drop();
    await rm(root, { recursive: true, force: true });
  });

  const ctx = () => ({ blob, log: testLogger(), idHashSecret: TEST_ID_HASH_SECRET });
  const worker = (loops = 1, batchSize = 50) => createIndexWorker({ db: t.db, databaseUrl: t.url, ctx: ctx(), handlers: { dicom: indexDicom }, loops, batchSize, pollMs: 60_000 });

  /** What a door does: the object into the blob store, then its row with the header summary. */
  async function accept(bytes: Buffer, options: { organizationId?: number; summary?: Record<string, unknown> } = {}): Promise<number> {
    const { warnings: _w, pixelData, ...header } = parseInstanceHeader(bytes);
    const key = `dicom/${header.sopInstanceUid}/${sha(bytes)}.dcm`;
    await blob.put(key, bytes);
    const summary = { ...header, warnings: [], ...(pixelData ? { pixelData: { offset: pixelData.offset, length: pixelData.length, encapsulated: pixelData.encapsulated } } : {}), ...options.summary };
    const [row] = await t.db('accepted_objects')
      .insert({ kind: 'dicom', organization_id: options.organizationId ?? h1, identity: header.sopInstanceUid, sha256: sha(bytes), size: bytes.length, blob_key: key, source: 'test', summary: JSON.stringify(summary) })
      .returning('id');
    return row.id;
  }
  const study = (uid: string) => t.db('studies').where({ study_uid: uid }).first();
  const metadataOf = async (sopUid: string) =>
    (
      await t.db.raw(
        `select jsonb_strip_nulls(se.metadata_base || m.attributes) as json from instances i join series se on se.id = i.series_id join instance_metadata m on m.instance_id = i.id where i.sop_instance_uid = ?`,
        [sopUid],
      )
    ).rows[0].json;

  it('indexes a study: patient with its decoded GB18030 name, study, series, instances, roll-ups and metadata', async () => {
    const base: InstanceSpec = { studyInstanceUid: generateUid(), frameOfReferenceUid: generateUid(), patientId: 'GB-001', charset: 'GB18030', patientName: 'Zhang^San=张^三', accessionNumber: 'ACC-GB-1', studyDate: '20240115' };
    const ct = generateUid();
    const specs = [1, 2, 3].map((n) => instanceSpec({ ...base, modality: 'CT', seriesInstanceUid: ct, seriesNumber: 2, instanceNumber: n, extra: [{ tag: 0x00201041, vr: 'DS', value: String(n * 5) }] }));
    specs.push(instanceSpec({ ...base, modality: 'SR', seriesNumber: 9 }));
    for (const spec of specs) await accept(buildInstance(spec));
    expect(await worker().drain()).toBe(4);

    const row = await study(base.studyInstanceUid!);
    expect(row).toMatchObject({ accession_number: 'ACC-GB-1', study_date: '2024-01-15', series_count: 2, instance_count: 4, modalities: ['CT', 'SR'], body_parts: ['CHEST'] });
    expect(await t.db('patients').where({ id: row.patient_id }).first('local_id', 'name_alphabetic', 'name_ideographic')).toEqual({ local_id: 'GB-001', name_alphabetic: 'Zhang^San', name_ideographic: '张^三' });
    expect((await t.db('study_modalities').where({ study_id: row.id }).orderBy('modality')).map((m) => [m.modality, m.study_date])).toEqual([
      ['CT', '2024-01-15'],
      ['SR', '2024-01-15'],
    ]);
    expect(await t.db('series').where({ series_uid: ct }).first('instance_count', 'modality', 'series_number')).toEqual({ instance_count: 3, modality: 'CT', series_number: 2 });

    // each instance's metadata is the series base plus its own difference, and equals the header's DICOM JSON
    const second = buildInstance(specs[1]!);
    const expected = toDicomJson(second);
    expect(await metadataOf(specs[1]!.sopInstanceUid)).toEqual(expected);
    expect((await metadataOf(specs[1]!.sopInstanceUid))['00100010'].Value[0]).toEqual({ Alphabetic: 'Zhang^San', Ideographic: '张^三' });
    const diff = (await t.db('instances as i').join('instance_metadata as m', 'm.instance_id', 'i.id').where({ 'i.sop_instance_uid': specs[1]!.sopInstanceUid }).first('m.attributes')).attributes;
    expect(Object.keys(diff).sort()).toEqual(['00080018', '00200013', '00201041']);
  });

  it('finds the pixel data in the stored object, also when the door noted a wrong offset', async () => {
    const bytes = buildInstance({ modality: 'MR', rows: 256, columns: 256, numberOfFrames: 2, patientId: 'PX-1' });
    const { sopInstanceUid } = parseInstanceHeader(bytes);
    await accept(bytes, { summary: { pixelData: { offset: 700, encapsulated: false } } });
    await worker().drain();
    const row = await t.db('instances').where({ sop_instance_uid: sopInstanceUid }).first();
    expect(row).toMatchObject({ rows: 256, columns: 256, bits_allocated: 16, samples_per_pixel: 1, number_of_frames: 2, pixel_data_length: 256 * 256 * 2 * 2, pixel_data_encapsulated: false });
    expect(bytes.readUInt32BE(row.pixel_data_offset)).toBe(0x12345678);
    expect(row.pixel_data_offset + row.pixel_data_length).toBe(bytes.length);
  });

  it('indexes one study pushed twice at once (two senders, several workers) into one row per study, series and instance', async () => {
    const studyUid = generateUid();
    const seriesUids = [generateUid(), generateUid()];
    const specs = Array.from({ length: 24 }, (_, i) => instanceSpec({ studyInstanceUid: studyUid, seriesInstanceUid: seriesUids[i % 2], instanceNumber: i + 1, patientId: 'RACE-1', modality: i % 2 ? 'MR' : 'CT' }));
    // the same instances from two doors: the file meta differs, so the bytes (and the accepted rows) do too
    for (const spec of specs) {
      await accept(buildInstance({ ...spec, meta: { sourceApplicationEntityTitle: 'PACS_A' } }));
      await accept(buildInstance({ ...spec, meta: { sourceApplicationEntityTitle: 'PACS_B' } }));
    }
    await Promise.all([worker(1, 3).drain(), worker(1, 4).drain(), worker(1, 5).drain()]);

    expect(await t.db('accepted_objects').where({ state: 'accepted' }).select('error')).toEqual([]);
    const row = await study(studyUid);
    expect(row).toMatchObject({ series_count: 2, instance_count: 24, modalities: ['CT', 'MR'] });
    expect(await t.db('studies').where({ study_uid: studyUid }).count('* as c').first()).toEqual({ c: 1 });
    expect(await t.db('series').whereIn('series_uid', seriesUids).orderBy('series_uid').pluck('instance_count')).toEqual([12, 12]);
    expect(await t.db('instances as i').join('series as s', 's.id', 'i.series_id').where('s.study_id', row.id).count('* as c').first()).toEqual({ c: 24 });
    // the second push of each instance is its second version
    expect(await t.db('instance_versions as v').join('instances as i', 'i.id', 'v.instance_id').join('series as s', 's.id', 'i.series_id').where('s.study_id', row.id).count('* as c').first()).toEqual({ c: 24 });
  });

  it('replaces an instance by its new version and keeps the old one in the history', async () => {
    const spec = instanceSpec({ patientId: 'V-1', seriesDescription: 'first' });
    const first = await accept(buildInstance(spec));
    await worker().drain();
    const second = await accept(buildInstance({ ...spec, seriesDescription: 'corrected' }));
    await worker().drain();

    const current = await t.db('instances').where({ sop_instance_uid: spec.sopInstanceUid }).first();
    expect(current).toMatchObject({ accepted_object_id: second, version: 2 });
    const history = await t.db('instance_versions').where({ instance_id: current.id });
    expect(history).toEqual([expect.objectContaining({ accepted_object_id: first, replaced_by_accepted_object_id: second })]);
    expect(history[0].blob_key).not.toBe(current.blob_key);
    expect(await blob.head(history[0].blob_key)).not.toBeNull();
    expect(await t.db('series').where({ series_uid: spec.seriesInstanceUid }).first('description', 'instance_count')).toEqual({ description: 'corrected', instance_count: 1 });
    expect((await metadataOf(spec.sopInstanceUid))['0008103E'].Value).toEqual(['corrected']);
  });

  it('records an older version indexed after the current one as history, without replacing the current one', async () => {
    const spec = instanceSpec({ patientId: 'V-2' });
    const older = await accept(buildInstance({ ...spec, studyDescription: 'old' }));
    const newer = await accept(buildInstance({ ...spec, studyDescription: 'new' }));
    // the older one failed for a passing reason and comes back after the newer one is indexed
    await t.db('accepted_objects').where({ id: older }).update({ retry_at: t.db.raw(`now() + interval '1 hour'`) });
    await worker().drain();
    await t.db('accepted_objects').where({ id: older }).update({ retry_at: null });
    await worker().drain();
    const current = await t.db('instances').where({ sop_instance_uid: spec.sopInstanceUid }).first();
    expect(current).toMatchObject({ accepted_object_id: newer, version: 2 });
    expect(await t.db('instance_versions').where({ instance_id: current.id }).pluck('accepted_object_id')).toEqual([older]);
    expect(await study(spec.studyInstanceUid)).toMatchObject({ description: 'new', instance_count: 1 });
  });

  it('links the same resident across hospitals by the national ID hash the door noted', async () => {
    const nationalId = { hash: 'a'.repeat(64), masked: '110105********1234' };
    const a = instanceSpec({ patientId: 'H1-77' });
    const b = instanceSpec({ patientId: 'H2-88' });
    await accept(buildInstance(a), { summary: { nationalId } });
    await accept(buildInstance(b), { organizationId: h2, summary: { nationalId } });
    await worker().drain();
    const persons = await t.db('studies as st').join('patients as p', 'p.id', 'st.patient_id').whereIn('st.study_uid', [a.studyInstanceUid, b.studyInstanceUid]).pluck('p.person_id');
    expect(persons).toHaveLength(2);
    expect(persons[0]).toBe(persons[1]);
  });

  it('keeps the stand-in, never the resident ID number, in the metadata', async () => {
    const spec = instanceSpec({ patientId: '11010519491231002X' });
    await accept(buildInstance(spec), { summary: { patientId: 'NID-0123', patientIdIsNationalId: true, nationalId: { hash: 'b'.repeat(64), masked: '110105********002X' } } });
    await worker().drain();
    const json = await metadataOf(spec.sopInstanceUid);
    expect(json['00100020'].Value).toEqual(['NID-0123']);
    expect(JSON.stringify(json)).not.toContain('11010519491231002X');
  });

  it.each([
    ['a summary without the SOP Instance UID', { sopInstanceUid: undefined }, 'malformed DICOM summary: sopInstanceUid is missing'],
    ['a summary whose UIDs differ from the object', { studyInstanceUid: '1.2.3' }, 'differs from the summary'],
    ['an instance without a Patient ID', { patientId: undefined }, 'has no Patient ID'],
  ])('keeps %s as failed with its error', async (_name, patch, error) => {
    const bytes = buildInstance({ patientId: 'F-1' });
    const id = await accept(bytes, { summary: patch });
    await worker().drain();
    const row = await t.db('accepted_objects').where({ id }).first('state', 'error');
    expect(row.state).toBe('failed');
    expect(row.error).toContain(error);
  });

  it('keeps an object that is not DICOM as failed', async () => {
    const bytes = buildInstance({ patientId: 'F-2' });
    const { sopInstanceUid, studyInstanceUid, seriesInstanceUid } = parseInstanceHeader(bytes);
    const junk = Buffer.from(encodeText('这不是 DICOM', 'ISO_IR 192'));
    await blob.put('dicom/junk.bin', junk);
    const [row] = await t.db('accepted_objects')
      .insert({ kind: 'dicom', organization_id: h1, identity: sopInstanceUid, sha256: sha(junk), size: junk.length, blob_key: 'dicom/junk.bin', source: 'test', summary: JSON.stringify({ sopInstanceUid, studyInstanceUid, seriesInstanceUid, patientId: 'F-2' }) })
      .returning('id');
    await worker().drain();
    expect(await t.db('accepted_objects').where({ id: row.id }).first('state', 'error')).toEqual({ state: 'failed', error: expect.stringContaining('not a DICOM file') });
  });
});
