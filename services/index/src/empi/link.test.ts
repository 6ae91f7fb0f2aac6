import { maskNationalId, nationalIdHash } from '@hub/shared/identity';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, TEST_ID_HASH_SECRET, type TestDatabase } from '@hub/shared/testing';
import { linkPatient, nameKey, type PatientFacts } from '.';

const id = (raw: string) => ({ hash: nationalIdHash(raw, TEST_ID_HASH_SECRET), masked: maskNationalId(raw) });
const ZHANG = '11010519491231002X';

describe('linking a hospital patient to the regional person', () => {
  let t: TestDatabase;
  let h1: number;
  let h2: number;
  let h3: number;
  beforeAll(async () => {
    t = await testDatabase();
    h1 = (await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id;
    h2 = (await createOrganization(t.db, { code: 'H2', name: '二院', kind: 'hospital' })).id;
    h3 = (await createOrganization(t.db, { code: 'H3', name: '三院', kind: 'hospital' })).id;
  });
  afterAll(() => t.drop());

  const link = (facts: PatientFacts) => t.db.transaction((trx) => linkPatient(trx, facts));

  it('makes records from two hospitals with the same national ID one person', async () => {
    const a = await link({ organizationId: h1, localId: 'MRN-001', name: { ideographic: '张^三' }, birthDate: '1949-12-31', sex: 'F', nationalId: id(ZHANG) });
    const b = await link({ organizationId: h2, localId: '0099812', name: { alphabetic: 'Zhang^San' }, nationalId: id(ZHANG) });
    expect(a.patientId).not.toBe(b.patientId);
    expect(b.personId).toBe(a.personId);
    const person = await t.db('persons').where({ id: a.personId }).first();
    expect(person.national_id_masked).toBe('110105********002X');
    expect(JSON.stringify(person)).not.toContain(ZHANG);
  });

  it('gives one person when two hospitals register the same ID at the same moment', async () => {
    const raw = '440524198001010013';
    const results = await Promise.all([h1, h2, h3].map((org, i) => link({ organizationId: org, localId: `RACE-${i}`, nationalId: id(raw) })));
    expect(new Set(results.map((r) => r.personId)).size).toBe(1);
    expect(await t.db('persons').where({ national_id_hash: id(raw).hash }).count('* as n').first()).toEqual({ n: 1 });
  });

  it('never links on name, birth date and sex alone, but records a candidate to confirm', async () => {
    const a = await link({ organizationId: h1, localId: 'L-1', name: { ideographic: '李^四' }, birthDate: '1980-05-06', sex: 'M' });
    const b = await link({ organizationId: h2, localId: 'L-2', name: { ideographic: '李四' }, birthDate: '1980-05-06', sex: 'M' });
    expect(b.personId).not.toBe(a.personId);
    expect(b.candidates).toBe(1);
    const candidate = await t.db('person_link_candidates').where({ patient_id: b.patientId }).first();
    expect(candidate).toMatchObject({ candidate_patient_id: a.patientId, state: 'open' });
  });

  it('updates what a hospital tells again without erasing what it left out', async () => {
    const first = await link({ organizationId: h3, localId: 'U-1', name: { ideographic: '王^五' }, birthDate: '1990-01-02', sex: 'M' });
    const again = await link({ organizationId: h3, localId: 'U-1', name: { ideographic: '王^伍' } });
    expect(again.patientId).toBe(first.patientId);
    const row = await t.db('patients').where({ id: first.patientId }).first();
    expect(row).toMatchObject({ name_ideographic: '王^伍', name_key: '王伍', birth_date: '1990-01-02', sex: 'M' });
  });

  it('moves a record to the person of a national ID that arrives later, and records the link', async () => {
    const raw = '110101199003074514';
    const known = await link({ organizationId: h1, localId: 'K-1', nationalId: id(raw) });
    const anonymous = await link({ organizationId: h2, localId: 'K-2', name: { ideographic: '赵六' } });
    expect(anonymous.personId).not.toBe(known.personId);
    const relinked = await link({ organizationId: h2, localId: 'K-2', nationalId: id(raw) });
    expect(relinked).toMatchObject({ patientId: anonymous.patientId, personId: known.personId });
    expect(await t.db('person_merges').where({ surviving_patient_id: anonymous.patientId }).first()).toMatchObject({
      kind: 'link',
      surviving_person_id: known.personId,
      retired_person_id: anonymous.personId,
    });
  });

  it('keys names on the ideographic group, without delimiters or case', () => {
    expect(nameKey({ alphabetic: 'Wang^XiaoDong', ideographic: '王^小東' })).toBe('王小東');
    expect(nameKey({ alphabetic: 'Wang^XiaoDong' })).toBe('wangxiaodong');
    expect(nameKey({})).toBeNull();
  });
});
