import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import { notFound, unauthorized } from '../errors';
import type { Logger } from '../log';
import { cors } from './cors';
import { errorHandler } from './errors';
import type { Metrics } from './metrics';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface HttpAppOptions {
  log: Logger;
  metrics: Metrics;
  /** What /readyz checks (database, blob store …). */
  readiness: ReadinessCheck[];
  /** Authenticates every request not under a public path (see `publicPaths`). */
  authenticate: RequestHandler;
  /** Paths answered without a token besides health: the token endpoint, for instance. */
  publicPaths?: string[];
  metricsToken?: string;
  /** Browser origins allowed to call (CORS), ['*'] for any; none: no CORS headers. */
  corsOrigins?: string[];
  /** Mounts the service's routers. */
  mount(app: Express): void;
}

export interface HttpApp {
  app: Express;
  /** From now on /readyz answers 503 so load balancers stop sending new work. */
  drain(): void;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { log, metrics } = options;
  const app = express();
  let draining = false;
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'extended');

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && requestIdPattern.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The query string is never logged: it may carry a patient identifier.
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      metrics.httpRequests.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      log.info(
        { requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(seconds * 1000), client: res.locals.principal?.clientId },
        'request',
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    if (draining) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    const results = await Promise.all(
      options.readiness.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), 2000, name);
          return [name, 'ok'] as const;
        } catch (err) {
          log.warn({ check: name, err }, 'readiness check failed');
          return [name, 'unavailable'] as const;
        }
      }),
    );
    const ready = results.every(([, state]) => state === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(results) });
  });

  app.get('/metrics', async (req, res) => {
    if (options.metricsToken && req.get('authorization') !== `Bearer ${options.metricsToken}`) {
      throw unauthorized('/metrics needs the metrics token', { code: 'missing-token' });
    }
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const publicPaths = new Set(['/healthz', '/readyz', '/metrics', ...(options.publicPaths ?? [])]);
  if (options.corsOrigins?.length) app.use(cors(options.corsOrigins));
  app.use((req, res, next) => (publicPaths.has(req.path) ? next() : options.authenticate(req, res, next)));

  options.mount(app);

  app.use((req) => {
    throw notFound(`no route for ${req.method} ${req.path}`, { code: 'no-route' });
  });
  app.use(errorHandler(log));

  return {
    app,
    drain() {
      draining = true;
    },
  };
}
