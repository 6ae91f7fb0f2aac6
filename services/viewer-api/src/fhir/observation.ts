import type { Knex } from '@hub/shared/db';
import { badInput, notFound } from '@hub/shared/errors';
import { LOINC_SYSTEM, ORGANIZATION_SYSTEM, UCUM_SYSTEM, localCodeSystem } from '@hub/shared/fhir';
import { orderOf, splitOr, tokensOf, whereDate, type Token } from './search-values';
import { audited, authorize, authorizeRead, readableRecords, type Held } from './access';
import { searchedRecords } from './subject';
import type { FhirContext, FhirResourceProvider, Resource } from './types';

const CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-category';
const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

type Row = Record<string, unknown>;

export const observationColumns = ['ob.*', 'org.code as org_code', 'org.name as org_name'];

/** Test codes as a CodeableConcept: LOINC when known, and the hospital's own code. */
export function codeConcept(row: Row): Record<string, unknown> {
  const coding = [
    ...(row.loinc_code ? [{ system: LOINC_SYSTEM, code: row.loinc_code, ...(row.loinc_display ? { display: row.loinc_display } : {}) }] : []),
    ...(row.local_code ? [{ system: localCodeSystem(String(row.org_code)), code: row.local_code, ...(row.local_display ? { display: row.local_display } : {}) }] : []),
  ];
  const text = row.local_display ?? row.loinc_display ?? row.local_code ?? row.loinc_code;
  return { coding, ...(text ? { text } : {}) };
}

/** Where a code filter looks: LOINC, the organization's local codes, or either. */
export function whereCode(query: Knex.QueryBuilder, alias: string, groups: Token[][]): void {
  for (const tokens of groups) {
    query.where((or) => {
      for (const t of tokens) {
        if (t.system === LOINC_SYSTEM) or.orWhere(`${alias}.loinc_code`, t.code);
        else if (t.system) {
          const org = /^urn:hub:organization:([A-Za-z0-9][A-Za-z0-9_.-]{0,31}):code$/.exec(t.system)?.[1];
          if (org) or.orWhere((q) => q.where(`${alias}.local_code`, t.code).whereIn(`${alias}.organization_id`, (sub) => sub.from('organizations').where({ code: org }).select('id')));
          else or.orWhereRaw('false');
        } else or.orWhere(`${alias}.loinc_code`, t.code).orWhere(`${alias}.local_code`, t.code);
      }
    });
  }
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : undefined);

function valueOf(row: Row): Record<string, unknown> {
  if (row.value_num !== null && row.value_num !== undefined) {
    const ucum = row.unit_ucum === true;
    return {
      valueQuantity: {
        value: row.value_num,
        ...(row.value_comparator ? { comparator: row.value_comparator } : {}),
        ...(row.unit ? { unit: row.unit } : {}),
        ...(ucum ? { system: UCUM_SYSTEM, code: row.unit_code ?? row.unit } : {}),
      },
    };
  }
  if (row.value_code) {
    const system = typeof row.value_code_system === 'string' && /^(https?:|urn:)/.test(row.value_code_system) ? row.value_code_system : localCodeSystem(String(row.org_code));
    return { valueCodeableConcept: { coding: [{ system, code: row.value_code, ...(row.value_code_display ? { display: row.value_code_display } : {}) }], text: row.value_code_display ?? row.value_code } };
  }
  if (row.value_text) return { valueString: row.value_text };
  return {};
}

function rangeOf(row: Row): Record<string, unknown> | undefined {
  const unit = row.unit ? { unit: row.unit, ...(row.unit_ucum ? { system: UCUM_SYSTEM, code: row.unit_code ?? row.unit } : {}) } : {};
  const range = {
    ...(row.ref_low !== null ? { low: { value: row.ref_low, ...unit } } : {}),
    ...(row.ref_high !== null ? { high: { value: row.ref_high, ...unit } } : {}),
    ...(row.ref_text ? { text: row.ref_text } : {}),
  };
  return Object.keys(range).length ? range : undefined;
}

/** An observations row as a FHIR Observation (category laboratory; preliminary and corrected as such). */
export function observationResource(row: Row): Resource {
  const range = rangeOf(row);
  const flags = (row.abnormal_flags as string[] | null) ?? [];
  return {
    resourceType: 'Observation',
    id: String(row.id),
    meta: { lastUpdated: iso(row.updated_at) },
    status: row.status,
    category: [{ coding: [{ system: CATEGORY_SYSTEM, code: 'laboratory', display: 'Laboratory' }] }],
    code: codeConcept(row),
    subject: { reference: `Patient/${row.patient_id}` },
    effectiveDateTime: iso(row.effective_at),
    ...(row.issued_at ? { issued: iso(row.issued_at) } : {}),
    performer: [{ identifier: { system: ORGANIZATION_SYSTEM, value: row.org_code }, display: row.org_name }],
    ...valueOf(row),
    ...(flags.length ? { interpretation: flags.map((code) => ({ coding: [{ system: INTERPRETATION_SYSTEM, code }] })) } : {}),
    ...(range ? { referenceRange: [range] } : {}),
  };
}

const QUANTITY = /^(eq|ne|gt|lt|ge|le)?([+-]?\d+(?:\.\d+)?)(?:\|([^|]*)\|(.*))?$/;

/** value-quantity=[prefix]number[|system|code]: compared with the stored number (and unit when given). */
function whereQuantity(query: Knex.QueryBuilder, values: readonly string[]): void {
  const ops: Record<string, string> = { eq: '=', ne: '<>', gt: '>', lt: '<', ge: '>=', le: '<=' };
  for (const value of values) {
    const m = QUANTITY.exec(value.trim());
    if (!m) throw badInput(`value-quantity=${value} is not [prefix]number[|system|code]`, { location: 'value-quantity', code: 'invalid-quantity' });
    query.where('ob.value_num', ops[m[1] ?? 'eq']!, Number(m[2]));
    if (m[4]) query.where((q) => q.where('ob.unit_code', m[4]!).orWhere('ob.unit', m[4]!));
  }
}

/** Adds the observations of these reports to a search's included resources; for DiagnosticReport:result. */
export async function observationsOfReports(db: Knex, reports: Array<{ id: number; patient_id: number }>): Promise<Row[]> {
  if (reports.length === 0) return [];
  // observations_report_key: patient_id (the partition key) and report_id
  return db('observations as ob')
    .join('organizations as org', 'org.id', 'ob.organization_id')
    .whereIn('ob.patient_id', [...new Set(reports.map((r) => r.patient_id))])
    .whereIn('ob.report_id', reports.map((r) => r.id))
    .orderBy(['ob.report_id', 'ob.id'])
    .select(observationColumns);
}

const held = (r: Row): Held => ({ personId: r.person_id as number, organizationId: r.organization_id as number });

/** The observations, audited with how each was authorized. */
async function answer(rows: Row[], ctx: FhirContext, action: string): Promise<Resource[]> {
  const of = await authorize(ctx, rows.map(held));
  const shown = rows.filter((r) => of(held(r)).allowed);
  await ctx.audit(shown.map((r) => audited({ action, resourceType: 'Observation', resourceId: String(r.id), patientId: r.patient_id as number }, of(held(r)))));
  return shown.map(observationResource);
}

/** Observation: lab results by patient, code, date, category, status and value-quantity. */
export function createObservationProvider(deps: { idHashSecret: string }): FhirResourceProvider {
  return {
    type: 'Observation',
    searchParams: [
      { name: 'patient', type: 'reference', documentation: 'Patient/{id}; patient:identifier=system|value as for Patient' },
      { name: 'subject', type: 'reference', documentation: 'As patient; subject:identifier with the national ID finds the person\'s results from every hospital' },
      { name: 'code', type: 'token', documentation: `${LOINC_SYSTEM}|{code}, urn:hub:organization:{CODE}:code|{code}, or a code in either` },
      { name: 'date', type: 'date', documentation: 'Specimen collection time (eq, gt, lt, ge, le)' },
      { name: 'category', type: 'token', documentation: 'laboratory (every result here is)' },
      { name: 'status', type: 'token', documentation: 'final, preliminary, corrected …' },
      { name: 'value-quantity', type: 'quantity', documentation: '[prefix]number[|system|code], within the patient\'s results' },
    ],
    async read(id, ctx) {
      // the primary key (id, patient_id): one probe per partition
      const row = /^\d{1,18}$/.test(id)
        ? await ctx.db('observations as ob').join('organizations as org', 'org.id', 'ob.organization_id').join('patients as pt', 'pt.id', 'ob.patient_id').where('ob.id', Number(id)).first([...observationColumns, 'pt.person_id'])
        : undefined;
      if (!row) throw notFound(`no Observation/${id}`, { location: 'id', code: 'unknown-observation' });
      await authorizeRead(ctx, held(row), { action: 'read', resourceType: 'Observation', resourceId: id, patientId: row.patient_id });
      return (await answer([row], ctx, 'read'))[0]!;
    },
    async search(params, page, ctx) {
      const named = await searchedRecords(ctx.db, params, deps.idHashSecret);
      if (named === undefined) throw badInput('an Observation search needs patient or subject (or subject:identifier)', { code: 'search-too-broad' });
      if (page.include.length > 0) throw badInput('Observation supports no _include', { location: '_include', code: 'unsupported-include' });
      const records = await readableRecords(ctx, named, (r) => ({ action: 'search', resourceType: 'Observation', patientId: r.id }));
      if (records.length === 0) return { matches: [], more: false };
      const query = ctx.db('observations as ob').join('organizations as org', 'org.id', 'ob.organization_id').join('patients as pt', 'pt.id', 'ob.patient_id').whereIn('ob.patient_id', records);
      whereCode(query, 'ob', tokensOf(params.get('code')));
      whereDate(query, 'ob.effective_at', 'date', params.get('date'));
      for (const tokens of tokensOf(params.get('category'))) if (!tokens.some((t) => t.code === 'laboratory')) query.whereRaw('false');
      for (const value of params.get('status') ?? []) query.whereIn('ob.status', splitOr(value));
      whereQuantity(query, params.get('value-quantity') ?? []);
      for (const o of orderOf(page.sort, { date: 'ob.effective_at' }, '-date')) query.orderBy(o.column, o.order);
      const rows = await query.orderBy('ob.id', 'desc').offset(page.offset).limit(page.count + 1).select([...observationColumns, 'pt.person_id']);
      return { matches: await answer(rows.slice(0, page.count), ctx, 'search'), more: rows.length > page.count };
    },
  };
}
