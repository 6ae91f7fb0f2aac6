import { createHash } from 'node:crypto';
import express, { Router, type Response } from 'express';
import { principalOf, requireScope } from '@hub/shared/auth';
import { blobKeyFor } from '@hub/shared/blob';
import type { Knex } from '@hub/shared/db';
import { badInput, isHubError, unavailable, unsupported } from '@hub/shared/errors';
import type { Logger } from '@hub/shared/log';
import type { Accept } from '../accept';
import { labSubmissionOfBundle, type EntryPlan } from './bundle';
import { isObject } from './resources';

export const FHIR_INTAKE_PATH = '/fhir';
const MEDIA_TYPES = new Set(['application/fhir+json', 'application/json', 'application/json+fhir']);

export interface FhirIntakeDeps {
  db: Knex;
  accept: Accept;
  idHashSecret: string;
  log: Logger;
  /** How long to wait for the index before answering without locations (202 per entry). */
  indexWaitMs?: number;
  maxBytes?: number;
}

function sendFhir(res: Response, status: number, body: unknown): void {
  res.status(status).type('application/fhir+json').send(JSON.stringify(body));
}

/** Waits (polling the row by its key) until the index workers have taken the object. */
async function indexedState(db: Knex, acceptedId: number, waitMs: number): Promise<{ state: string; error?: string }> {
  const deadline = Date.now() + waitMs;
  for (let pause = 10; ; pause = Math.min(pause * 2, 100)) {
    const row = await db('accepted_objects').where({ id: acceptedId }).first('state', 'error');
    if (row.state !== 'accepted' || Date.now() >= deadline) return { state: row.state, error: row.error ?? undefined };
    await new Promise((r) => setTimeout(r, pause));
  }
}

/** Where each entry landed, found by the natural keys the submission carried. */
async function locationsOf(db: Knex, organizationId: number, plan: EntryPlan[]): Promise<Array<string | undefined>> {
  const localIds = [...new Set(plan.map((p) => p.patientLocalId).filter((v): v is string => v !== undefined))];
  const reportKeys = [...new Set(plan.map((p) => p.reportKey).filter((v): v is string => v !== undefined))];
  const patients = localIds.length ? await db('patients').where({ organization_id: organizationId }).whereIn('local_id', localIds).select('id', 'local_id') : [];
  const reports = reportKeys.length ? await db('lab_reports').where({ organization_id: organizationId }).whereIn('report_key', reportKeys).select('id', 'report_key', 'patient_id') : [];
  const observations = new Map<string, number>();
  for (const r of reports) {
    for (const o of await db('observations').where({ patient_id: r.patient_id, report_id: r.id }).select('id', 'obs_key')) observations.set(`${r.report_key}\u0000${o.obs_key}`, o.id);
  }
  const patientId = new Map(patients.map((p) => [p.local_id as string, p.id as number]));
  const reportId = new Map(reports.map((r) => [r.report_key as string, r.id as number]));
  return plan.map((p) => {
    if (p.resourceType === 'Patient' && p.patientLocalId) return at('Patient', patientId.get(p.patientLocalId));
    if (p.resourceType === 'DiagnosticReport' && p.reportKey) return at('DiagnosticReport', reportId.get(p.reportKey));
    if (p.resourceType === 'Observation' && p.reportKey && p.observationKey) return at('Observation', observations.get(`${p.reportKey}\u0000${p.observationKey}`));
    return undefined;
  });
}

const at = (type: string, id: number | undefined) => (id === undefined ? undefined : `${type}/${id}`);

/**
 * POST /fhir: a FHIR R4 transaction Bundle of lab results from an LIS. The Bundle is kept
 * as sent (provenance) and committed before anything is answered; the answer is a
 * transaction-response whose entries say 201 with the location of each resource once the
 * index has it (200 for a Bundle already received), or 202 without a location when the
 * index is behind. Idempotent on (organization, Bundle.identifier), else the content hash.
 * Specimen entries are folded into their report and get no location of their own.
 */
export function createFhirIntakeRouter(deps: FhirIntakeDeps): Router {
  const router = Router();
  router.post(
    FHIR_INTAKE_PATH,
    requireScope('results:write'),
    (req, _res, next) => {
      const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!MEDIA_TYPES.has(type)) throw unsupported('POST /fhir takes a transaction Bundle as application/fhir+json', { location: 'Content-Type', code: 'unsupported-media-type' });
      next();
    },
    express.raw({ type: () => true, limit: deps.maxBytes ?? 32 * 1024 * 1024 }),
    async (req, res) => {
      const organization = principalOf(res).organization;
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let bundle: unknown;
      try {
        bundle = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw badInput('the request body is not valid JSON', { location: 'Bundle', code: 'invalid-json' });
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const id = isObject(bundle) && isObject(bundle.identifier) && typeof bundle.identifier.value === 'string' ? bundle.identifier : undefined;
      const identity = id ? `${organization.id}|${String(id.system ?? '')}|${String(id.value)}` : `${organization.id}|sha256:${sha256}`;

      const mapped = labSubmissionOfBundle(bundle, { organizationCode: organization.code, idHashSecret: deps.idHashSecret, bundleIdentity: identity });
      if (!mapped.ok) {
        deps.log.info({ organization: organization.code, issues: mapped.issues.list.map((i) => i.expression) }, 'FHIR Bundle refused');
        return sendFhir(res, mapped.issues.status, mapped.issues.outcome());
      }

      const name = (id ? String(id.value).replace(/[^A-Za-z0-9._=-]/g, '_').slice(0, 100) : 'bundle').replace(/^[^A-Za-z0-9]/, 'b');
      let accepted;
      try {
        accepted = await deps.accept({
          kind: 'fhir',
          organizationId: organization.id,
          identity,
          source: 'fhir',
          blobKey: blobKeyFor('fhir', organization.code, new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10), `${name}-${sha256}.json`),
          body: bytes,
          size: bytes.length,
          sha256,
          contentType: 'application/fhir+json',
          summary: mapped.submission as unknown as Record<string, unknown>,
        });
      } catch (err) {
        deps.log.error({ organization: organization.code, err }, 'FHIR Bundle could not be stored');
        throw isHubError(err) ? err : unavailable('the hub could not store the Bundle now; send it again', { code: 'storage-unavailable' });
      }

      const indexed = await indexedState(deps.db, accepted.acceptedId, deps.indexWaitMs ?? 10_000);
      if (indexed.state === 'failed') {
        return sendFhir(res, 422, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', diagnostics: indexed.error ?? 'the Bundle could not be indexed', expression: ['Bundle'] }] });
      }
      const locations = indexed.state === 'indexed' ? await locationsOf(deps.db, organization.id, mapped.plan) : [];
      const created = accepted.outcome === 'duplicate' ? '200 OK' : '201 Created';
      sendFhir(res, 200, {
        resourceType: 'Bundle',
        type: 'transaction-response',
        entry: mapped.plan.map((_, i) => {
          const location = locations[i];
          return { response: location ? { status: created, location } : { status: indexed.state === 'indexed' ? created : '202 Accepted' } };
        }),
      });
    },
  );
  return router;
}
