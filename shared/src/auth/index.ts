export { allScopes, isScope, scopes, type Scope } from './scopes';
export { createClient, disableClient, listClients, rotateClientSecret, verifyClient, type Client, type ClientIdentity } from './clients';
export { createTokenService, type IssuedToken, type TokenService, type TokenServiceOptions } from './tokens';
export { authenticate, createTokenRouter, principalOf, requireScope, TOKEN_PATH } from './http';
