/** Test support: a real database per test file, a real HTTP stack, quiet logs. */
export { freePort } from './global-setup';
export { testDatabase, testLogger, type TestDatabase } from './database';
export { startTestHub, TEST_ID_HASH_SECRET, TEST_TOKEN_SECRET, type TestHub } from './hub';

/** A response body as JSON, typed loosely for assertions (fetch types it `unknown`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const readJson = async (res: Response): Promise<any> => res.json();
