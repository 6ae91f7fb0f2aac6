import path from 'node:path';
import { settings, type Setting, type SettingName } from './settings';

export { settings, type SettingName } from './settings';

/**
 * The hub's configuration, read once from the environment at start, validated, and passed
 * down. Nothing below a service's main.ts reads process.env.
 */
export interface HubConfig {
  dataDir: string;
  publicUrl: string;
  /** Origins browsers may call DICOMweb from; ['*'] for any. */
  corsOrigins: string[];
  /** The OHIF viewer route a check's study links open (?StudyInstanceUIDs=); none without it. */
  viewerUrl?: string;
  http: { host: string; port: number };
  dicom: { host: string; port: number; aeTitle: string; spoolMemoryBytes: number };
  mllp: { host: string; port: number; tls?: { certFile: string; keyFile: string; caFile?: string } };
  database:
    | { mode: 'external'; url: string; poolMax: number }
    | { mode: 'embedded'; port: number; dir: string; poolMax: number };
  blob:
    | { driver: 'fs'; root: string }
    | {
        driver: 's3';
        endpoint?: string;
        bucket: string;
        region: string;
        accessKeyId?: string;
        secretAccessKey?: string;
        forcePathStyle: boolean;
        partSizeBytes: number;
      };
  auth: { tokenSecret?: string; tokenTtlSeconds: number; issuer: string };
  identity: { idHashSecret?: string };
  index: { workers: number; batchSize: number; reconcileHours: number };
  /** The factors the authority's savings are counted with. */
  savings: { perRepeatCny: number; filmCny: number; filmPlasticGrams: number };
  /** Counts from 1 to minCell − 1 in the finest statistics are withheld (0: none). */
  statistics: { minCell: number };
  metricsToken?: string;
  log: { level: string };
  shutdownGraceMs: number;
  demo: boolean;
}

/** A configuration problem, reported as one line naming the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function read<T>(env: Env, name: SettingName, fallback?: string): T | undefined {
  const setting: Setting = settings[name];
  const raw = env[name] === undefined || env[name] === '' ? fallback ?? setting.default : env[name];
  if (raw === undefined) return undefined;
  const parsed = setting.schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(name, `${issue?.message ?? 'invalid value'} (expected ${setting.expect})`);
  }
  return parsed.data as T;
}

function required<T>(env: Env, name: SettingName, why: string): T {
  const value = read<T>(env, name);
  if (value === undefined) throw new ConfigError(name, `is required ${why}`);
  return value;
}

/** MLLP over TLS: certificate and key together, a CA (mutual TLS) only with them. */
function mllpTls(env: Env, cwd: string): Pick<HubConfig['mllp'], 'tls'> {
  const [cert, key, ca] = (['MLLP_TLS_CERT', 'MLLP_TLS_KEY', 'MLLP_TLS_CA'] as const).map((name) => read<string>(env, name));
  if (!cert && !key) {
    if (ca) throw new ConfigError('MLLP_TLS_CERT', 'is required when MLLP_TLS_CA is set');
    return {};
  }
  if (!cert || !key) throw new ConfigError(cert ? 'MLLP_TLS_KEY' : 'MLLP_TLS_CERT', 'must be set together with its pair');
  return { tls: { certFile: path.resolve(cwd, cert), keyFile: path.resolve(cwd, key), ...(ca ? { caFile: path.resolve(cwd, ca) } : {}) } };
}

/** Reads and validates every setting; throws ConfigError on the first wrong or missing value. */
export function loadConfig(env: Env, cwd: string = process.cwd()): HubConfig {
  const unknownHub = Object.keys(env).filter((k) => /^(HUB|S3|DICOM|MLLP|HTTP|DATABASE|TOKEN)_/.test(k) && !(k in settings));
  if (unknownHub.length > 0) throw new ConfigError(unknownHub[0]!, 'is not a setting the hub knows (see the README table)');

  const dataDir = path.resolve(cwd, read<string>(env, 'HUB_DATA_DIR')!);
  const http = { host: read<string>(env, 'HTTP_HOST')!, port: read<number>(env, 'HTTP_PORT')! };
  const databaseUrl = read<string>(env, 'DATABASE_URL');
  const poolMax = read<number>(env, 'DATABASE_POOL_MAX')!;
  const database: HubConfig['database'] = databaseUrl
    ? { mode: 'external', url: databaseUrl, poolMax }
    : { mode: 'embedded', port: read<number>(env, 'HUB_EMBEDDED_PG_PORT')!, dir: path.join(dataDir, 'postgres'), poolMax };

  const bucket = read<string>(env, 'S3_BUCKET');
  let blob: HubConfig['blob'];
  if (bucket) {
    const accessKeyId = read<string>(env, 'S3_ACCESS_KEY_ID');
    const secretAccessKey = read<string>(env, 'S3_SECRET_ACCESS_KEY');
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      throw new ConfigError(accessKeyId ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID', 'must be set together with its pair');
    }
    blob = {
      driver: 's3',
      endpoint: read<string>(env, 'S3_ENDPOINT'),
      bucket,
      region: read<string>(env, 'S3_REGION')!,
      accessKeyId,
      secretAccessKey,
      forcePathStyle: read<boolean>(env, 'S3_FORCE_PATH_STYLE')!,
      partSizeBytes: read<number>(env, 'S3_PART_SIZE_MB')! * 1024 * 1024,
    };
  } else {
    for (const name of ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const) {
      if (env[name]) throw new ConfigError('S3_BUCKET', `is required when ${name} is set`);
    }
    blob = { driver: 'fs', root: path.resolve(cwd, read<string>(env, 'HUB_BLOB_DIR') ?? path.join(dataDir, 'blobs')) };
  }

  // An external deployment has no data folder to keep generated secrets in: it must bring its own.
  const external = database.mode === 'external';
  const tokenSecret = external
    ? required<string>(env, 'HUB_TOKEN_SECRET', 'when DATABASE_URL is set')
    : read<string>(env, 'HUB_TOKEN_SECRET');
  const idHashSecret = external
    ? required<string>(env, 'HUB_ID_HASH_SECRET', 'when DATABASE_URL is set')
    : read<string>(env, 'HUB_ID_HASH_SECRET');

  return {
    dataDir,
    publicUrl: (read<string>(env, 'HUB_PUBLIC_URL') ?? `http://localhost:${http.port}`).replace(/\/+$/, ''),
    corsOrigins: read<string>(env, 'HUB_CORS_ORIGINS')!.split(',').map((o) => o.trim().replace(/\/+$/, '')),
    viewerUrl: read<string>(env, 'HUB_VIEWER_URL'),
    http,
    dicom: { host: read<string>(env, 'DICOM_HOST')!, port: read<number>(env, 'DICOM_PORT')!, aeTitle: read<string>(env, 'DICOM_AE_TITLE')!, spoolMemoryBytes: read<number>(env, 'DICOM_SPOOL_MEMORY_MB')! * 1024 * 1024 },
    mllp: { host: read<string>(env, 'MLLP_HOST')!, port: read<number>(env, 'MLLP_PORT')!, ...mllpTls(env, cwd) },
    database,
    blob,
    auth: { tokenSecret, tokenTtlSeconds: read<number>(env, 'HUB_TOKEN_TTL_SECONDS')!, issuer: read<string>(env, 'HUB_TOKEN_ISSUER')! },
    identity: { idHashSecret },
    index: { workers: read<number>(env, 'HUB_INDEX_WORKERS')!, batchSize: read<number>(env, 'HUB_INDEX_BATCH')!, reconcileHours: read<number>(env, 'HUB_RECONCILE_HOURS')! },
    savings: { perRepeatCny: read<number>(env, 'HUB_SAVING_PER_REPEAT_CNY')!, filmCny: read<number>(env, 'HUB_FILM_PRICE_CNY')!, filmPlasticGrams: read<number>(env, 'HUB_FILM_PLASTIC_GRAMS')! },
    statistics: { minCell: read<number>(env, 'HUB_STATS_MIN_CELL')! },
    metricsToken: read<string>(env, 'HUB_METRICS_TOKEN'),
    log: { level: read<string>(env, 'LOG_LEVEL')! },
    shutdownGraceMs: read<number>(env, 'HUB_SHUTDOWN_GRACE_SECONDS')! * 1000,
    demo: read<boolean>(env, 'HUB_DEMO', external ? 'false' : 'true')!,
  };
}
