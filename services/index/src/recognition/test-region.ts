import { randomBytes } from 'node:crypto';
import type { Knex } from '@hub/shared/db';
import { createOrganization, type OrganizationKind } from '@hub/shared/org';
import { seedCatalog } from './seed';

/**
 * Test data for recognition: a region with the seed catalog, organizations placed in it, and
 * index rows (patients, lab reports with observations, studies) written the way the index
 * workers write them, so the triggers queue them for the stage. Dates are the tests' own.
 */
export interface TestRegion {
  db: Knex;
  regionId: number;
  org(code: string): number;
  item(code: string): number;
  /** a new regional person */
  person(): Promise<number>;
  /** a hospital's record of a person (created once per organization and MRN) */
  patient(orgCode: string, mrn: string, personId: number): Promise<number>;
  /** a lab report with one observation; returns the report id */
  lab(orgCode: string, patientId: number, r: { loinc: string; at: string; status?: string; value?: number; availableAt?: string; key?: string }): Promise<number>;
  /** an imaging study; returns the study id */
  study(orgCode: string, patientId: number, s: { modality: string; bodyPart: string; date: string; time?: string; availableAt?: string; description?: string }): Promise<number>;
  qualify(orgCode: string, q: { category?: string; item?: string; from: string; until?: string | null; scope?: 'region' | 'city'; city?: string }): Promise<void>;
  consent(personId: number, c: { recordedBy: string; from: string; until?: string | null; revokedAt?: string; organizations?: string[] }): Promise<number>;
}

export async function createTestRegion(
  db: Knex,
  organizations: Array<{ code: string; kind?: OrganizationKind; grade?: string; stoppedPrintingFilmOn?: string; city?: string }>,
): Promise<TestRegion> {
  const { regionId } = await seedCatalog(db, { region: { code: 'TEST', name: '测试市', timeZone: 'Asia/Shanghai' } });
  const orgs = new Map<string, number>();
  const accepted = new Map<string, number>();
  for (const o of organizations) {
    const org = await createOrganization(db, { code: o.code, name: `${o.code} (test)`, kind: o.kind ?? 'hospital', grade: o.grade, stoppedPrintingFilmOn: o.stoppedPrintingFilmOn });
    orgs.set(o.code, org.id);
    await db('organization_regions').insert({ organization_id: org.id, region_id: regionId, city_code: o.city ?? '420100' });
    const [row] = await db('accepted_objects')
      .insert({ kind: 'hl7v2', organization_id: org.id, identity: `${o.code}-fixture`, sha256: '0'.repeat(64), size: 1, blob_key: `fixture/${o.code}`, source: 'mllp', summary: '{}', state: 'indexed' })
      .returning('id');
    accepted.set(o.code, row.id);
  }
  const items = new Map<string, number>((await db('catalog_items').where({ region_id: regionId }).select('id', 'code')).map((r: { id: number; code: string }) => [r.code, r.id]));
  const org = (code: string) => {
    const id = orgs.get(code);
    if (id === undefined) throw new Error(`no test organization ${code}`);
    return id;
  };
  let reports = 0;

  return {
    db,
    regionId,
    org,
    item(code) {
      const id = items.get(code);
      if (id === undefined) throw new Error(`no catalog item ${code}`);
      return id;
    },
    async person() {
      const [row] = await db('persons').insert({}).returning('id');
      return row.id;
    },
    async patient(orgCode, mrn, personId) {
      const [row] = await db('patients')
        .insert({ organization_id: org(orgCode), local_id: mrn, person_id: personId })
        .onConflict(['organization_id', 'local_id'])
        .merge(['person_id'])
        .returning('id');
      return row.id;
    },
    async lab(orgCode, patientId, r) {
      const at = new Date(r.at);
      const status = r.status ?? 'final';
      const [report] = await db('lab_reports')
        .insert({
          organization_id: org(orgCode),
          patient_id: patientId,
          report_key: r.key ?? `R${++reports}-${randomBytes(3).toString('hex')}`,
          loinc_code: null,
          status,
          effective_at: at,
          source: 'hl7v2',
          accepted_id: accepted.get(orgCode),
          created_at: new Date(r.availableAt ?? r.at),
        })
        .returning('id');
      await db('observations').insert({
        patient_id: patientId,
        report_id: report.id,
        organization_id: org(orgCode),
        obs_key: r.loinc,
        loinc_code: r.loinc,
        loinc_display: r.loinc,
        value_type: 'NM',
        value_num: r.value ?? 4.2,
        unit: 'mmol/L',
        status: status === 'preliminary' ? 'preliminary' : status === 'corrected' ? 'corrected' : 'final',
        effective_at: at,
        accepted_id: accepted.get(orgCode),
      });
      return report.id;
    },
    async study(orgCode, patientId, s) {
      const [row] = await db('studies')
        .insert({
          study_uid: `2.25.${BigInt(`0x${randomBytes(8).toString('hex')}`)}`,
          organization_id: org(orgCode),
          patient_id: patientId,
          study_date: s.date,
          study_time: s.time ?? '090000',
          description: s.description ?? `${s.modality} ${s.bodyPart}`,
          modalities: [s.modality],
          body_parts: [s.bodyPart],
          series_count: 1,
          instance_count: 1,
          created_at: new Date(s.availableAt ?? `${s.date}T${(s.time ?? '090000').replace(/(\d\d)(\d\d)(\d\d)/, '$1:$2:$3')}+08:00`),
        })
        .returning('id');
      return row.id;
    },
    async qualify(orgCode, q) {
      await db('qualifications').insert({
        organization_id: org(orgCode),
        region_id: regionId,
        item_id: q.item ? items.get(q.item) : null,
        category: q.item ? null : q.category,
        basis: 'eqa-passed',
        scope: q.scope ?? 'region',
        scope_region_id: (q.scope ?? 'region') === 'region' ? regionId : null,
        scope_city_code: q.scope === 'city' ? (q.city ?? '420100') : null,
        valid_from: q.from,
        valid_until: q.until ?? null,
      });
    },
    async consent(personId, c) {
      const [row] = await db('consents')
        .insert({
          person_id: personId,
          recorded_by_organization_id: org(c.recordedBy),
          scope: c.organizations ? 'organizations' : 'region',
          region_id: c.organizations ? null : regionId,
          purpose: 'treatment',
          method: 'written',
          valid_from: new Date(c.from),
          valid_until: c.until ? new Date(c.until) : null,
          revoked_at: c.revokedAt ? new Date(c.revokedAt) : null,
        })
        .returning('id');
      if (c.organizations) await db('consent_organizations').insert(c.organizations.map((o) => ({ consent_id: row.id, organization_id: org(o) })));
      return row.id;
    },
  };
}
