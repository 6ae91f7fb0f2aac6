import { maskNationalId, nationalIdHash } from '@hub/shared/identity';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, TEST_ID_HASH_SECRET, type TestDatabase } from '@hub/shared/testing';
import { linkPatient, linkPatients, livePersons, patientKey, type PatientFacts } from '.';

const id = (raw: string) => ({ hash: nationalIdHash(raw, TEST_ID_HASH_SECRET), masked: maskNationalId(raw) });
const ZHANG = '11010519491231002X';
const LI = '110101199003074514';

describe('linking the patients of many messages at once', () => {
  let t: TestDatabase;
  let h1: number;
  let h2: number;
  beforeAll(async () => {
    t = await testDatabase();
    h1 = (await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id;
    h2 = (await createOrganization(t.db, { code: 'H2', name: '二院', kind: 'hospital' })).id;
  });
  afterAll(() => t.drop());

  const many = (list: PatientFacts[]) => t.db.transaction((trx) => linkPatients(trx, list));

  it('links new and known records of several hospitals: one person per national ID, later facts winning, nothing erased', async () => {
    const known = await t.db.transaction((trx) => linkPatient(trx, { organizationId: h1, localId: 'K-1', name: { ideographic: '王^五' }, birthDate: '1990-01-02', sex: 'M' }));
    const linked = await many([
      { organizationId: h1, localId: 'N-1', name: { ideographic: '张三' }, nationalId: id(ZHANG) },
      { organizationId: h2, localId: 'N-2', name: { alphabetic: 'Zhang^San' }, nationalId: id(ZHANG) },
      { organizationId: h1, localId: 'K-1', name: { ideographic: '王^伍' } },
      { organizationId: h1, localId: 'N-1', birthDate: '1949-12-31' },
      { organizationId: h1, localId: 'K-1', nationalId: id(LI) },
    ]);
    const n1 = linked.get(patientKey({ organizationId: h1, localId: 'N-1' }))!;
    const n2 = linked.get(patientKey({ organizationId: h2, localId: 'N-2' }))!;
    const k1 = linked.get(patientKey({ organizationId: h1, localId: 'K-1' }))!;
    expect(n2.personId).toBe(n1.personId);
    expect(k1.patientId).toBe(known.patientId);
    expect(k1.personId).not.toBe(known.personId);
    expect(await t.db('patients').where({ id: k1.patientId }).first('name_ideographic', 'name_key', 'birth_date', 'sex', 'national_id_masked', 'person_id')).toEqual({
      name_ideographic: '王^伍', name_key: '王伍', birth_date: '1990-01-02', sex: 'M', national_id_masked: '110101********4514', person_id: k1.personId,
    });
    expect(await t.db('patients').where({ id: n1.patientId }).first('name_ideographic', 'birth_date')).toEqual({ name_ideographic: '张三', birth_date: '1949-12-31' });
    // the national ID that arrived for a known record is recorded as a link, as linkPatient does
    expect(await t.db('person_merges').where({ surviving_patient_id: known.patientId }).first('kind', 'retired_person_id')).toEqual({ kind: 'link', retired_person_id: known.personId });
  });

  it('records a candidate for the same name, birth date and sex at another hospital, never a link', async () => {
    await many([{ organizationId: h1, localId: 'C-1', name: { ideographic: '李四' }, birthDate: '1980-05-06', sex: 'M' }]);
    const linked = await many([{ organizationId: h2, localId: 'C-2', name: { ideographic: '李^四' }, birthDate: '1980-05-06', sex: 'M' }]);
    const c2 = linked.get(patientKey({ organizationId: h2, localId: 'C-2' }))!;
    expect(c2.candidates).toBe(1);
    expect(await t.db('person_link_candidates').where({ patient_id: c2.patientId }).count('* as n').first()).toEqual({ n: 1 });
  });

  it('takes the record another worker registers at the same moment', async () => {
    const facts = (n: number): PatientFacts[] => [{ organizationId: h1, localId: 'RACE-1', name: { ideographic: `赵${n}` } }, { organizationId: h2, localId: 'RACE-2', nationalId: id('440524198001010013') }];
    const [a, b] = await Promise.all([many(facts(1)), many(facts(2))]);
    expect([...a.values()].map((l) => l.patientId)).toEqual([...b.values()].map((l) => l.patientId));
    expect(await t.db('patients').whereIn('local_id', ['RACE-1', 'RACE-2']).count('* as n').first()).toEqual({ n: 2 });
  });

  it('finds the live person of merged persons', async () => {
    const [a, b] = await Promise.all([t.db('persons').insert({}).returning('id'), t.db('persons').insert({}).returning('id')]);
    await t.db('persons').where({ id: a[0].id }).update({ merged_into_id: b[0].id });
    expect(await livePersons(t.db, [a[0].id, b[0].id])).toEqual(new Map([[Number(a[0].id), Number(b[0].id)], [Number(b[0].id), Number(b[0].id)]]));
  });
});
