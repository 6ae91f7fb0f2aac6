import express, { type RequestHandler, type Response, Router } from 'express';
import type { Knex } from 'knex';
import { forbidden, unauthorized } from '../errors';
import { verifyClient, type ClientIdentity } from './clients';
import { isScope, type Scope } from './scopes';
import type { TokenService } from './tokens';

export const TOKEN_PATH = '/oauth/token';

/** The authenticated caller of this request. */
export function principalOf(res: Response): ClientIdentity {
  const principal = res.locals.principal as ClientIdentity | undefined;
  if (!principal) throw unauthorized('this route needs an access token', { code: 'missing-token' });
  return principal;
}

/** Accepts `Authorization: Bearer <access token>` and records who is calling. */
export function authenticate(tokens: TokenService): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const match = header?.match(/^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i);
    if (!match) throw unauthorized('this route needs an access token: Authorization: Bearer <token> from ' + TOKEN_PATH, { code: 'missing-token' });
    res.locals.principal = await tokens.verify(match[1]!);
    next();
  };
}

/** Lets the request through only when its token carries every scope named. */
export function requireScope(...needed: Scope[]): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    const missing = needed.filter((s) => !principal.scopes.includes(s));
    if (missing.length > 0) throw forbidden(`the access token lacks the scope ${missing.join(', ')}`, { code: 'insufficient-scope' });
    next();
  };
}

interface OAuthError {
  status: number;
  error: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope';
  description: string;
}

function oauthError(res: Response, e: OAuthError, basic: boolean): void {
  if (e.status === 401 && basic) res.setHeader('WWW-Authenticate', 'Basic realm="regional-results-hub"');
  res.status(e.status).setHeader('Cache-Control', 'no-store').json({ error: e.error, error_description: e.description });
}

function credentialsFrom(authorization: string | undefined, body: Record<string, unknown>) {
  const basic = authorization?.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    // RFC 6749 2.3.1: both parts are form-urlencoded inside the Basic credentials.
    return { basic: true, clientId: decodeURIComponent(decoded.slice(0, colon)), clientSecret: decodeURIComponent(decoded.slice(colon + 1)) };
  }
  if (typeof body.client_id === 'string' && typeof body.client_secret === 'string') {
    return { basic: false, clientId: body.client_id, clientSecret: body.client_secret };
  }
  return null;
}

/** OAuth2 client-credentials token endpoint (RFC 6749 4.4), client_secret_basic or client_secret_post. */
export function createTokenRouter(deps: { db: Knex; tokens: TokenService }): Router {
  const router = Router();
  router.post(TOKEN_PATH, express.urlencoded({ extended: false, limit: '16kb' }), express.json({ limit: '16kb' }), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const credentials = credentialsFrom(req.get('authorization'), body);
    const basic = credentials?.basic ?? false;
    if (body.grant_type !== 'client_credentials') {
      return oauthError(res, { status: 400, error: body.grant_type ? 'unsupported_grant_type' : 'invalid_request', description: 'grant_type must be client_credentials' }, basic);
    }
    if (!credentials) {
      return oauthError(res, { status: 401, error: 'invalid_client', description: 'client credentials are required (HTTP Basic or client_id and client_secret)' }, true);
    }
    const identity = await verifyClient(deps.db, credentials.clientId, credentials.clientSecret);
    if (!identity) return oauthError(res, { status: 401, error: 'invalid_client', description: 'unknown client, wrong secret, or client disabled' }, basic);

    let granted = identity.scopes;
    if (typeof body.scope === 'string' && body.scope.trim()) {
      const asked = body.scope.trim().split(/\s+/);
      const refused = asked.filter((s) => !isScope(s) || !identity.scopes.includes(s));
      if (refused.length > 0) return oauthError(res, { status: 400, error: 'invalid_scope', description: `not granted to this client: ${refused.join(' ')}` }, basic);
      granted = asked as Scope[];
    }
    const token = await deps.tokens.issue(identity, granted);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ access_token: token.accessToken, token_type: 'Bearer', expires_in: token.expiresIn, scope: token.scopes.join(' ') });
  });
  return router;
}
