import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { badInput, notFound } from '../errors';
import { getOrganization, type OrganizationKind } from '../org';
import { isScope, type Scope } from './scopes';
import { generateSecret, hashSecret, verifySecret } from './secrets';

export interface Client {
  clientId: string;
  name: string;
  organizationCode: string;
  scopes: Scope[];
  createdAt: Date;
  secretRotatedAt: Date;
  disabledAt: Date | null;
}

/** Who a verified client is: what a token carries. */
export interface ClientIdentity {
  clientId: string;
  organization: { id: number; code: string; kind: OrganizationKind };
  scopes: Scope[];
}

function checkScopes(requested: string[]): Scope[] {
  if (requested.length === 0) throw badInput('a client needs at least one scope', { location: 'scopes' });
  const unknown = requested.filter((s) => !isScope(s));
  if (unknown.length > 0) throw badInput(`unknown scope ${unknown.join(', ')}`, { location: 'scopes', code: 'unknown-scope' });
  return [...new Set(requested)] as Scope[];
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 24) || 'client';
}

/** Creates a machine client for an organization. The clear secret is returned once and never stored. */
export async function createClient(
  db: Knex,
  input: { organizationCode: string; name: string; scopes: string[]; clientId?: string },
): Promise<{ clientId: string; clientSecret: string }> {
  const org = await getOrganization(db, input.organizationCode);
  const scopes = checkScopes(input.scopes);
  const clientId = input.clientId ?? `${slug(org.code)}-${slug(input.name)}-${randomBytes(3).toString('hex')}`;
  if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(clientId)) throw badInput('client id must be 3-64 lowercase letters, digits, ".", "_" or "-"', { location: 'clientId' });
  const clientSecret = generateSecret();
  await db('clients').insert({ client_id: clientId, organization_id: org.id, name: input.name, secret_hash: await hashSecret(clientSecret), scopes });
  return { clientId, clientSecret };
}

/** Replaces a client's secret; the old one stops working at once (tokens already issued run out). */
export async function rotateClientSecret(db: Knex, clientId: string): Promise<string> {
  const clientSecret = generateSecret();
  const updated = await db('clients').where({ client_id: clientId }).update({ secret_hash: await hashSecret(clientSecret), secret_rotated_at: db.fn.now() });
  if (updated === 0) throw notFound(`no client "${clientId}"`, { location: 'clientId', code: 'unknown-client' });
  return clientSecret;
}

export async function disableClient(db: Knex, clientId: string): Promise<void> {
  const updated = await db('clients').where({ client_id: clientId }).update({ disabled_at: db.fn.now() });
  if (updated === 0) throw notFound(`no client "${clientId}"`, { location: 'clientId', code: 'unknown-client' });
}

export async function listClients(db: Knex, organizationCode?: string): Promise<Client[]> {
  const query = db('clients as c')
    .join('organizations as o', 'o.id', 'c.organization_id')
    .orderBy(['o.code', 'c.client_id'])
    .select({
      clientId: 'c.client_id',
      name: 'c.name',
      organizationCode: 'o.code',
      scopes: 'c.scopes',
      createdAt: 'c.created_at',
      secretRotatedAt: 'c.secret_rotated_at',
      disabledAt: 'c.disabled_at',
    });
  if (organizationCode) query.where('o.code', organizationCode);
  return (await query) as Client[];
}

const decoyHash = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** The client's identity when the id and secret match an enabled client of an active organization, else null. */
export async function verifyClient(db: Knex, clientId: string, clientSecret: string): Promise<ClientIdentity | null> {
  const row = await db('clients as c')
    .join('organizations as o', 'o.id', 'c.organization_id')
    .where('c.client_id', clientId)
    .first('c.secret_hash', 'c.scopes', 'c.disabled_at', 'o.id as org_id', 'o.code as org_code', 'o.kind as org_kind', 'o.active as org_active');
  // Hash even when there is no such client, so the answer's timing does not tell which ids exist.
  const matches = await verifySecret(clientSecret, row?.secret_hash ?? decoyHash);
  if (!row || !matches || row.disabled_at || !row.org_active) return null;
  return { clientId, organization: { id: row.org_id, code: row.org_code, kind: row.org_kind }, scopes: row.scopes };
}
