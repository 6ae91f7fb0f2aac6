import { isIP } from 'node:net';
import type { Knex } from '@hub/shared/db';
import { badInput, conflict, notFound } from '@hub/shared/errors';
import type { AckError, Message } from '@hub/shared/hl7';
import { getOrganization } from '@hub/shared/org';
import { ERR } from '../hl7/problems';
import type { SendingOrganization } from '../hl7/receive';

export interface Hl7Sender {
  id: number;
  organizationCode: string;
  /** MSH-4.1 the LIS writes; null: any facility from the address. */
  sendingFacility: string | null;
  /** An address or network; null: from anywhere. */
  sourceAddress: string | null;
  createdAt: Date;
}

export interface SenderBinding {
  organizationCode: string;
  facility?: string;
  address?: string;
}

const FACILITY = /^[\x21-\x7e\u3400-\u9fff]{1,64}$/;

/** An IPv4/IPv6 address, optionally a network (10.0.0.0/24); IPv4-mapped IPv6 is written as IPv4. */
export function normalizeAddress(raw: string): string {
  const [ip, mask, ...rest] = raw.trim().split('/');
  const address = ip!.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const family = isIP(address);
  const bits = family === 4 ? 32 : 128;
  if (family === 0 || rest.length > 0 || (mask !== undefined && !(/^\d{1,3}$/.test(mask) && Number(mask) <= bits))) {
    throw badInput(`"${raw}" is not an IP address or network (e.g. 10.0.0.7 or 10.0.0.0/24)`, { location: 'address', code: 'invalid-address' });
  }
  return mask === undefined ? address : `${address}/${mask}`;
}

function checkBinding(b: SenderBinding): { facility: string | null; address: string | null } {
  const facility = b.facility?.trim() || null;
  if (facility !== null && !FACILITY.test(facility)) {
    throw badInput('the sending facility is the MSH-4.1 value the LIS sends: 1-64 visible characters, no spaces', { location: 'facility', code: 'invalid-facility' });
  }
  const address = b.address ? normalizeAddress(b.address) : null;
  if (facility === null && address === null) throw badInput('a sender needs an MSH-4 facility, an address, or both', { code: 'sender-binding' });
  return { facility, address };
}

const senderRow = (r: Record<string, unknown>): Hl7Sender => ({
  id: r.id as number,
  organizationCode: r.code as string,
  sendingFacility: (r.sending_facility as string | null) ?? null,
  sourceAddress: r.source_address === null ? null : String(r.source_address).replace(/\/(32|128)$/, ''),
  createdAt: r.created_at as Date,
});

/** Registers an LIS of an organization by its MSH-4 facility and/or source address. */
export async function addHl7Sender(db: Knex, binding: SenderBinding): Promise<Hl7Sender> {
  const { facility, address } = checkBinding(binding);
  const org = await getOrganization(db, binding.organizationCode);
  const { rows } = await db.raw(
    `insert into hl7_senders (organization_id, sending_facility, source_address) values (?, ?, ?::inet)
     on conflict ((coalesce(sending_facility, '')), (coalesce(source_address::text, ''))) do nothing
     returning id, sending_facility, source_address, created_at`,
    [org.id, facility, address],
  );
  if (!rows[0]) throw conflict('this facility and address are already registered (hl7 list shows by whom)', { code: 'sender-exists' });
  return senderRow({ ...rows[0], code: org.code });
}

export async function listHl7Senders(db: Knex, organizationCode?: string): Promise<Hl7Sender[]> {
  const query = db('hl7_senders as s')
    .join('organizations as o', 'o.id', 's.organization_id')
    .orderBy([{ column: 'o.code' }, { column: 's.sending_facility' }, { column: 's.id' }])
    .select('s.id', 'o.code', 's.sending_facility', 's.source_address', 's.created_at');
  if (organizationCode) query.where('o.code', organizationCode);
  return (await query).map(senderRow);
}

/** Removes the binding with exactly this facility and address; NotFound when there is none. */
export async function removeHl7Sender(db: Knex, binding: SenderBinding): Promise<void> {
  const { facility, address } = checkBinding(binding);
  const org = await getOrganization(db, binding.organizationCode);
  const removed = await db('hl7_senders')
    .where({ organization_id: org.id })
    .whereRaw(`coalesce(sending_facility, '') = ? and coalesce(source_address::text, '') = coalesce(?::inet::text, '')`, [facility ?? '', address])
    .delete();
  if (removed === 0) throw notFound(`no HL7 sender of ${org.code} with that facility and address`, { code: 'unknown-sender' });
}

export interface SenderDirectory {
  /** The organization an MLLP message belongs to, or the error its AR names. */
  resolve(message: Message, remoteAddress: string): Promise<SendingOrganization | AckError>;
}

type Resolution = SendingOrganization | { refused: string };

/**
 * Binds MLLP messages to organizations. A facility registered with an address only counts
 * from that address (a facility name is easy to forge; the address is what the network
 * vouches for); an address registered without a facility takes any MSH-4 from there.
 * Answers are kept `ttlMs` (the table is small and changes by hand), so a removed sender
 * stops being accepted within that time.
 */
export function createSenderDirectory(db: Knex, options: { ttlMs?: number } = {}): SenderDirectory {
  const ttl = options.ttlMs ?? 30_000;
  const cache = new Map<string, { at: number; value: Resolution }>();

  async function lookup(facility: string | undefined, address: string): Promise<Resolution> {
    const fields = ['s.organization_id as id', 'o.code', 'o.active'];
    if (facility) {
      const rows = await db('hl7_senders as s')
        .join('organizations as o', 'o.id', 's.organization_id')
        .where('s.sending_facility', facility)
        .select(...fields, db.raw('s.source_address is null or s.source_address >>= ?::inet as allowed', [address]), db.raw('coalesce(masklen(s.source_address), -1) as specificity'))
        .orderBy('specificity', 'desc');
      const allowed = rows.find((r) => r.allowed);
      if (allowed) return allowed.active ? { id: allowed.id, code: allowed.code } : { refused: 'the organization of this sending facility is not active' };
      if (rows.length > 0) return { refused: 'this sending facility is not registered for the address it connects from' };
    }
    const byAddress = await db('hl7_senders as s')
      .join('organizations as o', 'o.id', 's.organization_id')
      .whereNull('s.sending_facility')
      .whereRaw('s.source_address >>= ?::inet', [address])
      .orderByRaw('masklen(s.source_address) desc')
      .first(...fields);
    if (byAddress) return byAddress.active ? { id: byAddress.id, code: byAddress.code } : { refused: 'the organization of this address is not active' };
    return { refused: 'the sending facility (MSH-4) and address are not registered with the hub' };
  }

  return {
    async resolve(message, remoteAddress) {
      const facility = (message.get('MSH-4.1') ?? message.get('MSH-4.2'))?.trim();
      const address = normalizeAddress(remoteAddress || '0.0.0.0');
      const key = `${facility ?? ''}\u0000${address}`;
      const cached = cache.get(key);
      let value: Resolution;
      if (cached && Date.now() - cached.at < ttl) value = cached.value;
      else {
        value = await lookup(facility, address);
        if (cache.size > 10_000) cache.clear();
        if (ttl > 0) cache.set(key, { at: Date.now(), value });
      }
      if ('id' in value) return value;
      return { location: 'MSH-4', code: ERR.unknownKey, message: value.refused, applicationCode: 'unknown-sender' };
    },
  };
}
