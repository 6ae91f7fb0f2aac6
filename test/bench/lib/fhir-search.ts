import { createDb, type Knex } from '@hub/shared/db';
import { createDiagnosticReportProvider, createObservationProvider, type FhirContext, type SearchPage, type SearchParams } from '@hub/viewer-api';
import { brief, request } from './http';
import { connectHubDatabase } from './observation-rows';
import type { Target } from './target';

/** A FHIR search as a client writes it: the type and its query parameters, in order. */
export interface FhirSearch {
  type: 'Observation' | 'DiagnosticReport';
  params: Array<[string, string]>;
}

export const searchUrl = (base: string, search: FhirSearch) => `${base}/${search.type}?${new URLSearchParams(search.params).toString()}`;

/** One search over HTTP; its latency (to the last byte of the Bundle), the matches and included resources. */
export async function fhirSearch(target: Target, search: FhirSearch): Promise<{ ms: number; matches: number; included: number; bytes: number }> {
  if (!target.fhir) throw new Error(`${target.name} has no FHIR endpoint`);
  const url = searchUrl(target.fhir, search);
  const started = performance.now();
  const answer = await request(url, { headers: { ...(await target.headers()), accept: 'application/fhir+json' } });
  const ms = performance.now() - started;
  if (answer.status !== 200) throw new Error(`${target.name} ${url} answered ${answer.status}: ${brief(answer)}`);
  const bundle = JSON.parse(answer.body.toString('utf8')) as { entry?: Array<{ search?: { mode?: string } }> };
  const modes = (bundle.entry ?? []).map((e) => e.search?.mode);
  return { ms, matches: modes.filter((m) => m === 'match').length, included: modes.filter((m) => m === 'include').length, bytes: answer.bytes };
}

/** What PostgreSQL does for a search: the indexes it reads, the large tables it scans whole, and the most partitions one statement reads, by partitioned table. */
export interface SearchPlan {
  indexes: string[];
  seqScans: string[];
  partitions: Record<string, number>;
}

/** A table this large read whole is a scan that grows with the region (the small lists of organizations and regions are not). */
const LARGE_TABLE_ROWS = 10_000;
const CONTROL = new Set(['_count', '_offset', '_sort', '_include']);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/**
 * Runs a search through the hub's own FHIR provider code in this process, on the hub's
 * database, records every SQL statement it sends, and has PostgreSQL EXPLAIN each with the
 * same parameters (custom plans, as the hub's parameterized queries get). Partition indexes
 * are named by the index they belong to.
 */
export async function createExplainer(databaseUrl: string, idHashSecret: string, organizationCode: string) {
  const db: Knex = createDb({ url: databaseUrl, poolMax: 2, applicationName: 'bench-explain' });
  const client = await connectHubDatabase(databaseUrl);
  const organization = (await client.query(`select id, code, kind from organizations where code = $1`, [organizationCode])).rows[0] as { id: number; code: string; kind: 'hospital' };
  if (!organization) throw new Error(`no organization ${organizationCode}`);
  const parents = new Map<string, string>(
    (await client.query(`select c.relname as child, p.relname as parent from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent`)).rows.map((r) => [r.child as string, r.parent as string]),
  );
  const rowsOf = new Map<string, number>((await client.query(`select relname, reltuples::float8 as n from pg_class where relkind in ('r', 'p')`)).rows.map((r) => [r.relname as string, Number(r.n)]));
  const providers = new Map([createObservationProvider({ idHashSecret }), createDiagnosticReportProvider({ idHashSecret })].map((p) => [p.type, p]));

  const ctx: FhirContext = {
    db,
    principal: { clientId: 'bench-explain', organization: { id: Number(organization.id), code: organization.code, kind: organization.kind }, scopes: ['results:read'] },
    requestId: 'bench-explain',
    base: 'http://bench/fhir',
    publicUrl: 'http://bench',
    // nothing is read by a person here: no audit rows
    audit: async () => undefined,
  };

  function walk(node: PlanNode, plan: SearchPlan, read: Map<string, Set<string>>): void {
    const relation = node['Relation Name'];
    const table = relation ? parents.get(relation) : undefined;
    if (relation && table) read.set(table, (read.get(table) ?? new Set()).add(relation));
    if (node['Index Name']) {
      const index = parents.get(node['Index Name']) ?? node['Index Name'];
      if (!plan.indexes.includes(index)) plan.indexes.push(index);
    } else if (node['Node Type'] === 'Seq Scan' && relation && (rowsOf.get(relation) ?? 0) > LARGE_TABLE_ROWS) {
      if (!plan.seqScans.includes(table ?? relation)) plan.seqScans.push(table ?? relation);
    }
    for (const child of node.Plans ?? []) walk(child, plan, read);
  }

  return {
    /** Partitions of each partitioned table. */
    partitionsOf: (table: string) => [...parents.values()].filter((p) => p === table).length,
    async plan(search: FhirSearch, into: SearchPlan = { indexes: [], seqScans: [], partitions: {} }): Promise<SearchPlan> {
      const params: SearchParams = new Map();
      const page: SearchPage = { count: 50, offset: 0, sort: [], include: [] };
      for (const [name, value] of search.params) {
        if (name === '_count') page.count = Number(value);
        else if (name === '_offset') page.offset = Number(value);
        else if (name === '_sort') page.sort.push(...value.split(','));
        else if (name === '_include') page.include.push(value);
        else if (!CONTROL.has(name)) params.set(name, [...(params.get(name) ?? []), value]);
      }
      const statements: Array<{ sql: string; bindings: unknown[] }> = [];
      const listen = (q: { sql: string; bindings?: unknown[] }) => statements.push({ sql: q.sql, bindings: q.bindings ?? [] });
      db.on('query', listen);
      try {
        await providers.get(search.type)!.search!(params, page, ctx);
      } finally {
        db.off('query', listen);
      }
      for (const s of statements) {
        if (!/^\s*(select|with)\b/i.test(s.sql)) continue;
        const native = (db.client as { positionBindings(sql: string): string }).positionBindings(s.sql);
        const { rows } = await client.query(`explain (format json) ${native}`, s.bindings);
        const read = new Map<string, Set<string>>();
        walk((rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan, into, read);
        for (const [table, partitions] of read) into.partitions[table] = Math.max(into.partitions[table] ?? 0, partitions.size);
      }
      return into;
    },
    async close(): Promise<void> {
      await client.end();
      await db.destroy();
    },
  };
}
