import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '@hub/shared/db';
import { createLogger } from '@hub/shared/log';
import { freePort, request } from './lib/http';
import { insideNamespace } from './lib/netns';
import { startServer } from './lib/process';
import { descendants } from './lib/procs';
import type { Target } from './lib/target';

/**
 * Orthanc 1.10 (Debian bookworm: orthanc, orthanc-dicomweb, orthanc-postgresql) on its own
 * PostgreSQL, for the comparison.
 *
 * Configuration closest to the hub's: the index in PostgreSQL (PostgreSQL plugin,
 * EnableIndex), the DICOM files on the filesystem as received (EnableStorage false,
 * StorageCompression false), DICOMweb at /dicom-web/. Its PostgreSQL is the same embedded
 * PostgreSQL build and configuration the hub starts, on its own folder and port.
 *
 * Orthanc cannot listen on loopback alone (RemoteAccessAllowed opens every interface, with
 * authentication off here): it is only ever started inside the benchmark's network
 * namespace, whose only interface is its own loopback.
 */
export const ORTHANC_PACKAGES = ['orthanc', 'orthanc-dicomweb', 'orthanc-postgresql'];
const ORTHANC = '/usr/sbin/Orthanc';

/** The plugin libraries the Debian packages install (`dpkg -L`). */
export function orthancPlugins(): { dicomweb: string; postgresqlIndex: string } {
  const files = execFileSync('dpkg', ['-L', 'orthanc-dicomweb', 'orthanc-postgresql'], { encoding: 'utf8' }).split('\n');
  const find = (name: string) => {
    const file = files.find((f) => path.basename(f) === name);
    if (!file) throw new Error(`${name} not found in the Debian packages (dpkg -L orthanc-dicomweb orthanc-postgresql)`);
    return file;
  };
  return { dicomweb: find('libOrthancDicomWeb.so'), postgresqlIndex: find('libOrthancPostgreSQLIndex.so') };
}

export function orthancInstalled(): boolean {
  try {
    return existsSync(ORTHANC) && Boolean(orthancPlugins());
  } catch {
    return false;
  }
}

/**
 * Installs the Debian packages when missing (needs root and the network, so call it before
 * entering the namespace). Debian would start the packaged service, listening on every
 * interface with the default configuration: it is stopped and disabled at once (in a
 * container, policy-rc.d usually prevents the start in the first place).
 */
export function ensureOrthancInstalled(say: (line: string) => void): void {
  if (orthancInstalled()) return;
  if (process.getuid?.() !== 0) throw new Error(`Orthanc is not installed and installing it needs root: apt-get install ${ORTHANC_PACKAGES.join(' ')}`);
  say(`installing ${ORTHANC_PACKAGES.join(' ')} with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-q', ...ORTHANC_PACKAGES], { stdio: 'ignore', env });
  for (const [command, args] of [
    ['systemctl', ['disable', '--now', 'orthanc.service']],
    ['invoke-rc.d', ['orthanc', 'stop']],
  ] as const) {
    try {
      execFileSync(command, args, { stdio: 'ignore' });
    } catch {
      // no systemd / no init script running it: nothing to stop
    }
  }
  if (!orthancInstalled()) throw new Error('Orthanc packages installed but Orthanc or its plugins were not found');
}

export interface OrthancOptions {
  /** An empty folder for the configuration, storage, PostgreSQL data and logs. */
  dir: string;
  /** Orthanc's C-STORE worker threads. */
  threads?: number;
}

export const ORTHANC_AET = 'ORTHANC';

/** The configuration file Orthanc is started with; documented in docs/benchmarks.md. */
export function orthancConfiguration(o: { dir: string; httpPort: number; dicomPort: number; pgPort: number; pgPassword: string; threads: number }): object {
  const plugins = orthancPlugins();
  return {
    Name: 'bench-orthanc',
    StorageDirectory: path.join(o.dir, 'storage'),
    IndexDirectory: path.join(o.dir, 'index'),
    StorageCompression: false,
    Plugins: [plugins.dicomweb, plugins.postgresqlIndex],
    ConcurrentJobs: 2,
    HttpServerEnabled: true,
    HttpPort: o.httpPort,
    HttpThreadsCount: 50,
    HttpRequestTimeout: 3600,
    HttpCompressionEnabled: false,
    KeepAlive: true,
    TcpNoDelay: true,
    // every interface — of the namespace, which has only its loopback
    RemoteAccessAllowed: true,
    AuthenticationEnabled: false,
    DicomServerEnabled: true,
    DicomAet: ORTHANC_AET,
    DicomPort: o.dicomPort,
    DicomThreadsCount: o.threads,
    DicomCheckCalledAet: false,
    DicomAlwaysAllowStore: true,
    DicomAlwaysAllowEcho: true,
    DicomCheckModalityHost: false,
    SaveJobs: false,
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false, Host: `127.0.0.1:${o.httpPort}`, Ssl: false },
    PostgreSQL: {
      EnableIndex: true,
      EnableStorage: false,
      Host: '127.0.0.1',
      Port: o.pgPort,
      Database: 'orthanc',
      Username: 'hub',
      Password: o.pgPassword,
      Lock: false,
      EnableSsl: false,
      // 1, the default: with more, STOW-RS requests for the same study at once lost instances
      // (PostgreSQL serialization failures) while Orthanc still answered 200.
      IndexConnectionsCount: 1,
      MaximumConnectionRetries: 10,
      ConnectionRetryInterval: 1,
    },
  };
}

/** Starts PostgreSQL and Orthanc in the benchmark's namespace; resolves once /system answers. */
export async function startOrthanc(options: OrthancOptions): Promise<Target & { version: string }> {
  if (!insideNamespace()) throw new Error('Orthanc listens on every interface: it is only started inside the benchmark network namespace (run as root)');
  const threads = options.threads ?? 4;
  await mkdir(options.dir, { recursive: true });
  await chmod(options.dir, 0o755);
  const pgPassword = 'orthanc-bench';
  const pgPort = await freePort();
  const postgresDir = path.join(options.dir, 'postgres');
  const postgres = await startEmbeddedPostgres({ dir: postgresDir, port: pgPort, password: pgPassword, log: createLogger({ level: 'warn' }) });
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('create database orthanc');
  await admin.end();

  const [httpPort, dicomPort] = [await freePort(), await freePort()];
  const config = orthancConfiguration({ dir: options.dir, httpPort, dicomPort, pgPort, pgPassword, threads });
  const configFile = path.join(options.dir, 'orthanc.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  // As the Debian service starts it (`Orthanc [--logdir=…] CONFIG`), logging to stderr here.
  // TCP_NODELAY=1: Debian's DCMTK leaves Nagle's algorithm on, which stalls every C-STORE
  // response ~40 ms on a delayed ACK; an operator tuning Orthanc would set it.
  const server = startServer(ORTHANC, [configFile], { env: { PATH: process.env.PATH, TCP_NODELAY: '1' }, logFile: path.join(options.dir, 'orthanc.log') });
  const base = `http://127.0.0.1:${httpPort}`;
  let version = '';
  try {
    for (let i = 0; ; i++) {
      if (server.child.exitCode !== null) throw new Error(`Orthanc exited with ${server.child.exitCode}:\n${server.tail()}`);
      const answer = await request(`${base}/system`, { timeoutMs: 2000 }).catch(() => undefined);
      if (answer?.status === 200) {
        version = (JSON.parse(answer.body.toString('utf8')) as { Version: string }).Version;
        break;
      }
      if (i > 600) throw new Error(`Orthanc did not answer /system within 60 s:\n${server.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await server.stop(5000);
    await postgres.stop();
    throw err;
  }

  return {
    name: 'orthanc',
    version,
    dicomweb: `${base}/dicom-web`,
    headers: async () => ({}),
    dicom: { host: '127.0.0.1', port: dicomPort, calledAe: ORTHANC_AET, callingAe: 'BENCHSCU' },
    databaseUrl: postgres.url.replace(/\/postgres$/, '/orthanc'),
    groups: async () => ({ orthanc: [server.pid], 'orthanc postgres': await descendants(await postmasterPid(postgresDir)) }),
    exited: () => server.ended(),
    async stop() {
      await server.stop();
      await postgres.stop();
    },
  };
}

/** The first line of postmaster.pid is the postmaster's pid. */
async function postmasterPid(dir: string): Promise<number> {
  return Number((await readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
}
