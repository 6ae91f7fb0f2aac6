import type { RequestHandler } from 'express';

/**
 * CORS for browser apps served from another origin (OHIF and other DICOMweb viewers, FHIR
 * apps). Access still needs a bearer token: it travels in the Authorization header, not in
 * cookies, so `*` exposes nothing to a page that has no token. Runs before authentication:
 * a preflight carries no token (Fetch standard) and is answered here, and a 401 still has
 * the headers a browser needs to show it.
 */
export function cors(origins: string[]): RequestHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin !== undefined && (any || allowed.has(origin))) {
      res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
      if (!any) res.append('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', 'Content-Type, Content-Length, Content-Location, Warning, X-Request-Id');
    }
    const preflight = req.method === 'OPTIONS' && origin !== undefined && req.get('access-control-request-method') !== undefined;
    if (!preflight) return next();
    if (any || allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, OPTIONS');
      // X-Emergency-Reason: a browser viewer reading without the patient's consent in an emergency states why
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Accept, Content-Type, X-Practitioner, X-Emergency-Reason, X-Request-Id');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    // an origin not allowed gets no CORS headers, and the browser refuses the request
    res.status(204).end();
  };
}
