import type { Knex } from '@hub/shared/db';
import { createBatcher } from './batcher';
import { preparedQuery } from './prepared';

/** One check as it is recorded: the row, its audit rows (one per patient record shown) and its share of the roll-up. */
export interface CheckRecord {
  organizationId: number;
  clientId: string | null;
  practitioner: string;
  purpose: string;
  emergencyReason: string | null;
  personId: number;
  itemId: number;
  askedAt: Date;
  day: string;
  offeredIds: number[];
  recognizableIds: number[];
  withheld: number;
  audit: { patientIds: number[]; emergency: boolean; requestId: string | null; detail: Record<string, unknown> };
  /** results of other organizations shown */
  lookups: number;
}

// Every check waiting, in one statement: ids taken first (so each caller learns its own), then
// the checks, their audit rows and the roll-up deltas summed per day, organization and item.
// The count and each first array are read through a sub-select so the plan is generic (see preparedQuery).
const RECORD_BATCH = `
  with ids as (
    select nextval(pg_get_serial_sequence('recognition_checks', 'id')) as id, ord from generate_series(1, (select $1::int)) ord
  ), c as (
    insert into recognition_checks (id, organization_id, client_id, practitioner, purpose, emergency_reason, person_id, item_id, asked_at, day, offered_ids, recognizable_ids, withheld)
    overriding system value
    select ids.id, u.organization_id, u.client_id, u.practitioner, u.purpose, u.emergency_reason, u.person_id, u.item_id, u.asked_at, u.day, u.offered::bigint[], u.recognizable::bigint[], u.withheld
    from unnest((select $2::bigint[]), $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::timestamptz[], $10::date[], $11::text[], $12::text[], $13::int[])
      with ordinality as u(organization_id, client_id, practitioner, purpose, emergency_reason, person_id, item_id, asked_at, day, offered, recognizable, withheld, ord)
    join ids on ids.ord = u.ord
  ), a as (
    insert into audit_events (at, action, outcome, organization_id, client_id, practitioner, patient_id, resource_type, resource_id, purpose, emergency, request_id, detail)
    select x.at, 'recognition.check', 'ok', x.organization_id, x.client_id, x.practitioner, x.patient_id, 'RecognitionCheck', ids.id::text, x.purpose, x.emergency, x.request_id, x.detail::jsonb
    from unnest((select $14::int[]), $15::timestamptz[], $16::bigint[], $17::text[], $18::text[], $19::bigint[], $20::text[], $21::boolean[], $22::text[], $23::text[])
      as x(ord, at, organization_id, client_id, practitioner, patient_id, purpose, emergency, request_id, detail)
    join ids on ids.ord = x.ord
  ), d as (
    insert into recognition_daily_deltas (day, organization_id, item_id, checks, checks_recognizable, lookups)
    select * from unnest((select $24::date[]), $25::bigint[], $26::bigint[], $27::int[], $28::int[], $29::int[])
  )
  select id from ids order by ord`;

const pgArray = (ids: number[]) => `{${ids.join(',')}}`;

/**
 * Records checks in batches (createBatcher): a check waits for the statement that records it,
 * so it is on record and audited before it is answered, and the checks that arrive while one
 * statement runs go together in the next — one statement and one commit for many checks.
 */
export function createCheckRecorder(db: Knex, maxBatch = 500): (check: CheckRecord) => Promise<number> {
  return createBatcher((checks: CheckRecord[]) => writeBatch(db, checks), { maxBatch, inFlight: 1 });
}

async function writeBatch(db: Knex, checks: CheckRecord[]): Promise<number[]> {
  const audits = checks.flatMap((c, i) => c.audit.patientIds.map((patientId) => ({ ord: i + 1, c, patientId })));
  const deltas = new Map<string, { day: string; org: number; item: number; checks: number; recognizable: number; lookups: number }>();
  for (const c of checks) {
    const key = `${c.day}|${c.organizationId}|${c.itemId}`;
    const d = deltas.get(key) ?? { day: c.day, org: c.organizationId, item: c.itemId, checks: 0, recognizable: 0, lookups: 0 };
    d.checks += 1;
    d.recognizable += c.recognizableIds.length > 0 ? 1 : 0;
    d.lookups += c.lookups;
    deltas.set(key, d);
  }
  const sums = [...deltas.values()];
  const rows = await preparedQuery(db, 'recognition-checks-record', RECORD_BATCH, [
    checks.length,
    checks.map((c) => c.organizationId),
    checks.map((c) => c.clientId),
    checks.map((c) => c.practitioner),
    checks.map((c) => c.purpose),
    checks.map((c) => c.emergencyReason),
    checks.map((c) => c.personId),
    checks.map((c) => c.itemId),
    checks.map((c) => c.askedAt),
    checks.map((c) => c.day),
    checks.map((c) => pgArray(c.offeredIds)),
    checks.map((c) => pgArray(c.recognizableIds)),
    checks.map((c) => c.withheld),
    audits.map((a) => a.ord),
    audits.map((a) => a.c.askedAt),
    audits.map((a) => a.c.organizationId),
    audits.map((a) => a.c.clientId),
    audits.map((a) => a.c.practitioner),
    audits.map((a) => a.patientId),
    audits.map((a) => a.c.purpose),
    audits.map((a) => a.c.audit.emergency),
    audits.map((a) => a.c.audit.requestId),
    audits.map((a) => JSON.stringify(a.c.audit.detail)),
    sums.map((d) => d.day),
    sums.map((d) => d.org),
    sums.map((d) => d.item),
    sums.map((d) => d.checks),
    sums.map((d) => d.recognizable),
    sums.map((d) => d.lookups),
  ]);
  return rows.map((r) => Number(r.id));
}
