import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { unauthorized } from '../errors';
import type { ClientIdentity } from './clients';
import { isScope, type Scope } from './scopes';

export interface TokenServiceOptions {
  secret: string;
  issuer: string;
  ttlSeconds: number;
  /** The clock, for tests that need a token to expire. */
  now?: () => Date;
}

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
  scopes: Scope[];
}

export interface TokenService {
  issue(identity: ClientIdentity, scopes: Scope[]): Promise<IssuedToken>;
  /** The identity a valid token carries; rejects with Unauthorized (code `invalid-token` or `expired-token`). */
  verify(token: string): Promise<ClientIdentity>;
}

const audience = 'regional-results-hub';

/** Short-lived HS256 JWTs naming the client, its organization and its granted scopes. */
export function createTokenService(options: TokenServiceOptions): TokenService {
  const key = new TextEncoder().encode(options.secret);
  const now = options.now ?? (() => new Date());
  return {
    async issue(identity, scopes) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const accessToken = await new SignJWT({
        org: identity.organization.code,
        org_id: identity.organization.id,
        org_kind: identity.organization.kind,
        scope: scopes.join(' '),
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .setSubject(identity.clientId)
        .setIssuer(options.issuer)
        .setAudience(audience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + options.ttlSeconds)
        .setJti(randomUUID())
        .sign(key);
      return { accessToken, expiresIn: options.ttlSeconds, scopes };
    },

    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          issuer: options.issuer,
          audience,
          algorithms: ['HS256'],
          typ: 'at+jwt',
          currentDate: now(),
          clockTolerance: 5,
        });
        const scopes = String(payload.scope ?? '').split(' ').filter(isScope);
        if (typeof payload.sub !== 'string' || typeof payload.org !== 'string' || typeof payload.org_id !== 'number') {
          throw unauthorized('the access token lacks its client or organization', { code: 'invalid-token' });
        }
        return {
          clientId: payload.sub,
          organization: { id: payload.org_id, code: payload.org, kind: payload.org_kind as ClientIdentity['organization']['kind'] },
          scopes,
        };
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw unauthorized('the access token has expired', { code: 'expired-token' });
        if (err instanceof joseErrors.JOSEError) throw unauthorized('the access token is not valid', { code: 'invalid-token' });
        throw err;
      }
    },
  };
}
