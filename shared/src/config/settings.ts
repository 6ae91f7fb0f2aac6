import { z } from 'zod';

export interface Setting {
  schema: z.ZodType;
  default?: string;
  /** What a valid value looks like, for the one-line error. */
  expect: string;
  /** For the README table. */
  doc: string;
  secret?: boolean;
}

const port = z.coerce.number({ error: 'must be a number' }).int().min(1, 'must be a port number').max(65535, 'must be a port number');
const host = z.string().min(1);
const bool = z.stringbool({ truthy: ['true', '1', 'yes', 'on'], falsy: ['false', '0', 'no', 'off'] });
const secret = z.string().min(32, 'must be at least 32 characters');
const amount = (max: number) => z.coerce.number({ error: 'must be a number' }).min(0, `must be 0..${max}`).max(max, `must be 0..${max}`);
const positive = (max: number) => z.coerce.number({ error: 'must be a number' }).int().min(1, `must be 1..${max}`).max(max, `must be 1..${max}`);

/** Every setting the hub reads, in one table: the README and the compose check are made from it. */
export const settings = {
  HUB_DATA_DIR: { schema: z.string().min(1), default: './data', expect: 'a folder path', doc: 'Where the embedded PostgreSQL and the filesystem blob store keep their data.' },
  HUB_BLOB_DIR: { schema: z.string().min(1), expect: 'a folder path', doc: 'Filesystem blob store root, when S3 is not configured (default `$HUB_DATA_DIR/blobs`).' },
  HUB_PUBLIC_URL: { schema: z.url(), expect: 'an http(s) URL', doc: 'The URL clients reach the HTTP port at; used in links (default `http://localhost:$HTTP_PORT`).' },
  HUB_CORS_ORIGINS: { schema: z.string().regex(/^(\*|https?:\/\/[^\s,]+(\s*,\s*https?:\/\/[^\s,]+)*)$/, 'must be * or comma-separated http(s) origins'), default: '*', expect: '* or origins like https://viewer.example.org', doc: 'Browser origins allowed to call DICOMweb (OHIF and other web viewers); `*` allows any origin (access still needs a token).' },
  HUB_VIEWER_URL: { schema: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }), expect: 'an http(s) URL, e.g. https://viewer.example.org/viewer', doc: 'The study viewer clinicians open from a prior-result check: an OHIF v3 deployment using the hub\'s DICOMweb as its data source, given as its viewer route; a check\'s `links.viewer` is this with `?StudyInstanceUIDs=<uid>`. Unset: checks give no viewer link.' },
  HTTP_HOST: { schema: host, default: '0.0.0.0', expect: 'an interface address', doc: 'Interface the HTTP server listens on.' },
  HTTP_PORT: { schema: port, default: '8080', expect: 'a port 1..65535', doc: 'HTTP port: STOW-RS, FHIR, DICOMweb, OAuth token, web pages, health and metrics.' },
  DICOM_HOST: { schema: host, default: '0.0.0.0', expect: 'an interface address', doc: 'Interface the DICOM C-STORE SCP listens on.' },
  DICOM_PORT: { schema: port, default: '11112', expect: 'a port 1..65535', doc: 'DICOM DIMSE port (C-STORE, C-ECHO).' },
  DICOM_AE_TITLE: { schema: z.string().regex(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, 'must be 1..16 ASCII characters without backslash'), default: 'HUB', expect: 'an AE title', doc: 'The hub\'s own (called) AE title.' },
  DICOM_SPOOL_MEMORY_MB: { schema: positive(1024), default: '8', expect: 'MB 1..1024', doc: 'An arriving DICOM instance (C-STORE or a STOW-RS part) up to this size is held in memory until stored; a larger one is spooled to a file under the data folder. Bounds memory per association or request at about twice this.' },
  MLLP_HOST: { schema: host, default: '0.0.0.0', expect: 'an interface address', doc: 'Interface the HL7 MLLP listener listens on.' },
  MLLP_PORT: { schema: port, default: '2575', expect: 'a port 1..65535', doc: 'HL7 v2 MLLP port.' },
  MLLP_TLS_CERT: { schema: z.string().min(1), expect: 'a PEM file path', doc: 'Certificate (PEM) of the MLLP listener; set with `MLLP_TLS_KEY`, the MLLP port speaks TLS only.' },
  MLLP_TLS_KEY: { schema: z.string().min(1), expect: 'a PEM file path', doc: 'Private key (PEM) of `MLLP_TLS_CERT`.' },
  MLLP_TLS_CA: { schema: z.string().min(1), expect: 'a PEM file path', doc: 'CA certificate(s) (PEM) for mutual TLS on the MLLP port: an LIS without a client certificate from them is refused.' },
  DATABASE_URL: { schema: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://'), expect: 'a postgres:// URL', doc: 'External PostgreSQL. Unset: the embedded PostgreSQL in `$HUB_DATA_DIR/postgres`.', secret: true },
  DATABASE_POOL_MAX: { schema: positive(500), default: '10', expect: 'a whole number 1..500', doc: 'Connections per process.' },
  HUB_EMBEDDED_PG_PORT: { schema: port, default: '54320', expect: 'a port 1..65535', doc: 'Port of the embedded PostgreSQL (loopback only).' },
  S3_ENDPOINT: { schema: z.url(), expect: 'an http(s) URL', doc: 'S3-compatible endpoint (MinIO, Ceph RGW); unset for AWS S3.' },
  S3_BUCKET: { schema: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name'), expect: 'a bucket name', doc: 'Setting it switches the blob store from the filesystem to S3.' },
  S3_REGION: { schema: z.string().min(1), default: 'us-east-1', expect: 'a region name', doc: 'S3 region.' },
  S3_ACCESS_KEY_ID: { schema: z.string().min(1), expect: 'an access key id', doc: 'S3 credentials; unset to use the AWS default chain (instance role, …).', secret: true },
  S3_SECRET_ACCESS_KEY: { schema: z.string().min(1), expect: 'a secret key', doc: 'S3 secret, set together with S3_ACCESS_KEY_ID.', secret: true },
  S3_FORCE_PATH_STYLE: { schema: bool, default: 'true', expect: 'true or false', doc: 'Path-style bucket addressing (MinIO, Ceph RGW); false for AWS virtual-hosted style.' },
  S3_PART_SIZE_MB: { schema: positive(5120).refine((n) => n >= 5, 'must be at least 5 (the S3 minimum part size)'), default: '16', expect: 'a whole number of MiB >= 5', doc: 'Multipart upload part size.' },
  HUB_TOKEN_SECRET: { schema: secret, expect: 'a random string of 32+ characters', doc: 'Signs the hub\'s access tokens (HS256). Required with DATABASE_URL; the embedded default generates one in the data folder.', secret: true },
  HUB_ID_HASH_SECRET: { schema: secret, expect: 'a random string of 32+ characters', doc: 'Keys the hash national IDs are matched on. Required with DATABASE_URL; never change it once data exists.', secret: true },
  HUB_TOKEN_TTL_SECONDS: { schema: z.coerce.number({ error: 'must be a number' }).int().min(60, 'must be 60..86400').max(86400, 'must be 60..86400'), default: '900', expect: 'seconds 60..86400', doc: 'Lifetime of an access token.' },
  HUB_TOKEN_ISSUER: { schema: z.string().min(1), default: 'regional-results-hub', expect: 'a string', doc: 'The `iss` of issued tokens.' },
  HUB_METRICS_TOKEN: { schema: z.string().min(16, 'must be at least 16 characters'), expect: 'a string of 16+ characters', doc: 'When set, `/metrics` needs `Authorization: Bearer <token>`.', secret: true },
  HUB_DEMO: { schema: bool, expect: 'true or false', doc: 'Create the demo region on first start (default true on the embedded default, false with DATABASE_URL).' },
  HUB_INDEX_WORKERS: { schema: positive(64), default: '2', expect: 'a whole number 1..64', doc: 'Index worker loops per process running the index service.' },
  HUB_INDEX_BATCH: { schema: positive(5000), default: '200', expect: 'a whole number 1..5000', doc: 'Accepted objects an index worker claims per transaction.' },
  HUB_RECONCILE_HOURS: { schema: z.coerce.number({ error: 'must be a number' }).int().min(0, 'must be 0..720').max(720, 'must be 0..720'), default: '24', expect: 'hours 0..720', doc: 'How often the index service removes stored objects that no accepted row describes (left by a door that died before committing); 0 turns it off.' },
  HUB_SAVING_PER_REPEAT_CNY: { schema: amount(1_000_000), default: '280', expect: 'yuan 0..1000000, e.g. 280', doc: 'Yuan saved per avoided repeat exam in the statistics\' flat-rate figure (the reference deployment: 140 million for 500,000 repeats); the catalog prices give the other figure.' },
  HUB_FILM_PRICE_CNY: { schema: amount(10_000), default: '16.5', expect: 'yuan 0..10000, e.g. 16.5', doc: 'Yuan per film not printed (the reference deployment: 82.5 million for 5 million films).' },
  HUB_FILM_PLASTIC_GRAMS: { schema: amount(10_000), default: '40', expect: 'grams 0..10000, e.g. 40', doc: 'Grams of plastic per film not printed (the reference deployment: 200 tonnes for 5 million films).' },
  HUB_STATS_MIN_CELL: { schema: z.coerce.number({ error: 'must be a number' }).int().min(0, 'must be 0..100').max(100, 'must be 0..100'), default: '5', expect: 'a whole number 0..100', doc: 'Small-cell suppression: in statistics by day broken down by organization and item (or modality), a count from 1 to this minus one is withheld (null, `suppressed` in CSV) with the figures made from it; 0 shows every count.' },
  HUB_SHUTDOWN_GRACE_SECONDS: { schema: positive(300), default: '10', expect: 'seconds 1..300', doc: 'How long shutdown waits for in-flight work.' },
  LOG_LEVEL: { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', expect: 'fatal|error|warn|info|debug|trace|silent', doc: 'Log level (JSON lines on stdout).' },
} satisfies Record<string, Setting>;

export type SettingName = keyof typeof settings;
