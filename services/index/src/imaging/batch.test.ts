import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createFsBlobStore, type BlobStore } from '@hub/shared/blob';
import type { Knex } from '@hub/shared/db';
import { encodeText, parseInstanceHeader } from '@hub/shared/dicom';
import { buildInstance, generateUid, instanceSpec, type InstanceSpec } from '@hub/shared/dicom/testing';
import { maskNationalId, nationalIdHash } from '@hub/shared/identity';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, testLogger, TEST_ID_HASH_SECRET, type TestDatabase } from '@hub/shared/testing';
import { createIndexWorker, type IndexBatchHandler } from '../worker';
import { indexDicom, indexDicomBatch } from '.';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const RECEIVED = new Date('2026-11-23T08:00:00.000Z');

/** One accepted row as a door writes it: [organization (1 or 2), the bytes, what to change in the summary, retry later]. */
interface Push {
  org?: 1 | 2;
  bytes: Buffer;
  summary?: Record<string, unknown>;
  held?: boolean;
}

/** The index as a reader sees it, by natural keys (row ids differ between databases). */
async function indexState(db: Knex) {
  const rows = async (sql: string) => (await db.raw(sql)).rows;
  return {
    patients: await rows(`select o.code, p.local_id, p.name_alphabetic, p.name_ideographic, p.name_key, p.birth_date, p.sex, p.national_id_hash, p.national_id_masked,
                                 (select string_agg(o2.code || '/' || p2.local_id, '+' order by o2.code, p2.local_id) from patients p2 join organizations o2 on o2.id = p2.organization_id where p2.person_id = p.person_id) as person
                          from patients p join organizations o on o.id = p.organization_id order by o.code, p.local_id`),
    studies: await rows(`select st.study_uid, o.code, p.local_id as patient, st.study_date, st.study_time, st.accession_number, st.study_id, st.description, st.modalities, st.body_parts,
                                st.referring_physician, st.series_count, st.instance_count
                         from studies st join patients p on p.id = st.patient_id join organizations o on o.id = st.organization_id order by st.study_uid`),
    modalities: await rows(`select st.study_uid, sm.modality, sm.study_date from study_modalities sm join studies st on st.id = sm.study_id order by 1, 2`),
    series: await rows(`select se.series_uid, st.study_uid, se.modality, se.series_number, se.description, se.body_part, se.instance_count, se.metadata_base
                        from series se join studies st on st.id = se.study_id order by se.series_uid`),
    instances: await rows(`select i.sop_instance_uid, se.series_uid, i.sop_class_uid, i.instance_number, i.transfer_syntax_uid, i.rows, i.columns, i.samples_per_pixel, i.bits_allocated,
                                  i.number_of_frames, i.pixel_data_offset, i.pixel_data_length, i.pixel_data_encapsulated, i.accepted_object_id, i.blob_key, i.size, i.sha256, i.version,
                                  i.received_at, m.attributes, jsonb_strip_nulls(se.metadata_base || m.attributes) as metadata
                           from instances i join series se on se.id = i.series_id left join instance_metadata m on m.instance_id = i.id order by i.sop_instance_uid`),
    versions: await rows(`select i.sop_instance_uid, v.accepted_object_id, v.blob_key, v.sha256, v.received_at, v.replaced_by_accepted_object_id
                          from instance_versions v join instances i on i.id = v.instance_id order by 1, 2`),
    accepted: await rows(`select id, state, error from accepted_objects order by id`),
  };
}

describe('indexing a batch of DICOM instances at once', () => {
  const dbs: TestDatabase[] = [];
  let root: string;
  let blob: BlobStore;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'hub-imaging-batch-'));
    blob = createFsBlobStore({ root });
  });
  afterAll(async () => {
    for (const d of dbs) await d.drop();
    await rm(root, { recursive: true, force: true });
  });

  /** A fresh database with two hospitals. */
  async function database() {
    const t = await testDatabase();
    dbs.push(t);
    const orgs = [(await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id, (await createOrganization(t.db, { code: 'H2', name: '二院', kind: 'hospital' })).id];
    return { t, orgs };
  }

  /** What a door does: the object into the blob store, then its row with the header summary. */
  async function accept(db: { t: TestDatabase; orgs: number[] }, push: Push): Promise<number> {
    const { warnings: _w, pixelData, ...header } = parseInstanceHeader(push.bytes);
    const key = `dicom/${header.sopInstanceUid}/${sha(push.bytes)}.dcm`;
    await blob.put(key, push.bytes);
    const summary = { ...header, warnings: [], ...(pixelData ? { pixelData: { offset: pixelData.offset, length: pixelData.length } } : {}), ...push.summary };
    const [row] = await db.t.db('accepted_objects')
      .insert({
        kind: 'dicom',
        organization_id: db.orgs[(push.org ?? 1) - 1],
        identity: header.sopInstanceUid,
        sha256: sha(push.bytes),
        size: push.bytes.length,
        blob_key: key,
        source: 'test',
        summary: JSON.stringify(summary),
        received_at: RECEIVED,
        ...(push.held ? { retry_at: db.t.db.raw(`now() + interval '1 hour'`) } : {}),
      })
      .returning('id');
    return row.id;
  }

  const ctx = () => ({ blob, log: testLogger(), idHashSecret: TEST_ID_HASH_SECRET });
  /** The batch handler, with what it leaves to the worker and any error it throws (then the worker falls back to one by one) on record. */
  function watched() {
    const seen = { left: [] as number[], errors: [] as unknown[], statements: 0 };
    const handler: IndexBatchHandler = async (trx, objects, c) => {
      const count = () => seen.statements++;
      trx.on('query', count);
      try {
        const left = await indexDicomBatch(trx, objects, c);
        seen.left.push(...(left ?? []).map((o) => o.id));
        return left;
      } catch (err) {
        seen.errors.push(err);
        throw err;
      } finally {
        trx.removeListener('query', count);
      }
    };
    return { seen, handler };
  }
  const worker = (t: TestDatabase, batchSize: number, batch?: IndexBatchHandler) =>
    createIndexWorker({ db: t.db, databaseUrl: t.url, ctx: ctx(), handlers: { dicom: indexDicom }, ...(batch ? { batchHandlers: { dicom: batch } } : {}), loops: 1, batchSize, pollMs: 60_000 });

  it('leaves the index exactly as indexing the same instances one at a time does', async () => {
    const ct = generateUid();
    const a: InstanceSpec = { studyInstanceUid: generateUid(), patientId: 'BA-1', charset: 'GB18030', patientName: 'Zhang^San=张^三', accessionNumber: 'ACC-A', studyDate: '20240115', studyDescription: 'CT chest' };
    const cts = [1, 2, 3, 4].map((n) => instanceSpec({ ...a, modality: 'CT', seriesInstanceUid: ct, seriesNumber: 2, instanceNumber: n, ...(n > 2 ? { studyDescription: 'CT chest, corrected' } : {}), extra: [{ tag: 0x00201041, vr: 'DS', value: String(n * 5) }] }));
    const sr = instanceSpec({ ...a, modality: 'SR', seriesNumber: 9, studyDescription: undefined });
    const nid = (raw: string) => ({ hash: nationalIdHash(raw, TEST_ID_HASH_SECRET), masked: maskNationalId(raw) });
    const b: InstanceSpec = { studyInstanceUid: generateUid(), seriesInstanceUid: generateUid(), patientId: 'BB-1', patientName: 'Li^Si', modality: 'MR', studyDate: '20240201' };
    const mrs = [1, 2].map((n) => instanceSpec({ ...b, instanceNumber: n }));
    // a correction that files CT series of study A under study C (same patient)
    const moved = instanceSpec({ ...a, studyInstanceUid: generateUid(), seriesInstanceUid: ct, modality: 'CT', instanceNumber: 9 });
    const older = instanceSpec({ ...b, instanceNumber: 3 });
    const junk = Buffer.from(encodeText('这不是 DICOM', 'ISO_IR 192'));
    const unreadable = buildInstance(instanceSpec({ patientId: 'J-1' }));

    const first: Push[] = [
      ...cts.map((spec) => ({ bytes: buildInstance(spec) })),
      { bytes: buildInstance(sr) },
      ...mrs.map((spec) => ({ org: 2 as const, bytes: buildInstance(spec), summary: { nationalId: nid('11010519491231002X') } })),
      // the same instance again with other bytes, in the same batch: its second version
      { org: 2, bytes: buildInstance({ ...mrs[0]!, seriesDescription: 'corrected' }), summary: { nationalId: nid('11010519491231002X') } },
      // a summary that disagrees with the stored object
      { bytes: buildInstance(instanceSpec({ ...a, seriesInstanceUid: ct, instanceNumber: 7 })), summary: { studyInstanceUid: '1.2.3' } },
      { bytes: buildInstance(moved) },
      // version 1 of an instance, held back until version 2 is indexed
      { org: 2, bytes: buildInstance({ ...older, seriesDescription: 'v1' }), held: true },
      { org: 2, bytes: buildInstance({ ...older, seriesDescription: 'v2' }) },
    ];
    const second: Push[] = [
      ...[5, 6, 7].map((n) => ({ bytes: buildInstance({ ...cts[0]!, sopInstanceUid: generateUid(), instanceNumber: n, seriesDescription: n === 7 ? 'late description' : undefined }) })),
      ...[1, 2].map((n) => ({ org: 2 as const, bytes: buildInstance(instanceSpec({ ...b, studyInstanceUid: generateUid(), seriesInstanceUid: generateUid(), patientName: 'Li^Si^^Dr', instanceNumber: n })) })),
    ];

    /** Both pushes into a fresh database, indexed between them; the held-back version is released before the second. */
    async function run(batch?: IndexBatchHandler) {
      const db = await database();
      for (const p of first) await accept(db, p);
      await worker(db.t, 50, batch).drain();
      await db.t.db('accepted_objects').whereNotNull('retry_at').update({ retry_at: null });
      for (const p of second) await accept(db, p);
      // an instance indexed before, delivered again
      await db.t.db('accepted_objects').where({ id: 1 }).update({ state: 'accepted' });
      const junkId = await accept(db, { bytes: unreadable });
      await blob.put('dicom/junk.bin', junk);
      await db.t.db('accepted_objects').where({ id: junkId }).update({ blob_key: 'dicom/junk.bin', size: junk.length });
      await worker(db.t, 50, batch).drain();
      return indexState(db.t.db);
    }

    const expected = await run();
    const { seen, handler } = watched();
    const got = await run(handler);
    expect(seen.errors).toEqual([]);
    expect(expected.accepted.filter((r: { state: string }) => r.state === 'failed')).toHaveLength(2);
    expect(expected.versions).toHaveLength(2);
    expect(got).toEqual(expected);
  });

  it('gives each object of a mixed batch its own outcome: new, replacing, indexed before, bad', async () => {
    const db = await database();
    const study: InstanceSpec = { studyInstanceUid: generateUid(), seriesInstanceUid: generateUid(), patientId: 'MX-1', modality: 'CT', studyDescription: 'head' };
    const known = instanceSpec({ ...study, instanceNumber: 1 });
    const knownId = await accept(db, { bytes: buildInstance(known) });
    await worker(db.t, 50).drain();

    const fresh = [2, 3].map((n) => instanceSpec({ ...study, instanceNumber: n }));
    const ids = [
      ...(await Promise.all(fresh.map((spec) => accept(db, { bytes: buildInstance(spec) })))),
      await accept(db, { bytes: buildInstance({ ...known, studyDescription: 'head, corrected' }) }),
      await accept(db, { bytes: buildInstance(instanceSpec({ ...study, instanceNumber: 4 })), summary: { patientId: undefined } }),
    ];
    await db.t.db('accepted_objects').where({ id: knownId }).update({ state: 'accepted' });
    const { seen, handler } = watched();
    expect(await worker(db.t, 50, handler).drain()).toBe(5);

    expect(seen.errors).toEqual([]);
    expect(seen.left).toEqual([ids[3]]);
    expect(await db.t.db('accepted_objects').whereIn('id', [knownId, ...ids]).orderBy('id').select('state', 'error')).toEqual([
      { state: 'indexed', error: null },
      { state: 'indexed', error: null },
      { state: 'indexed', error: null },
      { state: 'indexed', error: null },
      { state: 'failed', error: expect.stringContaining('has no Patient ID') },
    ]);
    const current = await db.t.db('instances').where({ sop_instance_uid: known.sopInstanceUid }).first('id', 'accepted_object_id', 'version');
    expect(current).toMatchObject({ accepted_object_id: ids[2], version: 2 });
    expect(await db.t.db('instance_versions').where({ instance_id: current.id }).pluck('accepted_object_id')).toEqual([knownId]);
    expect(await db.t.db('studies').where({ study_uid: study.studyInstanceUid }).first('description', 'series_count', 'instance_count')).toEqual({ description: 'head, corrected', series_count: 1, instance_count: 3 });
  });

  it('indexes a batch of one study with a few statements, not several per instance', async () => {
    const db = await database();
    const study: InstanceSpec = { studyInstanceUid: generateUid(), patientId: 'ST-1', modality: 'CT' };
    const series = [generateUid(), generateUid()];
    for (let n = 0; n < 60; n++) await accept(db, { bytes: buildInstance(instanceSpec({ ...study, seriesInstanceUid: series[n % 2], instanceNumber: n + 1 })) });
    const { seen, handler } = watched();
    await worker(db.t, 200, handler).drain();
    expect(seen.errors).toEqual([]);
    // patient link, study, series, instances with metadata, roll-up: a constant, whatever the number of instances
    expect(seen.statements).toBeLessThan(25);
    expect(await db.t.db('studies').where({ study_uid: study.studyInstanceUid }).first('series_count', 'instance_count')).toEqual({ series_count: 2, instance_count: 60 });
  });

  it('indexes batches of the same studies from concurrent workers without a duplicate row or a deadlock, with the counts QIDO shows', async () => {
    const db = await database();
    const studies = [generateUid(), generateUid()];
    const seriesOf = new Map(studies.map((s) => [s, [generateUid(), generateUid()]]));
    const specs = Array.from({ length: 48 }, (_, i) => {
      const studyUid = studies[i % 2]!;
      return instanceSpec({ studyInstanceUid: studyUid, seriesInstanceUid: seriesOf.get(studyUid)![(i >> 1) % 2], instanceNumber: i + 1, patientId: `RACE-${i % 2}`, modality: (i >> 1) % 2 ? 'MR' : 'CT' });
    });
    // the same instances from two senders: the file meta differs, so the bytes (and the accepted rows) do too
    for (const spec of specs) {
      await accept(db, { bytes: buildInstance({ ...spec, meta: { sourceApplicationEntityTitle: 'PACS_A' } }) });
      await accept(db, { bytes: buildInstance({ ...spec, meta: { sourceApplicationEntityTitle: 'PACS_B' } }) });
    }
    const watchers = [watched(), watched(), watched()];
    await Promise.all(watchers.map((w, k) => worker(db.t, 7 + 4 * k, w.handler).drain()));

    expect(watchers.flatMap((w) => w.seen.errors)).toEqual([]);
    expect(await db.t.db('accepted_objects').whereNot({ state: 'indexed' }).select('id', 'state', 'error')).toEqual([]);
    for (const studyUid of studies) {
      // what QIDO-RS answers as NumberOfStudyRelatedSeries/Instances and NumberOfSeriesRelatedInstances
      const row = await db.t.db('studies').where({ study_uid: studyUid }).first('id', 'series_count', 'instance_count', 'modalities');
      expect(row).toMatchObject({ series_count: 2, instance_count: 24, modalities: ['CT', 'MR'] });
      expect(await db.t.db('series').where({ study_id: row.id }).orderBy('series_uid').pluck('instance_count')).toEqual([12, 12]);
      expect(await db.t.db('instances as i').join('series as s', 's.id', 'i.series_id').where('s.study_id', row.id).count('* as c').first()).toEqual({ c: 24 });
    }
    expect(await db.t.db('studies').whereIn('study_uid', studies).count('* as c').first()).toEqual({ c: 2 });
    // the second push of each instance is its second version
    expect(await db.t.db('instance_versions').count('* as c').first()).toEqual({ c: 48 });
    expect(await db.t.db('instance_metadata').count('* as c').first()).toEqual({ c: 48 });
  });
});
