import type { Knex } from '@hub/shared/db';
import { notFound } from '@hub/shared/errors';
import { findOrganization } from '@hub/shared/org';

export interface Region {
  id: number;
  code: string;
  name: string;
  timeZone: string;
}

/** Where an organization takes part: its catalogue region and its city. */
export interface Placement {
  region: Region;
  cityCode: string | null;
}

const regionColumns = ['r.id', 'r.code', 'r.name', 'r.time_zone as timeZone'];

/**
 * The region and city of an organization; an organization without a placement of its own is
 * in the default region (a one-region hub never places anyone). Primary-key probes only.
 */
export async function placementOf(db: Knex, organizationId: number): Promise<Placement> {
  const row = await db
    .from(db.raw('(select ?::bigint as organization_id) as o', [organizationId]))
    .leftJoin('organization_regions as p', 'p.organization_id', 'o.organization_id')
    .join('regions as r', 'r.id', db.raw('coalesce(p.region_id, (select id from regions where is_default))'))
    .first([...regionColumns, 'p.city_code as cityCode']);
  if (!row) throw notFound('the hub has no region yet: seed a catalog first (the demo region does)', { code: 'no-region' });
  const { cityCode, ...region } = row as Region & { cityCode: string | null };
  return { region, cityCode };
}

export async function regionByCode(db: Knex, code: string, location = 'region'): Promise<Region> {
  const row = await db('regions as r').where('r.code', code).first(regionColumns);
  if (!row) throw notFound(`no region with code "${code}"`, { location, code: 'unknown-region' });
  return row as Region;
}

/** Puts an organization in a region (the default one when none is named) and a city. */
export async function placeOrganization(db: Knex, placement: { organizationId: number; regionId: number; cityCode: string | null }): Promise<void> {
  await db('organization_regions')
    .insert({ organization_id: placement.organizationId, region_id: placement.regionId, city_code: placement.cityCode, updated_at: db.fn.now() })
    .onConflict('organization_id')
    .merge(['region_id', 'city_code', 'updated_at']);
}

export async function defaultRegion(db: Knex): Promise<Region> {
  const row = await db('regions as r').where('r.is_default', true).first(regionColumns);
  if (!row) throw notFound('the hub has no region yet: seed a catalog first (the demo region does)', { code: 'no-region' });
  return row as Region;
}

/** An organization by its code, or 404 naming the field that named it. */
export async function organizationAt(db: Knex, orgCode: string, location: string) {
  const org = await findOrganization(db, orgCode);
  if (!org) throw notFound(`no organization with code "${orgCode}"`, { location, code: 'unknown-organization' });
  return org;
}
