import type { Knex } from '@hub/shared/db';
import { badInput, notFound } from '@hub/shared/errors';
import { qualificationAmong, type QualificationRefusal } from '@hub/shared/recognition';
import { allianceByCode, allianceMemberships } from './alliances';
import { placementOf } from './regions';

export const qualificationBases = ['eqa-passed', 'hr-mark', 'accreditation'] as const;
export type QualificationBasis = (typeof qualificationBases)[number];

export type QualificationScope = { kind: 'region'; region: string } | { kind: 'city'; city: string } | { kind: 'alliance'; alliance: string };

/**
 * An organization's quality-control qualification for one item or a category of items, valid
 * from `validFrom` through `validUntil` (both days inclusive; no end when null), covering askers
 * in its scope.
 */
export interface Qualification {
  id: number;
  organization: string;
  item: string | null;
  category: string | null;
  basis: QualificationBasis;
  scope: QualificationScope;
  validFrom: string;
  validUntil: string | null;
  reference: string | null;
  withdrawnAt: Date | null;
}

export type { QualificationRefusal };

export type QualificationAnswer =
  | { qualified: true; qualification: Qualification }
  | { qualified: false; reason: QualificationRefusal; detail: string; qualification?: Qualification };

interface QualificationRow extends Qualification {
  regionId: number;
  scopeRegionId: number | null;
  scopeAllianceId: number | null;
}

function qualificationRows(db: Knex) {
  return db('qualifications as q')
    .join('organizations as o', 'o.id', 'q.organization_id')
    .leftJoin('catalog_items as ci', 'ci.id', 'q.item_id')
    .leftJoin('regions as sr', 'sr.id', 'q.scope_region_id')
    .leftJoin('alliances as a', 'a.id', 'q.scope_alliance_id')
    .select(
      'q.id',
      'o.code as organization',
      'ci.code as item',
      'q.category',
      'q.basis',
      'q.scope',
      'sr.code as scopeRegion',
      'q.scope_city_code as scopeCity',
      'a.code as scopeAlliance',
      'q.valid_from as validFrom',
      'q.valid_until as validUntil',
      'q.reference',
      'q.withdrawn_at as withdrawnAt',
      'q.region_id as regionId',
      'q.scope_region_id as scopeRegionId',
      'q.scope_alliance_id as scopeAllianceId',
    );
}

function toQualification(row: Record<string, unknown>): QualificationRow {
  const { scope, scopeRegion, scopeCity, scopeAlliance, ...rest } = row;
  const scoped: QualificationScope =
    scope === 'region' ? { kind: 'region', region: scopeRegion as string } : scope === 'city' ? { kind: 'city', city: scopeCity as string } : { kind: 'alliance', alliance: scopeAlliance as string };
  return { ...(rest as Omit<QualificationRow, 'scope'>), scope: scoped };
}

const publicOf = ({ regionId: _r, scopeRegionId: _s, scopeAllianceId: _a, ...q }: QualificationRow): Qualification => q;

export interface NewQualification {
  organizationId: number;
  /** the catalogue region the item or category belongs to */
  regionId: number;
  item?: string;
  category?: string;
  basis: QualificationBasis;
  /** region scope defaults to the catalogue region */
  scope: { kind: 'region'; regionId?: number } | { kind: 'city'; city: string } | { kind: 'alliance'; alliance: string };
  validFrom: string;
  validUntil?: string | null;
  reference?: string | null;
  grantedByOrganizationId: number;
}

export async function grantQualification(db: Knex, q: NewQualification): Promise<Qualification> {
  if ((q.item === undefined) === (q.category === undefined)) throw badInput('a qualification names either one item or one category', { location: 'item', code: 'item-or-category' });
  if (q.validUntil && q.validUntil < q.validFrom) throw badInput('validUntil is on or after validFrom', { location: 'validUntil', code: 'period-reversed' });
  let itemId: number | null = null;
  if (q.item !== undefined) {
    const item = await db('catalog_items').where({ region_id: q.regionId, code: q.item }).first('id');
    if (!item) throw notFound(`the catalog has no item "${q.item}"`, { location: 'item', code: 'unknown-item' });
    itemId = item.id;
  } else {
    const known = await db('catalog_items').where({ region_id: q.regionId, category: q.category }).first('id');
    if (!known) {
      const categories = (await db('catalog_items').where({ region_id: q.regionId }).distinct('category').orderBy('category')).map((r: { category: string }) => r.category);
      throw badInput(`no item of the catalog is in category "${q.category}" (categories: ${categories.join(', ')})`, { location: 'category', code: 'unknown-category' });
    }
  }
  const scope = q.scope;
  const [{ id }] = await db('qualifications')
    .insert({
      organization_id: q.organizationId,
      region_id: q.regionId,
      item_id: itemId,
      category: q.category ?? null,
      basis: q.basis,
      scope: scope.kind,
      scope_region_id: scope.kind === 'region' ? (scope.regionId ?? q.regionId) : null,
      scope_city_code: scope.kind === 'city' ? scope.city : null,
      scope_alliance_id: scope.kind === 'alliance' ? (await allianceByCode(db, scope.alliance, 'scope.alliance')).id : null,
      valid_from: q.validFrom,
      valid_until: q.validUntil ?? null,
      reference: q.reference ?? null,
      granted_by_organization_id: q.grantedByOrganizationId,
    })
    .returning('id');
  return getQualification(db, id);
}

export async function getQualification(db: Knex, id: number): Promise<Qualification> {
  const row = await qualificationRows(db).where('q.id', id).first();
  if (!row) throw notFound(`no qualification ${id}`, { location: 'id', code: 'unknown-qualification' });
  return publicOf(toQualification(row));
}

/** An organization's qualifications still standing, optionally only those valid on a day (qualifications_organization_idx). */
export async function listQualifications(db: Knex, query: { organizationId: number; on?: string }): Promise<Qualification[]> {
  const rows = await qualificationRows(db)
    .where('q.organization_id', query.organizationId)
    .whereNull('q.withdrawn_at')
    .modify((b) => {
      if (query.on) b.where('q.valid_from', '<=', query.on).where((w) => w.whereNull('q.valid_until').orWhere('q.valid_until', '>=', query.on!));
    })
    .orderBy(['q.category', 'ci.code', 'q.valid_from']);
  return rows.map((r: Record<string, unknown>) => publicOf(toQualification(r)));
}

/** Withdraws a qualification (entered in error, revoked): it is kept and counts for no day. Again is a no-op. */
export async function withdrawQualification(db: Knex, input: { id: number; byOrganizationId: number }): Promise<Qualification> {
  await db('qualifications').where({ id: input.id }).whereNull('withdrawn_at').update({ withdrawn_at: db.fn.now(), withdrawn_by_organization_id: input.byOrganizationId });
  return getQualification(db, input.id);
}

/**
 * Whether the source organization holds, on a day, a qualification for the item (or its
 * category) whose scope covers the asking organization. Days are inclusive at both ends.
 * When not, the reason the asker can act on: a covering qualification that expired or is not
 * yet valid; one valid that day whose scope leaves the asker out; or none at all.
 */
export async function qualificationFor(
  db: Knex,
  query: { sourceOrganizationId: number; itemId: number; askingOrganizationId: number; on: string },
): Promise<QualificationAnswer> {
  const item = await db('catalog_items').where({ id: query.itemId }).first('id', 'category', 'region_id');
  if (!item) throw notFound(`no catalog item ${query.itemId}`, { location: 'itemId', code: 'unknown-item' });
  const rows = (
    await qualificationRows(db)
      .where('q.organization_id', query.sourceOrganizationId)
      .whereNull('q.withdrawn_at')
      .where((w) => w.where('q.item_id', item.id).orWhere({ 'q.category': item.category, 'q.region_id': item.region_id }))
  ).map(toQualification);
  if (rows.length === 0) return { qualified: false, reason: 'not-qualified', detail: 'the organization holds no qualification for this item or its category' };

  const asker = await placementOf(db, query.askingOrganizationId);
  const alliances = await allianceMemberships(db, {
    organizationId: query.askingOrganizationId,
    allianceIds: rows.filter((r) => r.scopeAllianceId !== null).map((r) => r.scopeAllianceId!),
    on: query.on,
  });
  // the rule itself is shared with the missed-repeat stage (@hub/shared/recognition)
  const facts = rows.map((row) => ({
    row,
    organizationId: query.sourceOrganizationId,
    itemId: row.item === null ? null : item.id,
    category: row.category,
    regionId: row.regionId,
    scope: row.scope.kind,
    scopeRegionId: row.scopeRegionId,
    scopeCityCode: row.scope.kind === 'city' ? row.scope.city : null,
    scopeAllianceId: row.scopeAllianceId,
    validFrom: row.validFrom,
    validUntil: row.validUntil,
    withdrawn: false,
  }));
  const verdict = qualificationAmong(
    facts,
    { id: item.id, category: item.category, regionId: item.region_id },
    { organizationId: query.askingOrganizationId, regionId: asker.region.id, cityCode: asker.cityCode, inAlliance: (id) => alliances.has(id) },
    query.on,
  );
  if (verdict.qualified) return { qualified: true, qualification: publicOf(verdict.qualification.row) };
  const found = verdict.qualification?.row;
  return { qualified: false, reason: verdict.reason, detail: refusalDetail(verdict.reason, found), ...(found ? { qualification: publicOf(found) } : {}) };
}

/** The refusal as the asker reads it. */
export function refusalDetail(reason: QualificationRefusal, q: Pick<Qualification, 'validFrom' | 'validUntil' | 'scope'> | undefined): string {
  if (reason === 'expired' && q) return `the qualification ended on ${q.validUntil}`;
  if (reason === 'not-yet-valid' && q) return `the qualification is valid from ${q.validFrom}`;
  if (reason === 'scope-excludes-asker' && q) return `the qualification covers ${describeScope(q.scope)}, which does not include the asking organization`;
  return 'the organization holds no qualification for this item or its category';
}

function describeScope(scope: QualificationScope): string {
  return scope.kind === 'region' ? `region ${scope.region}` : scope.kind === 'city' ? `city ${scope.city}` : `alliance ${scope.alliance}`;
}
