import type { Router } from 'express';
import type { Knex } from '@hub/shared/db';
import type { Metrics } from '@hub/shared/http';
import { recognitionFactsCache, type FactsCache } from '@hub/shared/recognition';
import type { FhirOperation } from '../fhir';
import { createCheckRouter } from './check-router';
import { priorResultsOperation } from './fhir-operation';
import { createPriorResultCheck, type PriorResultCheck } from './prior-results';

export interface OrderTimeDeps {
  db: Knex;
  publicUrl: string;
  /** HUB_VIEWER_URL: the OHIF viewer route study links open; none without it */
  viewerUrl?: string;
  idHashSecret: string;
  metrics?: Metrics;
  /** how stale the catalog, qualifications and placements may be (default 1 s: see recognitionFactsCache) */
  factsStaleMs?: number;
  now?: () => Date;
}

export interface OrderTime {
  facts: FactsCache;
  check: PriorResultCheck;
  /** POST /recognition/checks and /recognition/decisions */
  router: Router;
  /** $prior-results, for the FHIR router */
  fhirOperation: FhirOperation;
}

/**
 * Recognition at order time, built once per process: the check (REST and FHIR) and decisions
 * over one cache of the facts the rules read, so an authority's change reaches every check
 * within a second and a check costs two statements: one read, one write.
 */
export function createOrderTimeRecognition(deps: OrderTimeDeps): OrderTime {
  const facts = recognitionFactsCache(deps.db, deps.factsStaleMs);
  const check = createPriorResultCheck({ db: deps.db, facts, publicUrl: deps.publicUrl, viewerUrl: deps.viewerUrl, idHashSecret: deps.idHashSecret, now: deps.now });
  return {
    facts,
    check,
    router: createCheckRouter({ db: deps.db, facts, check, now: deps.now, metrics: deps.metrics }),
    fhirOperation: priorResultsOperation(check, `${deps.publicUrl}/fhir`),
  };
}
