import express, { Router, type Request, type Response } from 'express';
import { recordAudit } from '@hub/shared/audit';
import { principalOf, requireScope, type Scope } from '@hub/shared/auth';
import type { Knex } from '@hub/shared/db';
import { badInput, notFound } from '@hub/shared/errors';
import { createLookupRecorder, type LookupRecorder, type ResultsRead } from '../stats/lookups';
import { searchsetBundle } from './bundle';
import { linkSafeValue } from './subject';
import { capabilityStatement } from './capability';
import type { FhirContext, FhirResourceProvider, Resource, SearchPage, SearchParams } from './types';

export const FHIR_METADATA_PATH = '/fhir/metadata';
const MAX_COUNT = 500;
const DEFAULT_COUNT = 50;
const controlParams = new Set(['_count', '_offset', '_sort', '_include', '_format', '_total', '_elements', '_summary']);

export interface FhirRouterDeps {
  db: Knex;
  publicUrl: string;
  providers: FhirResourceProvider[];
  /** Keys the hash a national ID is written as in paging links; without it links echo values as given. */
  idHashSecret?: string;
  /** Operations ($name) served beside the resources, listed in the CapabilityStatement. */
  operations?: FhirOperation[];
}

/** A FHIR operation: `/fhir/$name` and/or `/fhir/{type}/$name`, by GET (query parameters) or POST (a resource). */
export interface FhirOperation {
  /** without the `$` */
  name: string;
  /** the canonical URL of its OperationDefinition */
  definition: string;
  /** served at the system level (/fhir/$name) */
  system: boolean;
  /** resource types it is also invoked on (/fhir/{type}/$name) */
  types: string[];
  scope: Scope;
  invoke(input: { method: 'GET' | 'POST'; type?: string; query: Record<string, string | string[]>; body: unknown }, ctx: FhirContext): Promise<Resource>;
}

function send(res: Response, status: number, body: Resource): void {
  res.status(status).type('application/fhir+json').send(JSON.stringify(body));
}

function fhirBase(publicUrl: string): string {
  return `${publicUrl}/fhir`;
}

type AuditedRead = Parameters<FhirContext['audit']>[0][number];

/** The results of other organizations among audited reads (own and refused ones left out), for the look-up statistics. */
function resultsRead(events: AuditedRead[]): ResultsRead {
  const read = events.filter((e) => (e.outcome ?? 'ok') === 'ok' && e.detail?.authorization !== 'own-organization' && e.resourceId && /^\d{1,18}$/.test(e.resourceId));
  const ids = (type: string) => read.filter((e) => e.resourceType === type).map((e) => Number(e.resourceId));
  return {
    reports: ids('DiagnosticReport'),
    studies: ids('ImagingStudy'),
    observations: read.filter((e) => e.resourceType === 'Observation' && e.patientId !== undefined).map((e) => ({ id: Number(e.resourceId), patientId: e.patientId! })),
  };
}

function contextOf(req: Request, res: Response, deps: FhirRouterDeps, lookups: LookupRecorder): FhirContext {
  const principal = principalOf(res);
  const practitioner = req.get('x-practitioner')?.slice(0, 200) || undefined;
  const requestId = res.locals.requestId as string;
  return {
    db: deps.db,
    principal,
    practitioner,
    requestId,
    base: fhirBase(deps.publicUrl),
    publicUrl: deps.publicUrl,
    audit: async (events) => {
      await recordAudit(
        deps.db,
        events.map((e) => ({ outcome: 'ok', ...e, organizationId: principal.organization.id, clientId: principal.clientId, practitioner, requestId })),
      );
      await lookups(principal.organization.id, 'fhir', resultsRead(events));
    },
  };
}

function parseSearch(query: Record<string, string | string[]>): { params: SearchParams; page: SearchPage } {
  const params: SearchParams = new Map();
  const all = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  for (const [name, value] of Object.entries(query)) {
    if (controlParams.has(name)) continue;
    params.set(name, all(value).map(String));
  }
  const count = query._count === undefined ? DEFAULT_COUNT : Number(all(query._count)[0]);
  const offset = query._offset === undefined ? 0 : Number(all(query._offset)[0]);
  if (!Number.isInteger(count) || count < 0) throw badInput('_count must be a whole number', { location: '_count', code: 'invalid-count' });
  if (!Number.isInteger(offset) || offset < 0) throw badInput('_offset must be a whole number', { location: '_offset', code: 'invalid-offset' });
  return {
    params,
    page: {
      count: Math.min(count, MAX_COUNT),
      offset,
      sort: all(query._sort).flatMap((s) => s.split(',')).filter(Boolean),
      include: all(query._include),
    },
  };
}

/**
 * FHIR R4 over the providers: `/fhir/metadata`, read, search by GET and POST `_search`,
 * Bundle paging. Errors become OperationOutcomes in the app's error handler (path /fhir).
 */
export function createFhirRouter(deps: FhirRouterDeps): Router {
  const router = Router();
  const lookups = createLookupRecorder(deps.db);
  const byType = new Map(deps.providers.map((p) => [p.type, p]));
  const provider = (type: string) => {
    const p = byType.get(type);
    if (!p) throw notFound(`this server does not serve ${type} resources`, { location: type, code: 'unknown-resource-type' });
    return p;
  };

  const operations = deps.operations ?? [];
  router.get(FHIR_METADATA_PATH, (_req, res) =>
    send(res, 200, capabilityStatement(fhirBase(deps.publicUrl), deps.providers, operations.map((o) => ({ name: o.name, definition: o.definition })))),
  );

  // before the resource routes, which would take `$name` for a type or an id; `$` may come percent-encoded
  const operationBody = express.json({ type: ['application/json', 'application/fhir+json'], limit: '1mb' });
  for (const op of operations) {
    const at = [...(op.system ? [undefined] : []), ...op.types];
    for (const type of at) {
      const path = new RegExp(`^/fhir/${type ? `${type}/` : ''}(?:\\$|%24)${op.name.replace(/[^A-Za-z0-9-]/g, '')}$`);
      const invoke = async (req: Request, res: Response, method: 'GET' | 'POST') =>
        send(res, 200, await op.invoke({ method, type, query: req.query as Record<string, string | string[]>, body: req.body }, contextOf(req, res, deps, lookups)));
      router.get(path, requireScope(op.scope), (req, res) => invoke(req, res, 'GET'));
      router.post(path, requireScope(op.scope), operationBody, (req, res) => invoke(req, res, 'POST'));
    }
  }

  const search = async (req: Request, res: Response, query: Record<string, string | string[]>) => {
    const p = provider(String(req.params.type));
    if (!p.search) throw badInput(`${p.type} cannot be searched here`, { code: 'search-not-supported' });
    const { params, page } = parseSearch(query);
    for (const name of params.keys()) {
      const base = name.split(':')[0]!.split('.')[0]!;
      if (!p.searchParams.some((s) => s.name === base)) throw badInput(`unknown search parameter ${name} for ${p.type}`, { location: name, code: 'unknown-search-parameter' });
    }
    const ctx = contextOf(req, res, deps, lookups);
    const result = await p.search(params, page, ctx);
    const secret = deps.idHashSecret;
    send(res, 200, searchsetBundle(ctx.base, p.type, params, page, result, secret ? (v) => linkSafeValue(v, secret) : undefined));
  };

  router.get('/fhir/:type', requireScope('results:read'), (req, res) => search(req, res, req.query as Record<string, string | string[]>));
  router.post('/fhir/:type/_search', requireScope('results:read'), express.urlencoded({ extended: false, limit: '64kb' }), (req, res) =>
    search(req, res, { ...(req.query as Record<string, string | string[]>), ...(req.body as Record<string, string | string[]>) }),
  );
  router.get('/fhir/:type/:id', requireScope('results:read'), async (req, res) => {
    const p = provider(String(req.params.type));
    if (!p.read) throw badInput(`${p.type} cannot be read here`, { code: 'read-not-supported' });
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(String(req.params.id))) throw badInput('a FHIR id is 1-64 letters, digits, "-" or "."', { location: 'id', code: 'invalid-id' });
    send(res, 200, await p.read(String(req.params.id), contextOf(req, res, deps, lookups)));
  });
  return router;
}
