import type { Express } from 'express';
import { ensureAuditPartitions } from '../audit';
import { createTokenRouter, authenticate, createTokenService, TOKEN_PATH, type TokenService } from '../auth';
import { createFsBlobStore, createS3BlobStore, type BlobStore } from '../blob';
import { ConfigError, loadConfig, type HubConfig } from '../config';
import { createDb, migrateLatest, startEmbeddedPostgres, type EmbeddedPostgres, type Knex } from '../db';
import { createHttpApp, createMetrics, listen, type Metrics, type RunningServer } from '../http';
import { createLogger, type Logger } from '../log';
import { ensureLocalSecrets } from './local-secrets';

export { ensureLocalSecrets, type LocalSecrets } from './local-secrets';

/** What every service is built from: opened once per process from the configuration. */
export interface Hub {
  config: HubConfig;
  log: Logger;
  db: Knex;
  /** The database's URL, for connections of their own (LISTEN, the migration lock). */
  databaseUrl: string;
  blob: BlobStore;
  tokens: TokenService;
  metrics: Metrics;
  /** The keyed-hash secret national IDs are matched on. */
  idHashSecret: string;
}

/** One service's share of a process: HTTP routes and/or listeners of its own. */
export interface ServicePart {
  name: string;
  mount?(app: Express): void;
  /** Routes of this part answered without a token (e.g. FHIR /metadata). */
  publicPaths?: string[];
  /** Starts listeners other than HTTP (DIMSE, MLLP, workers); returns lines for the start banner. */
  start?(): Promise<string[]>;
  /** Stops taking new work and finishes what is in flight. */
  stop?(): Promise<void>;
}

export interface RunningHub {
  hub: Hub;
  http: RunningServer;
  /** Lines saying where each door listens. */
  banner: string[];
  shutdown(): Promise<void>;
}

function blobStoreFor(config: HubConfig): BlobStore {
  return config.blob.driver === 'fs' ? createFsBlobStore({ root: config.blob.root }) : createS3BlobStore(config.blob);
}

/**
 * Opens the database (starting the embedded PostgreSQL when no DATABASE_URL is set), brings
 * the schema up to date, and opens the blob store.
 */
export async function openHub(config: HubConfig, service: string, log: Logger = createLogger({ level: config.log.level })): Promise<Hub & { close(): Promise<void> }> {
  let embedded: EmbeddedPostgres | undefined;
  let url: string;
  let tokenSecret = config.auth.tokenSecret;
  let idHashSecret = config.identity.idHashSecret;
  if (config.database.mode === 'embedded') {
    const local = await ensureLocalSecrets(config.dataDir);
    tokenSecret ??= local.tokenSecret;
    idHashSecret ??= local.idHashSecret;
    embedded = await startEmbeddedPostgres({ dir: config.database.dir, port: config.database.port, password: local.postgresPassword, log });
    url = embedded.url;
  } else {
    url = config.database.url;
  }
  const db = createDb({ url, poolMax: config.database.poolMax, applicationName: `hub ${service}`, log });
  try {
    await migrateLatest(db, url, log);
    await ensureAuditPartitions(db);
  } catch (err) {
    await db.destroy();
    await embedded?.stop();
    throw err;
  }
  return {
    config,
    log,
    db,
    databaseUrl: url,
    blob: blobStoreFor(config),
    tokens: createTokenService({ secret: tokenSecret!, issuer: config.auth.issuer, ttlSeconds: config.auth.tokenTtlSeconds }),
    metrics: createMetrics(service),
    idHashSecret: idHashSecret!,
    async close() {
      await db.destroy();
      await embedded?.stop();
    },
  };
}

/**
 * Runs service parts in this process: one HTTP server for all their routes (plus health,
 * readiness, metrics and the token endpoint), their own listeners, and an orderly shutdown
 * that drains in this order: readiness off, listeners, HTTP, database, embedded PostgreSQL.
 */
export async function runHub(config: HubConfig, service: string, buildParts: (hub: Hub) => ServicePart[], log?: Logger): Promise<RunningHub> {
  const hub = await openHub(config, service, log);
  const parts = buildParts(hub);
  const http = createHttpApp({
    log: hub.log,
    metrics: hub.metrics,
    metricsToken: config.metricsToken,
    corsOrigins: config.corsOrigins,
    readiness: [
      { name: 'database', check: async () => void (await hub.db.raw('select 1')) },
      { name: 'blob-store', check: () => hub.blob.check() },
    ],
    authenticate: authenticate(hub.tokens),
    publicPaths: [TOKEN_PATH, ...parts.flatMap((p) => p.publicPaths ?? [])],
    mount(app) {
      app.use(createTokenRouter({ db: hub.db, tokens: hub.tokens }));
      for (const part of parts) part.mount?.(app);
    },
  });

  let server: RunningServer | undefined;
  const started: ServicePart[] = [];
  const banner: string[] = [];
  try {
    server = await listen(http.app, config.http.host, config.http.port);
    const host = ['0.0.0.0', '::'].includes(config.http.host) ? 'localhost' : config.http.host;
    banner.push(`HTTP               http://${host}:${server.port}  (access tokens: POST ${TOKEN_PATH})`);
    for (const part of parts) {
      if (part.start) banner.push(...(await part.start()));
      started.push(part);
    }
  } catch (err) {
    for (const part of started.reverse()) await part.stop?.();
    await server?.close(0);
    await hub.close();
    throw err;
  }

  // A long-running process keeps the audit log's monthly partitions ahead of the calendar.
  const partitions = setInterval(() => ensureAuditPartitions(hub.db).catch((err) => hub.log.error({ err }, 'audit partitions')), 24 * 3600 * 1000);
  partitions.unref();

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      hub.log.info('shutting down');
      clearInterval(partitions);
      http.drain();
      for (const part of [...started].reverse()) await part.stop?.();
      await server!.close(config.shutdownGraceMs);
      await hub.close();
      hub.log.info('stopped');
    })());

  return { hub, http: server, banner, shutdown };
}

/** SIGINT, SIGTERM or SIGHUP run the orderly shutdown once; a second signal exits at once. */
export function stopOnSignals(running: Pick<RunningHub, 'shutdown'>, log: Logger): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    signalled = true;
    running.shutdown().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}

/**
 * A service's main: configuration from the environment (one clear line and exit 2 when it
 * is wrong), start, print where each door listens, and stop in order on a signal.
 */
export async function startFromEnvironment(
  service: string,
  buildParts: (hub: Hub) => ServicePart[],
  afterStart?: (running: RunningHub) => Promise<string[]>,
): Promise<RunningHub> {
  let config: HubConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: config.log.level });
  try {
    const running = await runHub(config, service, buildParts, log);
    stopOnSignals(running, log);
    const extra = afterStart ? await afterStart(running) : [];
    process.stdout.write(['', `regional results hub: ${service} is ready`, ...running.banner.map((l) => `  ${l}`), ...extra, ''].join('\n') + '\n');
    return running;
  } catch (err) {
    log.fatal({ err }, 'could not start');
    process.stderr.write(`${service} could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
