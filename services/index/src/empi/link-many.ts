import type { Knex } from '@hub/shared/db';
import { linkPatient, nameKey, type LinkedPatient, type PatientFacts } from './link';

/** A hospital's patient as the batch form keys it. */
export const patientKey = (f: { organizationId: number; localId: string }) => `${f.organizationId}|${f.localId}`;

/** The columns a message may tell about a patient; a later message's value wins, an absent one erases nothing. */
interface Told {
  name_alphabetic: string | null;
  name_ideographic: string | null;
  name_phonetic: string | null;
  name_key: string | null;
  birth_date: string | null;
  sex: string | null;
}

interface Gathered {
  organizationId: number;
  localId: string;
  told: Told;
  /** What the first message told: a new record's candidate links are sought with it, as linkPatient does. */
  first: Told;
  nationalId?: { hash: string; masked: string };
  occurrences: PatientFacts[];
}

const toldBy = (f: PatientFacts): Told => ({
  name_alphabetic: f.name?.alphabetic ?? null,
  name_ideographic: f.name?.ideographic ?? null,
  name_phonetic: f.name?.phonetic ?? null,
  name_key: nameKey(f.name),
  birth_date: f.birthDate ?? null,
  sex: f.sex ?? null,
});

const laterWins = (a: Told, b: Told): Told => ({
  name_alphabetic: b.name_alphabetic ?? a.name_alphabetic,
  name_ideographic: b.name_ideographic ?? a.name_ideographic,
  name_phonetic: b.name_phonetic ?? a.name_phonetic,
  name_key: b.name_key ?? a.name_key,
  birth_date: b.birth_date ?? a.birth_date,
  sex: b.sex ?? a.sex,
});

/**
 * linkPatient for many messages at once, with the same outcome as linking them one after the
 * other in the order given, in a handful of statements instead of several per message: the
 * index worker's batch form. Records are locked in (organization, local id) order and persons
 * in national-ID-hash order, so two workers linking overlapping batches cannot deadlock. A
 * record told two different national IDs within the batch, or registered by another worker
 * meanwhile, is linked one message at a time (linkPatient), which keeps every intermediate
 * link on record. Returns the link of each record, by `patientKey`.
 */
export async function linkPatients(trx: Knex.Transaction, list: PatientFacts[]): Promise<Map<string, LinkedPatient>> {
  const gathered = new Map<string, Gathered>();
  for (const f of list) {
    const key = patientKey(f);
    const g = gathered.get(key);
    if (!g) gathered.set(key, { organizationId: f.organizationId, localId: f.localId, told: toldBy(f), first: toldBy(f), ...(f.nationalId ? { nationalId: f.nationalId } : {}), occurrences: [f] });
    else {
      g.told = laterWins(g.told, toldBy(f));
      g.occurrences.push(f);
    }
  }
  const out = new Map<string, LinkedPatient>();
  const oneByOne: Gathered[] = [];
  const regular: Gathered[] = [];
  for (const g of gathered.values()) {
    const hashes = new Set(g.occurrences.filter((f) => f.nationalId).map((f) => f.nationalId!.hash));
    if (hashes.size > 1) oneByOne.push(g);
    else {
      // the masked form the last message carried, as linkPatient would leave it
      const last = [...g.occurrences].reverse().find((f) => f.nationalId);
      if (last) g.nationalId = last.nationalId!;
      regular.push(g);
    }
  }
  regular.sort((a, b) => a.organizationId - b.organizationId || (a.localId < b.localId ? -1 : a.localId > b.localId ? 1 : 0));

  const persons = await personsForNationalIds(trx, regular.flatMap((g) => (g.nationalId ? [g.nationalId] : [])));
  const { rows: known } = await trx.raw(
    `select p.id, p.organization_id, p.local_id, p.person_id from patients p
     join unnest(?::bigint[], ?::text[]) k(organization_id, local_id) on p.organization_id = k.organization_id and p.local_id = k.local_id
     order by p.organization_id, p.local_id
     for update of p`,
    [regular.map((g) => g.organizationId), regular.map((g) => g.localId)],
  );
  const existing = new Map<string, { id: number; person_id: number }>((known as Array<{ id: string; organization_id: string; local_id: string; person_id: string }>).map((r) => [`${r.organization_id}|${r.local_id}`, { id: Number(r.id), person_id: Number(r.person_id) }]));
  const live = await livePersons(trx, [...existing.values()].map((e) => e.person_id));

  const updates: Array<Record<string, unknown>> = [];
  const links: Array<Record<string, unknown>> = [];
  const fresh: Gathered[] = [];
  for (const g of regular) {
    const key = patientKey(g);
    const e = existing.get(key);
    if (!e) {
      // a new record first told without the national ID a later message gives: linkPatient
      // would create it anonymous, seek candidates, then link it; so do exactly that
      if (g.nationalId && !g.occurrences[0]!.nationalId) oneByOne.push(g);
      else fresh.push(g);
      continue;
    }
    const target = g.nationalId ? persons.get(g.nationalId.hash)! : null;
    let personId = live.get(e.person_id) ?? e.person_id;
    const relink = target !== null && target !== personId;
    if (relink) {
      links.push({ kind: 'link', organization_id: g.organizationId, surviving_patient_id: e.id, surviving_person_id: target, retired_person_id: personId, reason: 'national ID received for an existing record', source: 'index' });
      personId = target;
    }
    updates.push({ id: e.id, ...g.told, national_id_hash: g.nationalId?.hash ?? null, national_id_masked: g.nationalId?.masked ?? null, person_id: relink ? target : null });
    out.set(key, { patientId: e.id, personId, candidates: 0 });
  }
  if (updates.length > 0) {
    // Only what changes is written: a returning patient's message usually tells nothing new.
    await trx.raw(
      `update patients p set
         name_alphabetic = coalesce(v.name_alphabetic, p.name_alphabetic), name_ideographic = coalesce(v.name_ideographic, p.name_ideographic),
         name_phonetic = coalesce(v.name_phonetic, p.name_phonetic), name_key = coalesce(v.name_key, p.name_key),
         birth_date = coalesce(v.birth_date, p.birth_date), sex = coalesce(v.sex, p.sex),
         national_id_hash = coalesce(v.national_id_hash, p.national_id_hash), national_id_masked = coalesce(v.national_id_masked, p.national_id_masked),
         person_id = coalesce(v.person_id, p.person_id), updated_at = now()
       from json_to_recordset(?::json) as v(id bigint, name_alphabetic text, name_ideographic text, name_phonetic text, name_key text, birth_date date, sex text, national_id_hash text, national_id_masked text, person_id bigint)
       where p.id = v.id and (row(p.name_alphabetic, p.name_ideographic, p.name_phonetic, p.name_key, p.birth_date, p.sex, p.national_id_hash, p.national_id_masked, p.person_id)
         is distinct from row(coalesce(v.name_alphabetic, p.name_alphabetic), coalesce(v.name_ideographic, p.name_ideographic), coalesce(v.name_phonetic, p.name_phonetic),
           coalesce(v.name_key, p.name_key), coalesce(v.birth_date, p.birth_date), coalesce(v.sex, p.sex), coalesce(v.national_id_hash, p.national_id_hash),
           coalesce(v.national_id_masked, p.national_id_masked), coalesce(v.person_id, p.person_id)))`,
      [JSON.stringify(updates)],
    );
  }
  if (links.length > 0) await trx('person_merges').insert(links);

  if (fresh.length > 0) oneByOne.push(...(await registerPatients(trx, fresh, persons, out)));
  for (const g of oneByOne) {
    for (const f of g.occurrences) {
      const linked = await linkPatient(trx, f);
      const before = out.get(patientKey(f));
      out.set(patientKey(f), { ...linked, candidates: linked.candidates + (before?.candidates ?? 0) });
    }
  }
  return out;
}

/** New records: a person each (their national ID's, or a new one), the rows, and candidate links. Returns those another worker registered first. */
async function registerPatients(trx: Knex.Transaction, fresh: Gathered[], persons: Map<string, number>, out: Map<string, LinkedPatient>): Promise<Gathered[]> {
  const anonymous = fresh.filter((g) => !g.nationalId);
  const { rows: made } = anonymous.length > 0 ? await trx.raw('insert into persons (created_at) select now() from generate_series(1, ?) returning id', [anonymous.length]) : { rows: [] };
  const personOf = new Map<Gathered, number>(anonymous.map((g, i) => [g, Number((made as Array<{ id: string }>)[i]!.id)]));
  for (const g of fresh) if (g.nationalId) personOf.set(g, persons.get(g.nationalId.hash)!);

  const { rows: inserted } = await trx.raw(
    `insert into patients (organization_id, local_id, person_id, name_alphabetic, name_ideographic, name_phonetic, name_key, birth_date, sex, national_id_hash, national_id_masked)
     select organization_id, local_id, person_id, name_alphabetic, name_ideographic, name_phonetic, name_key, birth_date, sex, national_id_hash, national_id_masked
     from json_to_recordset(?::json) as v(ord int, organization_id bigint, local_id text, person_id bigint, name_alphabetic text, name_ideographic text, name_phonetic text, name_key text, birth_date date, sex text, national_id_hash text, national_id_masked text)
     order by ord
     on conflict (organization_id, local_id) do nothing
     returning id, organization_id, local_id`,
    [JSON.stringify(fresh.map((g, ord) => ({ ord, organization_id: g.organizationId, local_id: g.localId, person_id: personOf.get(g), ...g.told, national_id_hash: g.nationalId?.hash ?? null, national_id_masked: g.nationalId?.masked ?? null })))],
  );
  const ids = new Map<string, number>((inserted as Array<{ id: string; organization_id: string; local_id: string }>).map((r) => [`${r.organization_id}|${r.local_id}`, Number(r.id)]));
  const raced: Gathered[] = [];
  const seekers: Array<Record<string, unknown>> = [];
  for (const g of fresh) {
    const patientId = ids.get(patientKey(g));
    if (patientId === undefined) {
      raced.push(g);
      continue;
    }
    out.set(patientKey(g), { patientId, personId: personOf.get(g)!, candidates: 0 });
    if (!g.nationalId && g.first.name_key && g.first.birth_date && g.first.sex) {
      seekers.push({ patient_id: patientId, person_id: personOf.get(g), organization_id: g.organizationId, name_key: g.first.name_key, birth_date: g.first.birth_date, sex: g.first.sex });
    }
  }
  if (seekers.length > 0) {
    // as linkPatient: other hospitals' records with the same name, birth date and sex (patients_demographics_idx);
    // `c.id < v.patient_id`: a pair registered in the same batch is recorded once, from its later record
    const { rows } = await trx.raw(
      `insert into person_link_candidates (patient_id, candidate_patient_id, reason)
       select v.patient_id, c.id, 'same name, birth date and sex; no shared identifier'
       from json_to_recordset(?::json) as v(patient_id bigint, person_id bigint, organization_id bigint, name_key text, birth_date date, sex text)
       cross join lateral (
         select p.id from patients p
         where p.birth_date = v.birth_date and p.name_key = v.name_key and p.sex = v.sex and p.organization_id <> v.organization_id and p.person_id <> v.person_id and p.id < v.patient_id
         limit 20
       ) c
       on conflict do nothing
       returning patient_id`,
      [JSON.stringify(seekers)],
    );
    const keyOf = new Map([...out].map(([key, linked]) => [linked.patientId, key]));
    for (const r of rows as Array<{ patient_id: string }>) {
      const key = keyOf.get(Number(r.patient_id))!;
      out.set(key, { ...out.get(key)!, candidates: out.get(key)!.candidates + 1 });
    }
  }
  return raced;
}

/** The one live person of each national ID, created where there is none (in hash order: concurrent batches lock alike). */
async function personsForNationalIds(trx: Knex.Transaction, ids: Array<{ hash: string; masked: string }>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (ids.length === 0) return out;
  const masked = new Map(ids.map((i) => [i.hash, i.masked]));
  const hashes = [...masked.keys()].sort();
  const { rows: inserted } = await trx.raw(
    `insert into persons (national_id_hash, national_id_masked)
     select h, m from unnest(?::text[], ?::text[]) as t(h, m) order by h
     on conflict (national_id_hash) where national_id_hash is not null and merged_into_id is null do nothing
     returning id, national_id_hash`,
    [hashes, hashes.map((h) => masked.get(h)!)],
  );
  for (const r of inserted as Array<{ id: string; national_id_hash: string }>) out.set(r.national_id_hash, Number(r.id));
  const missing = hashes.filter((h) => !out.has(h));
  if (missing.length > 0) {
    const found = await trx('persons').whereIn('national_id_hash', missing).whereNull('merged_into_id').select('id', 'national_id_hash');
    for (const r of found) out.set(r.national_id_hash, Number(r.id));
  }
  return out;
}

/** livePerson for many persons in one statement: each id → the live person it stands for. */
export async function livePersons(db: Knex, personIds: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (personIds.length === 0) return out;
  const { rows } = await db.raw(
    `with recursive chain(start, id, merged_into_id, depth) as (
       select id, id, merged_into_id, 0 from persons where id = any(?::bigint[])
       union all
       select c.start, p.id, p.merged_into_id, c.depth + 1 from persons p join chain c on p.id = c.merged_into_id where c.depth < 32
     )
     select start, id from chain where merged_into_id is null`,
    [[...new Set(personIds)]],
  );
  for (const r of rows as Array<{ start: string; id: string }>) out.set(Number(r.start), Number(r.id));
  return out;
}
