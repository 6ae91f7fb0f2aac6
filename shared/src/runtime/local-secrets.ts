import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface LocalSecrets {
  tokenSecret: string;
  idHashSecret: string;
  postgresPassword: string;
}

/**
 * The embedded default has nowhere else to keep its secrets, so it generates them once into
 * the data folder (readable by its owner only) and reads them back on every start. An
 * external deployment takes them from the environment instead (see config).
 */
export async function ensureLocalSecrets(dataDir: string): Promise<LocalSecrets> {
  const file = path.join(dataDir, 'secrets.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LocalSecrets;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secrets: LocalSecrets = {
    tokenSecret: randomBytes(32).toString('base64url'),
    idHashSecret: randomBytes(32).toString('base64url'),
    postgresPassword: randomBytes(18).toString('base64url'),
  };
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
  return secrets;
}
