import type { Knex } from '@hub/shared/db';
import { badInput, notFound } from '@hub/shared/errors';
import { DICOM_MODALITY_SYSTEM, DICOM_UID_SYSTEM } from '@hub/shared/fhir';
import { dateRange, tokensOf } from './search-values';
import { audited, authorize, authorizeRead, readablePage, readableRecords, type Held } from './access';
import { searchedRecords } from './subject';
import type { FhirContext, FhirResourceProvider, Resource, SearchPage, SearchParams } from './types';

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const CONNECTION_TYPE = 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type';
const URI_SYSTEM = 'urn:ietf:rfc:3986';
/** A hospital's accession numbers. TODO(lead): move next to mrnSystem in shared/src/fhir/systems.ts. */
export const accessionSystem = (organizationCode: string) => `urn:hub:organization:${organizationCode}:accession`;
// DICOM times are local; every hospital of the region is in China (UTC+8, no daylight saving).
const CHINA = '+08:00';

type Row = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** DA + TM as a FHIR dateTime (a date alone when there is no time). */
function started(date: string | null, time: string | null): string | undefined {
  if (!date) return undefined;
  const m = time?.match(/^(\d{2})(\d{2})?(\d{2})?(\.\d+)?$/);
  if (!m) return date;
  return `${date}T${m[1]}:${m[2] ?? '00'}:${m[3] ?? '00'}${m[4] ? m[4].slice(0, 4) : ''}${CHINA}`;
}

const modality = (code: string) => ({ system: DICOM_MODALITY_SYSTEM, code });

/** A PN as sent (`Wang^Yi=王^医`) as a display name, the ideographic group first. */
function personDisplay(pn: string | null): string | undefined {
  if (!pn) return undefined;
  const [alphabetic, ideographic] = pn.split('=');
  const group = ideographic || alphabetic;
  return group ? group.replace(/\^+/g, ideographic ? '' : ' ').trim() || undefined : undefined;
}

/**
 * A study as an R4 ImagingStudy: identified by its Study Instance UID (urn:dicom:uid) and
 * accession number, its patient record as subject, its series (and, on read, instances),
 * and a contained Endpoint to the hub's DICOMweb service so a viewer can open it.
 */
export function imagingStudyResource(row: Row, series: Row[], instances: Map<number, Row[]> | undefined, publicUrl: string): Resource {
  const identifier: unknown[] = [{ system: DICOM_UID_SYSTEM, value: `urn:oid:${row.study_uid}` }];
  if (row.accession_number) {
    identifier.push({ type: { coding: [{ system: V2_0203, code: 'ACSN' }] }, system: accessionSystem(row.org_code), value: row.accession_number });
  }
  const referrer = personDisplay(row.referring_physician);
  return {
    resourceType: 'ImagingStudy',
    id: String(row.id),
    meta: { lastUpdated: (row.updated_at as Date).toISOString() },
    contained: [
      {
        resourceType: 'Endpoint',
        id: 'dicomweb',
        status: 'active',
        connectionType: { system: CONNECTION_TYPE, code: 'dicom-wado-rs' },
        name: 'Regional results hub DICOMweb (QIDO-RS, WADO-RS)',
        payloadType: [{ text: 'DICOM' }],
        payloadMimeType: ['application/dicom'],
        address: `${publicUrl}/dicomweb`,
      },
    ],
    identifier,
    status: 'available',
    ...(row.modalities?.length ? { modality: (row.modalities as string[]).map(modality) } : {}),
    subject: { reference: `Patient/${row.patient_id}` },
    ...(started(row.study_date, row.study_time) ? { started: started(row.study_date, row.study_time) } : {}),
    ...(referrer ? { referrer: { display: referrer } } : {}),
    endpoint: [{ reference: '#dicomweb' }],
    numberOfSeries: row.series_count,
    numberOfInstances: row.instance_count,
    ...(row.description ? { description: row.description } : {}),
    ...(series.length
      ? {
          series: series.map((s) => ({
            uid: s.series_uid,
            ...(s.series_number !== null ? { number: s.series_number } : {}),
            modality: modality(s.modality ?? 'OT'),
            ...(s.description ? { description: s.description } : {}),
            numberOfInstances: s.instance_count,
            ...(instances?.get(s.id)?.length
              ? {
                  instance: instances.get(s.id)!.map((i) => ({
                    uid: i.sop_instance_uid,
                    sopClass: { system: URI_SYSTEM, code: `urn:oid:${i.sop_class_uid}` },
                    ...(i.instance_number !== null ? { number: i.instance_number } : {}),
                  })),
                }
              : {}),
          })),
        }
      : {}),
  };
}

const studyColumns = ['st.*', 'p.person_id', 'o.code as org_code'];
const studies = (db: Knex) => db('studies as st').join('patients as p', 'p.id', 'st.patient_id').join('organizations as o', 'o.id', 'st.organization_id');

/** The series (and instances) of the studies, through series_study_idx and instances_series_idx. */
async function resources(db: Knex, rows: Row[], withInstances: boolean, publicUrl: string): Promise<Resource[]> {
  const series: Row[] = rows.length ? await db('series').whereIn('study_id', rows.map((r) => r.id)).orderByRaw('study_id, series_number nulls last, id') : [];
  let instances: Map<number, Row[]> | undefined;
  if (withInstances && series.length) {
    instances = new Map();
    const all: Row[] = await db('instances').whereIn('series_id', series.map((s) => s.id)).orderByRaw('series_id, instance_number nulls last, id').select('series_id', 'sop_instance_uid', 'sop_class_uid', 'instance_number');
    for (const i of all) instances.set(i.series_id, [...(instances.get(i.series_id) ?? []), i]);
  }
  return rows.map((r) => imagingStudyResource(r, series.filter((s) => s.study_id === r.id), instances, publicUrl));
}

/** The China calendar day of an instant, as YYYY-MM-DD. */
const chinaDay = (at: Date) => new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 24 * 3600_000).toISOString().slice(0, 10);

/** `started` at day precision (study dates are days; a time in the value widens to its day). */
function whereStarted(qb: Knex.QueryBuilder, column: string, values: string[]): void {
  for (const value of values) {
    const { prefix, from, to } = dateRange('started', value);
    const first = chinaDay(from);
    // the first day after the range: the day of its last instant, plus one
    const after = nextDay(chinaDay(new Date(to.getTime() - 1)));
    if (prefix === 'eq') qb.where(column, '>=', first).where(column, '<', after);
    else if (prefix === 'ge') qb.where(column, '>=', first);
    else if (prefix === 'gt') qb.where(column, '>=', after);
    else if (prefix === 'lt') qb.where(column, '<', first);
    else qb.where(column, '<', after);
  }
}

/** The study UIDs and accession numbers an identifier search names. */
function whereIdentifier(qb: Knex.QueryBuilder, values: string[]): void {
  for (const tokens of tokensOf(values)) {
    qb.where((any) => {
      for (const t of tokens) {
        const uid = t.code.startsWith('urn:oid:') ? t.code.slice(8) : undefined;
        if (t.system === DICOM_UID_SYSTEM || (!t.system && uid)) any.orWhere('st.study_uid', uid ?? t.code); // studies_uid_key
        else if (t.system) {
          const org = /^urn:hub:organization:([A-Za-z0-9][A-Za-z0-9_.-]{0,31}):accession$/.exec(t.system)?.[1];
          if (org) any.orWhere((a) => a.where('st.accession_number', t.code).where('o.code', org)); // studies_accession_idx
          else any.orWhereRaw('false');
        } else any.orWhere('st.accession_number', t.code).orWhere('st.study_uid', t.code);
      }
    });
  }
}

const held = (r: Row): Held => ({ personId: r.person_id, organizationId: r.organization_id });

async function search(db: Knex, idHashSecret: string, params: SearchParams, page: SearchPage, ctx: FhirContext) {
  if (page.sort.length > 0) throw badInput('_sort is not supported for ImagingStudy (newest first)', { location: '_sort', code: 'unsupported-sort' });
  const qb = studies(db).select(studyColumns);
  let records = await searchedRecords(db, params, idHashSecret);
  if (records !== undefined) {
    records = await readableRecords(ctx, records, (r) => ({ action: 'search', resourceType: 'ImagingStudy', patientId: r.personId }));
    if (records.length === 0) return { matches: [], more: false };
    qb.whereIn('st.patient_id', records); // studies_patient_date_idx
  }
  whereIdentifier(qb, params.get('identifier') ?? []);
  const modalities = tokensOf(params.get('modality'));
  for (const tokens of modalities) {
    for (const t of tokens) if (t.system && t.system !== DICOM_MODALITY_SYSTEM) throw badInput(`modality: the system must be ${DICOM_MODALITY_SYSTEM}`, { location: 'modality', code: 'unknown-system' });
  }
  // one modality, no patient: drive from study_modalities_date_idx in date order
  const drive = records === undefined && modalities.length === 1 && modalities[0]!.length === 1;
  if (drive) qb.join('study_modalities as sm', 'sm.study_id', 'st.id').where('sm.modality', modalities[0]![0]!.code.toUpperCase());
  else for (const tokens of modalities) qb.whereExists((s) => s.select(db.raw('1')).from('study_modalities as sm').whereRaw('sm.study_id = st.id').whereIn('sm.modality', tokens.map((t) => t.code.toUpperCase())));
  whereStarted(qb, drive ? 'sm.study_date' : 'st.study_date', params.get('started') ?? []);
  let found: { rows: Row[]; more: boolean };
  if (records) {
    // a patient's few studies are read through studies_patient_date_idx and sorted; ordered by the
    // bare column, the planner may walk studies_date_idx instead and filter (see qido-search.ts)
    const rows: Row[] = await qb.orderByRaw('(st.study_date + 0) desc nulls last, (st.id + 0) desc').limit(page.count + 1).offset(page.offset);
    found = { rows: rows.slice(0, page.count), more: rows.length > page.count };
  } else {
    // only the studies the reader may read, in the driving index's order (its own columns, so the
    // window is read in index order and stops at the page)
    const [date, id] = drive ? ['sm.study_date', 'sm.study_id'] : ['st.study_date', 'st.id'];
    qb.select(`${date} as window_date`, `${id} as window_study`).orderByRaw(`${date} desc nulls last, ${id} desc`);
    found = await readablePage<Row>(ctx, qb, { order: 'c.window_date desc nulls last, c.window_study desc', organization: 'organization_id', person: 'person_id', named: params.has('identifier') }, page);
  }
  const of = await authorize(ctx, found.rows.map(held));
  const shown = found.rows.filter((r) => of(held(r)).allowed);
  await ctx.audit(shown.map((r) => audited({ action: 'search', resourceType: 'ImagingStudy', resourceId: String(r.id), patientId: r.person_id }, of(held(r)))));
  return { matches: await resources(db, shown, false, ctx.publicUrl), more: found.more };
}

/** FHIR R4 ImagingStudy: read, and search by patient, subject(:identifier), identifier, started and modality. */
export function createImagingStudyProvider(deps: { idHashSecret: string }): FhirResourceProvider {
  return {
    type: 'ImagingStudy',
    searchParams: [
      { name: 'patient', type: 'reference', documentation: 'Patient/{id}: the studies of that hospital record' },
      { name: 'subject', type: 'reference', documentation: `Patient/{id}, or :identifier=system|value: a national ID (every record of the person in the region) or a hospital's MRN` },
      { name: 'identifier', type: 'token', documentation: `${DICOM_UID_SYSTEM}|urn:oid:<Study Instance UID>, or urn:hub:organization:<code>:accession|<accession number>` },
      { name: 'started', type: 'date', documentation: 'When the study started (day precision), with eq, ge, gt, le, lt' },
      { name: 'modality', type: 'token', documentation: `${DICOM_MODALITY_SYSTEM}|<modality>, e.g. CT: studies with a series of that modality` },
    ],
    async read(id, ctx) {
      const row: Row | undefined = /^\d{1,18}$/.test(id) ? await studies(ctx.db).where('st.id', Number(id)).first(studyColumns) : undefined;
      if (!row) throw notFound(`no ImagingStudy/${id}`, { code: 'not-found' });
      const entry = { action: 'read', resourceType: 'ImagingStudy', resourceId: id, patientId: row.person_id };
      await ctx.audit([audited(entry, await authorizeRead(ctx, held(row), entry))]);
      return (await resources(ctx.db, [row], true, ctx.publicUrl))[0]!;
    },
    search: (params, page, ctx) => search(ctx.db, deps.idHashSecret, params, page, ctx),
  };
}
