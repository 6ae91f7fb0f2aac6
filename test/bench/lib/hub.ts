import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { brief, freePort, request } from './http';
import { startServer } from './process';
import { descendants, processName, type ProcessGroups } from './procs';
import type { Target } from './target';

export const repoRoot = path.resolve(__dirname, '../../..');

export interface HubOptions {
  /** An empty folder: the hub's data folder (embedded PostgreSQL, blobs) and its log. */
  dir: string;
  /** Calling AE title registered for the demo hospital, so storescu may store. */
  callingAe: string;
  /** MSH-4 registered for the demo hospital's LIS. */
  sendingFacility: string;
}

/** The organization the benchmark pushes as: the first demo hospital. */
const ORGANIZATION = 'DEMO-H1';

/**
 * Starts the all-in-one hub as `npm start` does (embedded PostgreSQL, filesystem blobs, the
 * demo region), every port on loopback, and gets a token for the demo hospital.
 */
export async function startHub(options: HubOptions): Promise<Target> {
  const dataDir = path.join(options.dir, 'data');
  await mkdir(dataDir, { recursive: true });
  // PostgreSQL runs as its own user when the hub runs as root: it must reach the folder.
  await chmod(options.dir, 0o755);
  await chmod(dataDir, 0o755);
  const [httpPort, dicomPort, mllpPort, pgPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HUB_DATA_DIR: dataDir,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    DICOM_HOST: '127.0.0.1',
    DICOM_PORT: String(dicomPort),
    MLLP_HOST: '127.0.0.1',
    MLLP_PORT: String(mllpPort),
    HUB_EMBEDDED_PG_PORT: String(pgPort),
    HUB_DEMO: 'true',
    // one token for the whole run
    HUB_TOKEN_TTL_SECONDS: '86400',
    LOG_LEVEL: 'warn',
  };
  // BENCH_HUB_NODE_ARGS="--cpu-prof --cpu-prof-dir=…": a profile of the hub, written when it stops
  const nodeArgs = (process.env.BENCH_HUB_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const server = startServer(process.execPath, [...nodeArgs, '--import', 'tsx', 'services/hub/src/main.ts'], { env, cwd: repoRoot, logFile: path.join(options.dir, 'hub.log') });
  try {
    await server.waitForOutput(/is ready/, 180_000);
  } catch (err) {
    await server.stop(5000);
    throw err;
  }

  const base = `http://127.0.0.1:${httpPort}`;
  const secrets = JSON.parse(await readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as { postgresPassword: string; idHashSecret: string };
  const databaseUrl = `postgres://hub:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${pgPort}/postgres`;
  const credentials = JSON.parse(await readFile(path.join(dataDir, 'demo-credentials.json'), 'utf8')) as Array<{ organization: string; clientId: string; clientSecret: string }>;
  const client = credentials.find((c) => c.organization === ORGANIZATION);
  if (!client) throw new Error(`no demo client for ${ORGANIZATION} in ${dataDir}/demo-credentials.json`);

  const answer = await request(`${base}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: Buffer.from('grant_type=client_credentials'),
  });
  if (answer.status !== 200) throw new Error(`hub token request answered ${answer.status}: ${brief(answer)}`);
  const token = (JSON.parse(answer.body.toString('utf8')) as { access_token: string }).access_token;

  await registerSenders(databaseUrl, options);

  return {
    name: 'hub',
    dicomweb: `${base}/dicomweb`,
    headers: async () => ({ authorization: `Bearer ${token}` }),
    dicom: { host: '127.0.0.1', port: dicomPort, calledAe: 'HUB', callingAe: options.callingAe },
    mllp: { host: '127.0.0.1', port: mllpPort, sendingFacility: options.sendingFacility },
    databaseUrl,
    fhir: `${base}/fhir`,
    idHashSecret: secrets.idHashSecret,
    groups: () => hubGroups(server.pid),
    exited: () => server.ended(),
    stop: () => server.stop(),
  };
}

/** The hub's node process, and the embedded PostgreSQL it started (postmaster and backends). */
async function hubGroups(pid: number): Promise<ProcessGroups> {
  const below = (await descendants(pid)).filter((p) => p !== pid);
  const postgres: number[] = [];
  for (const p of below) if ((await processName(p)) === 'postgres') postgres.push(p);
  return { hub: [pid], 'hub postgres': postgres };
}

/**
 * Registers the benchmark's DICOM and HL7 senders for the demo hospital, as an operator
 * would. Written to the registration tables directly (migrations 0003 and 0005) while the
 * admin CLI has no command for them; a table that does not exist yet is skipped, and the
 * benchmark through that door then fails with the hub's own refusal.
 */
async function registerSenders(databaseUrl: string, options: HubOptions): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const has = async (table: string) => (await db.query('select to_regclass($1) as t', [table])).rows[0].t !== null;
    const org = `(select id from organizations where code = '${ORGANIZATION}')`;
    if (await has('dicom_senders')) {
      await db.query(`insert into dicom_senders (organization_id, ae_title) values (${org}, $1) on conflict do nothing`, [options.callingAe]);
    }
    if (await has('hl7_senders')) {
      await db.query(`insert into hl7_senders (organization_id, sending_facility) values (${org}, $1) on conflict do nothing`, [options.sendingFacility]);
    }
  } finally {
    await db.end();
  }
}
