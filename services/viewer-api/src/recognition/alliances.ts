import type { Knex } from '@hub/shared/db';
import { badInput, notFound } from '@hub/shared/errors';

/** A named group of organizations that recognize each other's results (a medical alliance, 医联体). */
export interface Alliance {
  code: string;
  name: string;
  nameEn: string | null;
  members: Array<{ organization: string; from: string; until: string | null }>;
}

/** Creates an alliance or replaces its name and members. Membership days are inclusive. */
export async function putAlliance(
  db: Knex,
  input: { code: string; name: string; nameEn?: string | null; members: Array<{ organizationId: number; from: string; until?: string | null }> },
): Promise<{ created: boolean }> {
  input.members.forEach((m, i) => {
    if (m.until && m.until < m.from) throw badInput('a membership ends on or after the day it starts', { location: `members[${i}].until`, code: 'period-reversed' });
  });
  return db.transaction(async (trx) => {
    const existing = await trx('alliances').where({ code: input.code }).forUpdate().first('id');
    let id: number;
    if (existing) {
      id = existing.id;
      await trx('alliances').where({ id }).update({ name: input.name, name_en: input.nameEn ?? null, updated_at: trx.fn.now() });
      await trx('alliance_members').where({ alliance_id: id }).delete();
    } else {
      [{ id }] = await trx('alliances').insert({ code: input.code, name: input.name, name_en: input.nameEn ?? null }).returning('id');
    }
    const rows = [...new Map(input.members.map((m) => [`${m.organizationId}|${m.from}`, m])).values()];
    if (rows.length > 0) {
      await trx('alliance_members').insert(rows.map((m) => ({ alliance_id: id, organization_id: m.organizationId, member_from: m.from, member_until: m.until ?? null })));
    }
    return { created: !existing };
  });
}

export async function allianceByCode(db: Knex, code: string, location = 'alliance'): Promise<Alliance & { id: number }> {
  const alliance = await db('alliances').where({ code }).first('id', 'code', 'name', 'name_en as nameEn');
  if (!alliance) throw notFound(`no alliance with code "${code}"`, { location, code: 'unknown-alliance' });
  const members = await db('alliance_members as m')
    .join('organizations as o', 'o.id', 'm.organization_id')
    .where('m.alliance_id', alliance.id)
    .orderBy(['o.code', 'm.member_from'])
    .select('o.code as organization', 'm.member_from as from', 'm.member_until as until');
  return { ...alliance, members };
}

export async function listAlliances(db: Knex): Promise<Array<Omit<Alliance, 'members'>>> {
  return db('alliances').orderBy('code').select('code', 'name', 'name_en as nameEn');
}

/** The alliances among `allianceIds` the organization belongs to on a day (alliance_members_organization_idx). */
export async function allianceMemberships(db: Knex, query: { organizationId: number; allianceIds: number[]; on: string }): Promise<Set<number>> {
  if (query.allianceIds.length === 0) return new Set();
  const rows = await db('alliance_members')
    .where('organization_id', query.organizationId)
    .whereIn('alliance_id', query.allianceIds)
    .where('member_from', '<=', query.on)
    .where((q) => q.whereNull('member_until').orWhere('member_until', '>=', query.on))
    .select('alliance_id');
  return new Set(rows.map((r: { alliance_id: number }) => r.alliance_id));
}
