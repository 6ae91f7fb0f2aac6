import { Router } from 'express';
import type { ClientIdentity } from '@hub/shared/auth';
import { principalOf } from '@hub/shared/auth';
import { EMERGENCY_HEADER, emergencyReasonOf } from '../recognition/authorizations';
import { createFhirRouter as createFhirDoor, type FhirRouterDeps } from './router';
import type { FhirContext, FhirResourceProvider } from './types';

interface Reading {
  emergencyReason?: string;
  readAt: Date;
}

/** The provider, given the request's reading in its context. */
function withReading(provider: FhirResourceProvider, readings: WeakMap<ClientIdentity, Reading>): FhirResourceProvider {
  const context = (ctx: FhirContext): FhirContext => ({ ...ctx, ...readings.get(ctx.principal) });
  return {
    ...provider,
    ...(provider.read ? { read: (id, ctx) => provider.read!(id, context(ctx)) } : {}),
    ...(provider.search ? { search: (params, page, ctx) => provider.search!(params, page, context(ctx)) } : {}),
  };
}

/**
 * The FHIR door (router.ts) with what an authorized read needs from the request beyond what
 * router.ts hands its providers: the reason a caller states for an emergency read
 * (X-Emergency-Reason) and one instant every decision of the request is made at. Found by the
 * request's principal, made this request's own here, so no other request can see it.
 * TODO(lead): once router.ts's contextOf sets these two fields itself, this wrapper goes.
 */
export function createFhirRouter(deps: FhirRouterDeps): Router {
  const readings = new WeakMap<ClientIdentity, Reading>();
  const router = Router();
  router.use('/fhir', (req, res, next) => {
    if (res.locals.principal) {
      const principal = { ...principalOf(res) };
      res.locals.principal = principal;
      readings.set(principal, { emergencyReason: emergencyReasonOf(req.get(EMERGENCY_HEADER)), readAt: new Date() });
    }
    next();
  });
  router.use(createFhirDoor({ ...deps, providers: deps.providers.map((p) => withReading(p, readings)) }));
  return router;
}
