import type { Knex } from 'knex';

/** One patient-level read (or a refusal of one): who, for which organization, which patient, what, when, why. */
export interface AuditEvent {
  action: string;
  outcome: 'ok' | 'denied' | 'error';
  organizationId?: number;
  clientId?: string;
  practitioner?: string;
  patientId?: number;
  resourceType?: string;
  resourceId?: string;
  purpose?: string;
  emergency?: boolean;
  requestId?: string;
  detail?: Record<string, unknown>;
  at?: Date;
}

/**
 * Writes audit rows. Callers write the row in the same request that reads the data, before
 * answering, so a read that is not audited is a read that did not happen.
 */
export async function recordAudit(db: Knex, events: AuditEvent | AuditEvent[]): Promise<void> {
  const rows = (Array.isArray(events) ? events : [events]).map((e) => ({
    at: e.at ?? new Date(),
    action: e.action,
    outcome: e.outcome,
    organization_id: e.organizationId ?? null,
    client_id: e.clientId ?? null,
    practitioner: e.practitioner ?? null,
    patient_id: e.patientId ?? null,
    resource_type: e.resourceType ?? null,
    resource_id: e.resourceId ?? null,
    purpose: e.purpose ?? null,
    emergency: e.emergency ?? false,
    request_id: e.requestId ?? null,
    detail: e.detail ? JSON.stringify(e.detail) : null,
  }));
  if (rows.length > 0) await db('audit_events').insert(rows);
}

function monthStart(year: number, month: number): Date {
  return new Date(Date.UTC(year, month, 1));
}

/**
 * Creates the monthly partitions of the audit log from the previous month to `monthsAhead`
 * months ahead, so rows never fall into the default partition in normal operation. Safe to
 * run from several instances at once.
 */
export async function ensureAuditPartitions(db: Knex, now: Date = new Date(), monthsAhead = 2): Promise<string[]> {
  return db.transaction(async (trx) => {
    // Instances starting together take turns, so each partition is created exactly once.
    await trx.raw('select pg_advisory_xact_lock(?)', [AUDIT_PARTITION_LOCK]);
    const created: string[] = [];
    for (let offset = -1; offset <= monthsAhead; offset++) {
      const from = monthStart(now.getUTCFullYear(), now.getUTCMonth() + offset);
      const to = monthStart(from.getUTCFullYear(), from.getUTCMonth() + 1);
      const name = `audit_events_${from.getUTCFullYear()}_${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
      const exists = await trx.raw('select to_regclass(?) as t', [name]);
      if (exists.rows[0].t) continue;
      // DDL takes no bind parameters; both bounds are ISO timestamps made here, not input.
      await trx.raw(`create table ${name} partition of audit_events for values from ('${from.toISOString()}') to ('${to.toISOString()}')`);
      created.push(name);
    }
    return created;
  });
}

const AUDIT_PARTITION_LOCK = 0x61756474; // "audt"
