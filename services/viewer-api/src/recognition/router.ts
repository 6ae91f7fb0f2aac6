import express, { Router, type Response } from 'express';
import { principalOf, requireScope } from '@hub/shared/auth';
import type { Knex } from '@hub/shared/db';
import { badInput, forbidden, notFound } from '@hub/shared/errors';
import { allianceByCode, listAlliances, putAlliance } from './alliances';
import { catalogItemDetail, catalogOn, type CatalogEntry, type CatalogItemDetail, type CatalogMatches, type ItemKind } from './catalog';
import { listLocalCodes, mapLocalCodes, reviseCatalogItem } from './catalog-edit';
import { createConsentRoutes } from './consent-router';
import { localDate } from './dates';
import { getQualification, grantQualification, listQualifications, withdrawQualification } from './qualifications';
import { defaultRegion, organizationAt, placementOf, placeOrganization, regionByCode, type Region } from './regions';
import { allianceSchema, catalogChangeSchema, code, day, localCodesSchema, parseWith, placementSchema, qualificationSchema } from './schemas';

export interface RecognitionRouterDeps {
  db: Knex;
  /** the clock; tests pass their own */
  now?: () => Date;
}

const json = express.json({ limit: '2mb' });

// Catalog and qualifications are the health authority's to edit: a hospital's token, whatever
// its scopes, does not make it the authority.
function requireAuthority(res: Response): void {
  if (principalOf(res).organization.kind !== 'authority') {
    throw forbidden('only the health authority edits the catalog, qualifications, alliances and placements', { code: 'not-authority' });
  }
}

const queryText = (value: unknown, name: string): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badInput(`${name} is given once`, { location: name, code: 'invalid-query' });
  return value;
};

const flatten = ({ matches, id: _id, ...entry }: CatalogEntry & { matches: CatalogMatches }) => ({ ...entry, ...matches });

/** An item as the API shows it: its codes, the version in force on the day asked, its history. */
const itemView = (region: Region, on: string, { id: _id, matches, current, ...item }: CatalogItemDetail) => {
  const version = current && (({ id: _i, code: _c, kind: _k, category: _g, ...v }: CatalogEntry) => v)(current);
  return { region: region.code, on, ...item, current: version, ...matches };
};

/**
 * The catalog, local code mappings, qualifications, alliances and placements under
 * /recognition (JSON; errors through the app's error handler), and the consents.
 */
export function createRecognitionRouter(deps: RecognitionRouterDeps): Router {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  const router = Router();

  // The region a request is about: ?region=CODE, else the caller's own region.
  async function regionFor(res: Response, asked: unknown): Promise<Region> {
    const wanted = queryText(asked, 'region');
    return wanted ? regionByCode(db, wanted) : (await placementOf(db, principalOf(res).organization.id)).region;
  }
  // An authority edits its own region's catalogue and qualifications, not another region's.
  async function ownRegion(res: Response, asked?: unknown): Promise<Region> {
    const own = (await placementOf(db, principalOf(res).organization.id)).region;
    const wanted = queryText(asked, 'region');
    if (wanted && wanted !== own.code) throw forbidden(`an authority edits the catalogue of its own region (${own.code})`, { location: 'region', code: 'other-region' });
    return own;
  }
  const dayIn = (region: Region, asked: unknown): string => {
    const on = queryText(asked, 'on');
    if (on === undefined) return localDate(now(), region.timeZone);
    return parseWith(day, on);
  };

  router.get('/recognition/catalog', async (req, res) => {
    const region = await regionFor(res, req.query.region);
    const on = dayIn(region, req.query.on);
    const kind = queryText(req.query.kind, 'kind');
    if (kind !== undefined && kind !== 'lab' && kind !== 'imaging') throw badInput('kind is lab or imaging', { location: 'kind', code: 'invalid-query' });
    const category = queryText(req.query.category, 'category');
    const items = await catalogOn(db, { regionId: region.id, on, kind: kind as ItemKind | undefined, category });
    res.json({ region: region.code, on, count: items.length, items: items.map(flatten) });
  });

  router.get('/recognition/catalog/:code', async (req, res) => {
    const region = await regionFor(res, req.query.region);
    const on = dayIn(region, req.query.on);
    res.json(itemView(region, on, await catalogItemDetail(db, { regionId: region.id, code: String(req.params.code), on })));
  });

  router.put('/recognition/catalog/:code', requireScope('catalog:write'), json, async (req, res) => {
    requireAuthority(res);
    const itemCode = parseWith(code, String(req.params.code));
    const change = parseWith(catalogChangeSchema, req.body);
    const region = await ownRegion(res, req.query.region);
    const { created } = await reviseCatalogItem(db, {
      regionId: region.id,
      code: itemCode,
      change,
      changedByOrganizationId: principalOf(res).organization.id,
      today: localDate(now(), region.timeZone),
    });
    res.status(created ? 201 : 200).json(itemView(region, change.effectiveFrom, await catalogItemDetail(db, { regionId: region.id, code: itemCode, on: change.effectiveFrom })));
  });

  // An organization maps its own codes; the authority may map any organization's.
  async function mappedOrganization(res: Response, asked: string | undefined, location: string) {
    const caller = principalOf(res);
    if (!asked || asked === caller.organization.code) return caller.organization.id;
    if (caller.organization.kind !== 'authority') throw forbidden('an organization sees and maps only its own codes', { location, code: 'not-own-organization' });
    return (await organizationAt(db, asked, location)).id;
  }

  router.get('/recognition/local-codes', async (req, res) => {
    const organizationId = await mappedOrganization(res, queryText(req.query.organization, 'organization'), 'organization');
    const kind = queryText(req.query.kind, 'kind');
    if (kind !== undefined && kind !== 'lab' && kind !== 'imaging') throw badInput('kind is lab or imaging', { location: 'kind', code: 'invalid-query' });
    const mappings = await listLocalCodes(db, { organizationId, kind: kind as ItemKind | undefined });
    res.json({ count: mappings.length, mappings });
  });

  router.post('/recognition/local-codes', json, async (req, res) => {
    const body = parseWith(localCodesSchema, req.body);
    const caller = principalOf(res);
    const own = !body.organization || body.organization === caller.organization.code;
    // its own codes with the scope it pushes results with; another's only as the authority
    if (!caller.scopes.includes(own ? 'results:write' : 'catalog:write')) {
      throw forbidden(`the access token lacks the scope ${own ? 'results:write' : 'catalog:write'}`, { code: 'insufficient-scope' });
    }
    const organizationId = await mappedOrganization(res, body.organization, 'organization');
    const { region } = await placementOf(db, organizationId);
    const mappings = await mapLocalCodes(db, { organizationId, regionId: region.id, mappings: body.mappings });
    res.status(200).json({ count: mappings.length, mappings });
  });

  router.get('/recognition/qualifications', async (req, res) => {
    const orgCode = queryText(req.query.organization, 'organization');
    if (!orgCode) throw badInput('name the organization: ?organization=CODE', { location: 'organization', code: 'required' });
    const org = await organizationAt(db, orgCode, 'organization');
    const on = queryText(req.query.on, 'on');
    const qualifications = await listQualifications(db, { organizationId: org.id, on: on === undefined ? undefined : parseWith(day, on) });
    res.json({ organization: org.code, count: qualifications.length, qualifications });
  });

  router.get('/recognition/qualifications/:id', async (req, res) => {
    res.json(await getQualification(db, qualificationId(String(req.params.id))));
  });

  router.post('/recognition/qualifications', requireScope('catalog:write'), json, async (req, res) => {
    requireAuthority(res);
    const body = parseWith(qualificationSchema, req.body);
    const org = await organizationAt(db, body.organization, 'organization');
    const { region } = await placementOf(db, org.id);
    if (region.id !== (await ownRegion(res)).id) throw forbidden(`${org.code} takes part in region ${region.code}: its authority grants its qualifications`, { location: 'organization', code: 'other-region' });
    const scope =
      body.scope.kind === 'region'
        ? { kind: 'region' as const, regionId: body.scope.region ? (await regionByCode(db, body.scope.region, 'scope.region')).id : undefined }
        : body.scope;
    const qualification = await grantQualification(db, {
      organizationId: org.id,
      regionId: region.id,
      item: body.item,
      category: body.category,
      basis: body.basis,
      scope,
      validFrom: body.validFrom,
      validUntil: body.validUntil,
      reference: body.reference,
      grantedByOrganizationId: principalOf(res).organization.id,
    });
    res.status(201).json(qualification);
  });

  router.delete('/recognition/qualifications/:id', requireScope('catalog:write'), async (req, res) => {
    requireAuthority(res);
    res.json(await withdrawQualification(db, { id: qualificationId(String(req.params.id)), byOrganizationId: principalOf(res).organization.id }));
  });

  router.get('/recognition/alliances', async (_req, res) => {
    const alliances = await listAlliances(db);
    res.json({ count: alliances.length, alliances });
  });

  router.get('/recognition/alliances/:code', async (req, res) => {
    const { id: _id, ...alliance } = await allianceByCode(db, String(req.params.code), 'code');
    res.json(alliance);
  });

  router.put('/recognition/alliances/:code', requireScope('catalog:write'), json, async (req, res) => {
    requireAuthority(res);
    const allianceCode = parseWith(code, String(req.params.code));
    const body = parseWith(allianceSchema, req.body);
    const members = await Promise.all(
      body.members.map(async (m, i) => ({ organizationId: (await organizationAt(db, m.organization, `members[${i}].organization`)).id, from: m.from, until: m.until })),
    );
    const { created } = await putAlliance(db, { code: allianceCode, name: body.name, nameEn: body.nameEn, members });
    const { id: _id, ...alliance } = await allianceByCode(db, allianceCode, 'code');
    res.status(created ? 201 : 200).json(alliance);
  });

  router.get('/recognition/organizations/:code/placement', async (req, res) => {
    const org = await organizationAt(db, String(req.params.code), 'code');
    const { region, cityCode } = await placementOf(db, org.id);
    res.json({ organization: org.code, region: region.code, city: cityCode });
  });

  router.put('/recognition/organizations/:code/placement', requireScope('catalog:write'), json, async (req, res) => {
    requireAuthority(res);
    const org = await organizationAt(db, String(req.params.code), 'code');
    const body = parseWith(placementSchema, req.body);
    const region = body.region ? await regionByCode(db, body.region) : await defaultRegion(db);
    await placeOrganization(db, { organizationId: org.id, regionId: region.id, cityCode: body.city ?? null });
    res.json({ organization: org.code, region: region.code, city: body.city ?? null });
  });

  router.use(createConsentRoutes({ db, now }));
  return router;
}

function qualificationId(raw: string): number {
  const id = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(id)) throw notFound(`no qualification ${raw}`, { location: 'id', code: 'unknown-qualification' });
  return id;
}
