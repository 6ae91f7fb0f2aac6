import { isIP } from 'node:net';
import type { Knex } from '@hub/shared/db';
import { badInput, conflict, notFound } from '@hub/shared/errors';
import { getOrganization } from '@hub/shared/org';

/**
 * The calling AE titles each organization registered for C-STORE (table dicom_senders,
 * migration 0003). An association is bound to its organization by its calling AE title, and
 * to the source addresses registered with it, if any.
 */
export interface DicomSender {
  aeTitle: string;
  organizationCode: string;
  /** Hosts or networks (CIDR) the sender may connect from; empty: any. */
  addresses: string[];
}

const AE_TITLE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

function aeTitleOf(raw: string): string {
  const title = raw.trim();
  if (!AE_TITLE.test(title)) throw badInput(`AE title "${raw}" must be 1..16 ASCII characters without backslash`, { location: 'ae', code: 'invalid-ae-title' });
  return title;
}

function addressOf(raw: string): string {
  const [host, bits, ...rest] = raw.trim().split('/');
  const family = isIP(host ?? '');
  const max = family === 4 ? 32 : 128;
  if (family === 0 || rest.length > 0 || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max))) {
    throw badInput(`"${raw}" is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)`, { location: 'address', code: 'invalid-address' });
  }
  return raw.trim();
}

/** Registers a calling AE title for an organization; the title must be free in the whole region. */
export async function registerDicomSender(db: Knex, input: { organizationCode: string; aeTitle: string; addresses?: string[] }): Promise<DicomSender> {
  const aeTitle = aeTitleOf(input.aeTitle);
  const addresses = (input.addresses ?? []).map(addressOf);
  const org = await getOrganization(db, input.organizationCode);
  const inserted = await db.raw(
    `insert into dicom_senders (organization_id, ae_title, allowed_addresses) values (?, ?, ?::inet[])
     on conflict (upper(ae_title)) do nothing returning id`,
    [org.id, aeTitle, addresses.length > 0 ? addresses : null],
  );
  if (!inserted.rows[0]) {
    const owner = await db('dicom_senders as s').join('organizations as o', 'o.id', 's.organization_id').whereRaw('upper(s.ae_title) = upper(?)', [aeTitle]).first('o.code');
    throw conflict(`AE title "${aeTitle}" is already registered${owner ? ` to ${owner.code}` : ''}; AE titles are unique in the region`, { location: 'ae', code: 'ae-title-taken' });
  }
  return { aeTitle, organizationCode: org.code, addresses };
}

export async function listDicomSenders(db: Knex, organizationCode?: string): Promise<DicomSender[]> {
  const query = db('dicom_senders as s')
    .join('organizations as o', 'o.id', 's.organization_id')
    .orderBy(['o.code', 's.ae_title'])
    .select('s.ae_title', 'o.code', db.raw('array(select abbrev(a) from unnest(s.allowed_addresses) as a) as addresses'));
  if (organizationCode) query.where('o.code', organizationCode);
  const rows = (await query) as Array<{ ae_title: string; code: string; addresses: string[] }>;
  return rows.map((r) => ({ aeTitle: r.ae_title, organizationCode: r.code, addresses: r.addresses }));
}

export async function removeDicomSender(db: Knex, aeTitle: string): Promise<void> {
  const removed = await db('dicom_senders').whereRaw('upper(ae_title) = upper(?)', [aeTitleOf(aeTitle)]).delete();
  if (removed === 0) throw notFound(`no DICOM sender with AE title "${aeTitle.trim()}"`, { location: 'ae', code: 'unknown-ae-title' });
}

/** Who is calling, or why the association is refused. */
export type SenderCheck =
  | { ok: true; organizationId: number; organizationCode: string; aeTitle: string }
  | { ok: false; reason: 'unknown-ae-title' | 'address-not-allowed' | 'organization-inactive' };

/** Node reports IPv4 peers of a dual-stack socket as ::ffff:a.b.c.d. */
const plainAddress = (address: string) => address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');

/** The organization behind a calling AE title connecting from `peerAddress` (dicom_senders_ae_title_key). */
export async function identifySender(db: Knex, callingAeTitle: string, peerAddress: string | undefined): Promise<SenderCheck> {
  const address = peerAddress ? plainAddress(peerAddress) : null;
  const row = (await db('dicom_senders as s')
    .join('organizations as o', 'o.id', 's.organization_id')
    .whereRaw('upper(s.ae_title) = upper(?)', [callingAeTitle.trim()])
    .first(
      's.ae_title',
      'o.id',
      'o.code',
      'o.active',
      db.raw('(s.allowed_addresses is null or (?::inet is not null and ?::inet <<= any (s.allowed_addresses))) as address_allowed', [address, address]),
    )) as { ae_title: string; id: number | string; code: string; active: boolean; address_allowed: boolean } | undefined;
  if (!row) return { ok: false, reason: 'unknown-ae-title' };
  if (!row.active) return { ok: false, reason: 'organization-inactive' };
  if (!row.address_allowed) return { ok: false, reason: 'address-not-allowed' };
  return { ok: true, organizationId: Number(row.id), organizationCode: row.code, aeTitle: row.ae_title };
}
