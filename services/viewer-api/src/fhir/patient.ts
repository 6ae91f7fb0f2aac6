import type { Knex } from '@hub/shared/db';
import { badInput, notFound } from '@hub/shared/errors';
import { NATIONAL_ID_SYSTEM, ORGANIZATION_SYSTEM, mrnSystem } from '@hub/shared/fhir';
import { dateRange, likePrefix, splitOr, tokensOf, type DateRangeQuery } from './search-values';
import { audited, authorize, authorizeRead, readablePage, type Held } from './access';
import { recordsByIdentifier, recordsOfPersons } from './subject';
import type { FhirContext, FhirResourceProvider, Resource } from './types';

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const EN_REPRESENTATION = 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation';
const DATA_ABSENT = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
const MASKED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'MASKED', display: 'masked' };
const GENDER: Record<string, string> = { M: 'male', F: 'female', O: 'other', U: 'unknown' };
/** The expression patients_name_alphabetic_idx (migration 0005) indexes; it must stay identical. */
const ALPHABETIC_KEY = `lower(regexp_replace(p.name_alphabetic, '[\\^=\\s,.·•]', '', 'g'))`;
const nameKeyOf = (text: string) => text.replace(/[\^=\s,.·•]/g, '').toLowerCase();
const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

type Row = Record<string, unknown> & { id: number; person_id: number; organization_id: number };

const columns = ['p.*', 'o.code as org_code', 'o.name as org_name'];

/** A stored name group (`family^given`) as a HumanName; `representation` is ABC, IDE or SYL. */
function humanName(written: string, representation: 'ABC' | 'IDE' | 'SYL', use: string) {
  const [family, given] = written.split('^', 2) as [string, string | undefined];
  const text = given ? (representation === 'IDE' ? `${family}${given}` : `${family} ${given}`) : family;
  return {
    use,
    text,
    ...(given !== undefined ? { family, given: given.split(' ').filter(Boolean) } : {}),
    extension: [{ url: EN_REPRESENTATION, valueCode: representation }],
  };
}

/**
 * A hospital's record as a FHIR Patient: its MRN under mrnSystem(organization), the national
 * ID only masked (the value itself is absent, reason "masked"; the masked form is the type
 * text), every name group with its ISO 21090 representation, and links to the person's
 * other records in the region (seealso) and to merges (replaced-by / replaces).
 */
export function patientResource(row: Row, links: ReadonlyArray<{ id: number; type: string }>): Resource {
  const identifier: unknown[] = [
    { use: 'usual', type: { coding: [{ system: V2_0203, code: 'MR' }] }, system: mrnSystem(String(row.org_code)), value: row.local_id, assigner: { display: row.org_name } },
  ];
  if (row.national_id_masked) {
    identifier.push({
      use: 'official',
      type: { coding: [{ system: V2_0203, code: 'NNCHN', display: 'National Person Identifier (China)' }], text: `居民身份证 ${String(row.national_id_masked)}` },
      system: NATIONAL_ID_SYSTEM,
      _value: { extension: [{ url: DATA_ABSENT, valueCode: 'masked' }] },
    });
  }
  const name = [
    row.name_ideographic ? humanName(String(row.name_ideographic), 'IDE', 'official') : undefined,
    row.name_alphabetic ? humanName(String(row.name_alphabetic), 'ABC', row.name_ideographic ? 'usual' : 'official') : undefined,
    row.name_phonetic ? humanName(String(row.name_phonetic), 'SYL', 'usual') : undefined,
  ].filter(Boolean);
  return {
    resourceType: 'Patient',
    id: String(row.id),
    meta: { lastUpdated: (row.updated_at as Date).toISOString(), ...(row.national_id_masked ? { security: [MASKED] } : {}) },
    identifier,
    active: row.merged_into_patient_id === null,
    ...(name.length ? { name } : {}),
    ...(row.sex ? { gender: GENDER[String(row.sex)] } : {}),
    ...(row.birth_date ? { birthDate: String(row.birth_date) } : {}),
    managingOrganization: { identifier: { system: ORGANIZATION_SYSTEM, value: row.org_code }, display: row.org_name },
    ...(links.length ? { link: links.map((l) => ({ other: { reference: `Patient/${l.id}` }, type: l.type })) } : {}),
  };
}

/** A record another record links to: its id, and whose and where it is, for authorization. */
type Linked = { id: number; type: string } & Held;

/**
 * The links of each record: other records of its person, and the merges it is part of, in
 * two queries for the whole page (recordsOfPersons; patients_merged_into_idx and the primary key).
 */
async function linksOf(db: Knex, rows: Row[]): Promise<Map<number, Linked[]>> {
  const out = new Map<number, Linked[]>();
  if (rows.length === 0) return out;
  const byPerson = await recordsOfPersons(db, [...new Set(rows.map((r) => r.person_id))]);
  const merges: Array<{ id: number; merged_into_patient_id: number | null } & Held> = await db('patients')
    .whereIn('merged_into_patient_id', rows.map((r) => r.id))
    .orWhereIn('id', rows.flatMap((r) => (r.merged_into_patient_id ? [r.merged_into_patient_id as number] : [])))
    .orderBy('id')
    .select('id', 'merged_into_patient_id', 'person_id as personId', 'organization_id as organizationId');
  for (const row of rows) {
    const target = merges.find((m) => m.id === row.merged_into_patient_id);
    const links: Linked[] = [
      ...(target ? [{ ...target, type: 'replaced-by' }] : []),
      ...merges.filter((m) => m.merged_into_patient_id === row.id).map((m) => ({ ...m, type: 'replaces' })),
    ].map(({ id, type, personId, organizationId }) => ({ id, type, personId, organizationId }));
    const linked = new Set([row.id, ...links.map((l) => l.id)]);
    for (const r of byPerson.get(row.person_id) ?? []) if (!linked.has(r.id)) links.push({ ...r, type: 'seealso' });
    out.set(row.id, links);
  }
  return out;
}

const chinaDay = (d: Date) => new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 10);

/** A date parameter on a DATE column, compared as days (so patients_demographics_idx serves it). */
function whereDay(query: DateRangeQuery, column: string, param: string, values: readonly string[]): void {
  for (const value of values) {
    const { prefix, from, to } = dateRange(param, value.replace(/T.*$/, ''));
    const [first, after] = [chinaDay(from), chinaDay(to)];
    if (prefix === 'eq') query.where(column, '>=', first).where(column, '<', after);
    else if (prefix === 'gt') query.where(column, '>=', after);
    else if (prefix === 'ge') query.where(column, '>=', first);
    else if (prefix === 'lt') query.where(column, '<', first);
    else query.where(column, '<', after);
  }
}

/** Patient: read, and search by identifier (national ID in clear, hashed here; or MRN), name, birthdate. */
export function createPatientProvider(deps: { idHashSecret: string }): FhirResourceProvider {
  /**
   * The records as Patients, audited with how each was authorized; links to records the reader
   * may not read are left out (they would say where else the patient is treated). The person
   * of a link is the row's: every record of a person group is decided alike.
   */
  const answer = async (rows: Row[], ctx: FhirContext, action: string) => {
    const links = await linksOf(ctx.db, rows);
    const held = (r: Row): Held => ({ personId: r.person_id, organizationId: r.organization_id });
    const of = await authorize(ctx, [...rows.map(held), ...rows.flatMap((r) => (links.get(r.id) ?? []).map((l) => ({ personId: r.person_id, organizationId: l.organizationId })))]);
    const shown = rows.filter((r) => of(held(r)).allowed);
    await ctx.audit(shown.map((r) => audited({ action, resourceType: 'Patient', resourceId: String(r.id), patientId: r.id }, of(held(r)))));
    return shown.map((r) => patientResource(r, (links.get(r.id) ?? []).filter((l) => of({ personId: r.person_id, organizationId: l.organizationId }).allowed)));
  };

  return {
    type: 'Patient',
    searchParams: [
      { name: 'identifier', type: 'token', documentation: `${NATIONAL_ID_SYSTEM}|{resident ID in clear} finds every record of that person in the region; urn:hub:organization:{CODE}:mrn|{MRN} a hospital's record` },
      { name: 'name', type: 'string', documentation: 'Starts with (any name group; Chinese characters or pinyin, without spaces); :exact for the whole name; at least 2 characters unless with birthdate or identifier' },
      { name: 'birthdate', type: 'date', documentation: 'Birth date (eq, ge, le, gt, lt); a range needs name or identifier too' },
      { name: '_id', type: 'token', documentation: 'Logical id' },
    ],
    async read(id, ctx) {
      const row = /^\d{1,18}$/.test(id) ? await ctx.db('patients as p').join('organizations as o', 'o.id', 'p.organization_id').where('p.id', Number(id)).first(columns) : undefined;
      if (!row) throw notFound(`no Patient/${id}`, { location: 'id', code: 'unknown-patient' });
      await authorizeRead(ctx, { personId: row.person_id, organizationId: row.organization_id }, { action: 'read', resourceType: 'Patient', resourceId: id, patientId: row.id });
      return (await answer([row as Row], ctx, 'read'))[0]!;
    },
    async search(params, page, ctx) {
      const query = ctx.db('patients as p').join('organizations as o', 'o.id', 'p.organization_id');
      let narrowed = false;
      for (const tokens of tokensOf(params.get('identifier'))) {
        const ids = new Set<number>();
        for (const token of tokens) for (const id of await recordsByIdentifier(ctx.db, token, deps.idHashSecret, 'identifier')) ids.add(id);
        query.whereIn('p.id', [...ids]);
        narrowed = true;
      }
      for (const values of params.get('_id') ?? []) {
        query.whereIn('p.id', splitOr(values).filter((v) => /^\d{1,18}$/.test(v)).map(Number));
        narrowed = true;
      }
      for (const [name, values] of params) {
        if (name.split(':')[0] !== 'name') continue;
        const exact = name === 'name:exact';
        if (name !== 'name' && !exact) throw badInput(`${name}: only name and name:exact are supported`, { location: name, code: 'unsupported-modifier' });
        for (const value of values) {
          const keys = splitOr(value).map(nameKeyOf).filter(Boolean);
          if (!narrowed && !params.has('birthdate') && keys.some((k) => [...k].length < 2)) {
            throw badInput('a name search needs at least 2 characters, or a birthdate or identifier with it', { location: name, code: 'search-too-broad' });
          }
          query.where((or) => {
            for (const key of keys) {
              // patients_name_idx (name_key: the ideographic group when there is one), patients_name_alphabetic_idx
              if (exact) or.orWhere('p.name_key', key).orWhereRaw(`${ALPHABETIC_KEY} = ?`, [key]);
              else {
                or.orWhereRaw(`p.name_key like ? escape '\\'`, [likePrefix(key)]);
                if (!CJK.test(key)) or.orWhereRaw(`${ALPHABETIC_KEY} like ? escape '\\'`, [likePrefix(key)]);
              }
            }
          });
        }
        narrowed = true;
      }
      const birth = params.get('birthdate');
      if (birth) {
        if (!narrowed && birth.some((v) => dateRange('birthdate', v).prefix !== 'eq')) {
          throw badInput('a birthdate range needs a name or an identifier with it', { location: 'birthdate', code: 'search-too-broad' });
        }
        whereDay(query, 'p.birth_date', 'birthdate', birth);
        narrowed = true;
      }
      if (!narrowed) throw badInput('a Patient search needs identifier, name or birthdate', { code: 'search-too-broad' });
      if (page.sort.length > 0) throw badInput('Patient searches are not sortable here', { location: '_sort', code: 'unsupported-sort' });
      // named: an identifier or _id names the records; an emergency read may return them all
      const named = params.has('identifier') || params.has('_id');
      const { rows, more } = await readablePage<Row>(ctx, query.orderBy('p.id').select(columns), { order: 'c.id', organization: 'organization_id', person: 'person_id', named }, page);
      return { matches: await answer(rows, ctx, 'search'), more };
    },
  };
}
