import type { Knex } from '@hub/shared/db';
import { badInput, notFound } from '@hub/shared/errors';
import { LOINC_SYSTEM, ORGANIZATION_SYSTEM } from '@hub/shared/fhir';
import { codeConcept, observationResource, observationsOfReports, whereCode } from './observation';
import { orderOf, splitOr, tokensOf, whereDate } from './search-values';
import { audited, authorize, authorizeRead, readablePage, readableRecords, type Held } from './access';
import { searchedRecords } from './subject';
import type { FhirContext, FhirResourceProvider, Resource } from './types';

const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
export const RESULT_INCLUDE = 'DiagnosticReport:result';

/** A hospital's order numbers, as identifier systems of the hub. */
export const orderNumberSystem = (organizationCode: string, kind: 'placer' | 'filler') => `urn:hub:organization:${organizationCode}:${kind}`;

type Row = Record<string, unknown> & { id: number; patient_id: number; person_id: number; organization_id: number };
const columns = ['r.*', 'o.code as org_code', 'o.name as org_name', 'pt.person_id'];
/** Reports with their organization and the person of their patient record (primary keys). */
const reports = (db: Knex) => db('lab_reports as r').join('organizations as o', 'o.id', 'r.organization_id').join('patients as pt', 'pt.id', 'r.patient_id');
const held = (r: Row): Held => ({ personId: r.person_id, organizationId: r.organization_id });
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : undefined);

/** A lab_reports row as a FHIR DiagnosticReport (category LAB), its specimen contained. */
export function diagnosticReportResource(row: Row, resultIds: number[]): Resource {
  const code = String(row.org_code);
  const identifier = [
    ...(row.filler_order_number ? [{ type: { coding: [{ system: V2_0203, code: 'FILL' }] }, system: orderNumberSystem(code, 'filler'), value: row.filler_order_number }] : []),
    ...(row.placer_order_number ? [{ type: { coding: [{ system: V2_0203, code: 'PLAC' }] }, system: orderNumberSystem(code, 'placer'), value: row.placer_order_number }] : []),
  ];
  const specimen = row.specimen_type
    ? { resourceType: 'Specimen', id: 'specimen', type: { coding: [{ code: row.specimen_type, ...(row.specimen_display ? { display: row.specimen_display } : {}) }] }, collection: { collectedDateTime: iso(row.effective_at) } }
    : undefined;
  return {
    resourceType: 'DiagnosticReport',
    id: String(row.id),
    meta: { lastUpdated: iso(row.updated_at) },
    ...(specimen ? { contained: [specimen] } : {}),
    ...(identifier.length ? { identifier } : {}),
    status: row.status,
    category: [{ coding: [{ system: V2_0074, code: 'LAB', display: 'Laboratory' }] }],
    code: codeConcept(row),
    subject: { reference: `Patient/${row.patient_id}` },
    // the specimen collection time: the date the result counts from
    effectiveDateTime: iso(row.effective_at),
    ...(row.issued_at ? { issued: iso(row.issued_at) } : {}),
    performer: [{ identifier: { system: ORGANIZATION_SYSTEM, value: row.org_code }, display: row.org_name }],
    ...(specimen ? { specimen: [{ reference: '#specimen' }] } : {}),
    ...(resultIds.length ? { result: resultIds.map((id) => ({ reference: `Observation/${id}` })) } : {}),
  };
}

/** DiagnosticReport?identifier=: a hospital's order numbers (lab_reports_filler_idx / _placer_idx). */
function whereOrderNumber(query: Knex.QueryBuilder, values: readonly string[]): void {
  for (const tokens of tokensOf(values)) {
    query.where((or) => {
      for (const t of tokens) {
        const m = t.system ? /^urn:hub:organization:([A-Za-z0-9][A-Za-z0-9_.-]{0,31}):(placer|filler)$/.exec(t.system) : null;
        if (!m) throw badInput('identifier: give the order number system, urn:hub:organization:{CODE}:filler (or :placer)', { location: 'identifier', code: 'identifier-system-required' });
        or.orWhere((q) => q.where(m[2] === 'filler' ? 'r.filler_order_number' : 'r.placer_order_number', t.code).whereIn('r.organization_id', (sub) => sub.from('organizations').where({ code: m[1] }).select('id')));
      }
    });
  }
}

/** The reports (and their observations, for _include), audited with how each was authorized. */
async function resources(rows: Row[], ctx: FhirContext, action: string, include: boolean): Promise<{ matches: Resource[]; included: Resource[] }> {
  const of = await authorize(ctx, rows.map(held));
  const shown = rows.filter((r) => of(held(r)).allowed);
  const observations = await observationsOfReports(ctx.db, shown);
  const byReport = new Map<number, number[]>();
  for (const o of observations) byReport.set(o.report_id as number, [...(byReport.get(o.report_id as number) ?? []), o.id as number]);
  const how = new Map(shown.map((r) => [r.id, of(held(r))]));
  await ctx.audit([
    ...shown.map((r) => audited({ action, resourceType: 'DiagnosticReport', resourceId: String(r.id), patientId: r.patient_id }, how.get(r.id)!)),
    ...(include ? observations.map((o) => audited({ action, resourceType: 'Observation', resourceId: String(o.id), patientId: o.patient_id as number }, how.get(o.report_id as number)!)) : []),
  ]);
  return { matches: shown.map((r) => diagnosticReportResource(r, byReport.get(r.id) ?? [])), included: include ? observations.map(observationResource) : [] };
}

/** DiagnosticReport: lab reports by patient, code, category, date, issued, status, order number; _include=DiagnosticReport:result. */
export function createDiagnosticReportProvider(deps: { idHashSecret: string }): FhirResourceProvider {
  return {
    type: 'DiagnosticReport',
    searchInclude: [RESULT_INCLUDE],
    searchParams: [
      { name: 'patient', type: 'reference', documentation: 'Patient/{id}; patient:identifier=system|value as for Patient' },
      { name: 'subject', type: 'reference', documentation: 'As patient; subject:identifier with the national ID finds the person\'s reports from every hospital' },
      { name: 'code', type: 'token', documentation: `${LOINC_SYSTEM}|{code}, urn:hub:organization:{CODE}:code|{code}, or a code in either` },
      { name: 'category', type: 'token', documentation: 'LAB (every report here is)' },
      { name: 'date', type: 'date', documentation: 'Specimen collection time, the date the result counts from (eq, gt, lt, ge, le)' },
      { name: 'issued', type: 'date', documentation: 'When the report was released' },
      { name: 'status', type: 'token', documentation: 'final, preliminary, corrected …' },
      { name: 'identifier', type: 'token', documentation: 'A hospital\'s order number: urn:hub:organization:{CODE}:filler|{number} (or :placer)' },
    ],
    async read(id, ctx) {
      const row = /^\d{1,18}$/.test(id) ? await reports(ctx.db).where('r.id', Number(id)).first(columns) : undefined;
      if (!row) throw notFound(`no DiagnosticReport/${id}`, { location: 'id', code: 'unknown-report' });
      await authorizeRead(ctx, held(row), { action: 'read', resourceType: 'DiagnosticReport', resourceId: id, patientId: row.patient_id });
      return (await resources([row as Row], ctx, 'read', false)).matches[0]!;
    },
    async search(params, page, ctx) {
      const unknownInclude = page.include.find((i) => i !== RESULT_INCLUDE);
      if (unknownInclude) throw badInput(`_include=${unknownInclude} is not supported (${RESULT_INCLUDE} is)`, { location: '_include', code: 'unsupported-include' });
      let records = await searchedRecords(ctx.db, params, deps.idHashSecret);
      if (records === undefined && !params.has('identifier')) {
        throw badInput('a DiagnosticReport search needs patient, subject (or subject:identifier), or an order number identifier', { code: 'search-too-broad' });
      }
      if (records) records = await readableRecords(ctx, records, (r) => ({ action: 'search', resourceType: 'DiagnosticReport', patientId: r.id }));
      if (records?.length === 0) return { matches: [], more: false };
      const query = reports(ctx.db);
      // lab_reports_patient_date_idx, lab_reports_patient_loinc_idx, lab_reports_patient_local_idx
      if (records) query.whereIn('r.patient_id', records);
      whereOrderNumber(query, params.get('identifier') ?? []);
      whereCode(query, 'r', tokensOf(params.get('code')));
      whereDate(query, 'r.effective_at', 'date', params.get('date'));
      whereDate(query, 'r.issued_at', 'issued', params.get('issued'));
      for (const tokens of tokensOf(params.get('category'))) if (!tokens.some((t) => t.code === 'LAB' && (!t.system || t.system === V2_0074))) query.whereRaw('false');
      for (const value of params.get('status') ?? []) query.whereIn('r.status', splitOr(value));
      const order = [...orderOf(page.sort, { date: 'r.effective_at', issued: 'r.issued_at' }, '-date'), { column: 'r.id', order: 'desc' as const }];
      for (const o of order) query.orderBy(o.column, o.order);
      let found: { rows: Row[]; more: boolean };
      if (records) {
        const rows = (await query.offset(page.offset).limit(page.count + 1).select(columns)) as Row[];
        found = { rows: rows.slice(0, page.count), more: rows.length > page.count };
      } else {
        // by order number: a hospital's few reports (lab_reports_filler_idx / _placer_idx)
        const outer = order.map((o) => `${o.column.replace(/^r\./, 'c.')} ${o.order}`).join(', ');
        found = await readablePage<Row>(ctx, query.select(columns), { order: outer, organization: 'organization_id', person: 'person_id', named: true }, page);
      }
      const rows = found.rows;
      const { matches, included } = await resources(rows, ctx, 'search', page.include.includes(RESULT_INCLUDE));
      return { matches, included, more: found.more };
    },
  };
}
