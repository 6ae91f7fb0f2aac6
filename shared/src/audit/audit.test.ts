import { ensureAuditPartitions, recordAudit } from '.';
import { testDatabase, type TestDatabase } from '../testing';

describe('audit log', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await testDatabase();
  });
  afterAll(() => t.drop());

  it('creates monthly partitions around now, once, even when asked twice at the same time', async () => {
    const now = new Date('2026-11-23T10:00:00Z');
    const [a, b] = await Promise.all([ensureAuditPartitions(t.db, now), ensureAuditPartitions(t.db, now)]);
    expect([...a, ...b].sort()).toEqual(['audit_events_2026_10', 'audit_events_2026_11', 'audit_events_2026_12', 'audit_events_2027_01']);
    expect(await ensureAuditPartitions(t.db, now)).toEqual([]);
  });

  it('records each read in the partition of its month, findable by patient and time', async () => {
    await recordAudit(t.db, [
      { action: 'read', outcome: 'ok', patientId: 7, resourceType: 'ImagingStudy', resourceId: '1.2.3', clientId: 'h1-emr', practitioner: 'Dr Li', purpose: 'treatment', at: new Date('2026-11-02T09:00:00Z') },
      { action: 'read', outcome: 'denied', patientId: 7, resourceType: 'Observation', emergency: true, at: new Date('2026-12-05T09:00:00Z') },
    ]);
    const rows = await t.db('audit_events').where({ patient_id: 7 }).whereBetween('at', [new Date('2026-11-01'), new Date('2027-01-01')]).orderBy('at').select('action', 'outcome', 'emergency', t.db.raw('tableoid::regclass::text as partition'));
    expect(rows).toEqual([
      { action: 'read', outcome: 'ok', emergency: false, partition: 'audit_events_2026_11' },
      { action: 'read', outcome: 'denied', emergency: true, partition: 'audit_events_2026_12' },
    ]);
  });

  it('keeps a row from outside every partition in the default one instead of failing the read', async () => {
    await recordAudit(t.db, { action: 'read', outcome: 'ok', patientId: 8, at: new Date('2031-01-01T00:00:00Z') });
    const [row] = await t.db('audit_events').where({ patient_id: 8 }).select(t.db.raw('tableoid::regclass::text as partition'));
    expect(row.partition).toBe('audit_events_default');
  });
});
