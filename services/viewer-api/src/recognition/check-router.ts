import express, { Router, type Request, type Response } from 'express';
import { principalOf, requireScope } from '@hub/shared/auth';
import type { Knex } from '@hub/shared/db';
import type { Metrics } from '@hub/shared/http';
import type { FactsCache } from '@hub/shared/recognition';
import { Counter } from 'prom-client';
import { checkSchema } from './check-input';
import { decisionSchema, recordDecision } from './decisions';
import type { PriorResultCheck } from './prior-results';
import { parseWith } from './schemas';

export interface CheckRouterDeps {
  db: Knex;
  facts: FactsCache;
  check: PriorResultCheck;
  now?: () => Date;
  metrics?: Metrics;
}

const json = express.json({ limit: '64kb' });

/** The caller as the check and the decision record it. */
export const callerOf = (res: Response) => {
  const principal = principalOf(res);
  return { organizationId: principal.organization.id, clientId: principal.clientId, requestId: res.locals.requestId as string | undefined };
};

/** The practitioner named in the body, else by the X-Practitioner header every door accepts. */
export const withPractitioner = (req: Request) => {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const header = req.get('x-practitioner')?.trim().slice(0, 200);
  return body.practitioner === undefined && header ? { ...body, practitioner: header } : body;
};

/**
 * POST /recognition/checks — the prior-result check at order time (scope recognition:check);
 * POST /recognition/decisions — a clinician's decision on a result a check offered (scope
 * recognition:decide). JSON; errors through the app's error handler.
 */
export function createCheckRouter(deps: CheckRouterDeps): Router {
  const now = deps.now ?? (() => new Date());
  const registry = deps.metrics?.registry;
  const checks = new Counter({ name: 'hub_recognition_checks_total', help: 'Prior-result checks, by whether a recognizable result was found', labelNames: ['found'] as const, registers: registry ? [registry] : [] });
  const decisions = new Counter({ name: 'hub_recognition_decisions_total', help: 'Recognition decisions recorded, by decision', labelNames: ['decision'] as const, registers: registry ? [registry] : [] });
  const router = Router();

  router.post('/recognition/checks', requireScope('recognition:check'), json, async (req, res) => {
    const request = parseWith(checkSchema, withPractitioner(req));
    const answer = await deps.check(request, callerOf(res));
    checks.inc({ found: answer.recognizable > 0 ? 'recognizable' : answer.results.length > 0 ? 'reference-only' : 'none' });
    res.status(201).setHeader('Cache-Control', 'no-store').json(answer);
  });

  router.post('/recognition/decisions', requireScope('recognition:decide'), json, async (req, res) => {
    const request = parseWith(decisionSchema, withPractitioner(req));
    const { decision, created } = await recordDecision(deps.db, deps.facts, request, callerOf(res), now());
    if (created) decisions.inc({ decision: decision.decision });
    res.status(created ? 201 : 200).json(decision);
  });

  return router;
}
