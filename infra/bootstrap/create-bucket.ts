/**
 * Creates the hub's bucket and turns versioning on, once, before the services start.
 *
 *   node --import tsx infra/bootstrap/create-bucket.ts
 *
 * Reads the same S3_* settings the services read. Safe to run any number of times, and
 * concurrently: an existing bucket is left as it is. Prints one line per action; exits 1
 * with one line on stderr when it cannot finish.
 */
import { Client, IamAwsProvider, type ClientOptions } from 'minio';
import { ConfigError, loadConfig, type HubConfig } from '@hub/shared/config';

export type Log = (line: string) => void;

type S3Blob = Extract<HubConfig['blob'], { driver: 's3' }>;

export interface BucketBootstrap {
  created: boolean;
  /** 'unsupported': the store refused or ignored the request; objects are then not versioned. */
  versioning: 'enabled' | 'unsupported';
}

/** Error codes that no amount of waiting will fix. */
const permanent = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidBucketName', 'AllAccessDisabled']);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** One line for an error: S3 code or socket code, then the message (AggregateError has an empty one). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const inner = err instanceof AggregateError ? err.errors.find((e): e is Error => e instanceof Error) : undefined;
  const message = err.message || inner?.message || err.name;
  const code = codeOf(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** minio client options for the hub's S3 settings: MinIO/Ceph by endpoint URL, AWS when none. */
export function s3ClientOptions(blob: S3Blob): ClientOptions {
  const url = blob.endpoint ? new URL(blob.endpoint) : undefined;
  const useSSL = url ? url.protocol === 'https:' : true;
  return {
    endPoint: url ? url.hostname : 's3.amazonaws.com',
    ...(url?.port ? { port: Number(url.port) } : {}),
    useSSL,
    region: blob.region,
    pathStyle: blob.forcePathStyle,
    // Keys unset: the AWS default chain the services also use (instance role, IRSA web identity).
    ...(blob.accessKeyId && blob.secretAccessKey
      ? { accessKey: blob.accessKeyId, secretKey: blob.secretAccessKey }
      : { credentialsProvider: new IamAwsProvider({}) }),
    // waitForEndpoint does the retrying; the client's own retry would hide the S3 error code.
    retryOptions: { disableRetry: true },
  };
}

export interface WaitOptions {
  /** Shown in the log lines. */
  endpoint: string;
  attempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
  log: Log;
}

/**
 * Waits until the store answers a request about the bucket (exists or not), retrying with
 * doubling delays. Credentials or bucket-name errors fail at once: waiting cannot fix them.
 */
export async function waitForEndpoint(client: Client, bucket: string, opts: WaitOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.bucketExists(bucket);
      if (attempt > 1) opts.log(`endpoint ${opts.endpoint}: reachable after ${attempt} attempts`);
      return;
    } catch (err) {
      const code = codeOf(err);
      if ((code && permanent.has(code)) || err instanceof TypeError || (err instanceof Error && /^Invalid\w+Error$/.test(err.name))) {
        throw new Error(`endpoint ${opts.endpoint}: ${describeError(err)}`, { cause: err });
      }
      if (attempt >= opts.attempts) {
        throw new Error(`endpoint ${opts.endpoint}: not reachable after ${attempt} attempts (${describeError(err)})`, { cause: err });
      }
      const delay = Math.min(opts.maxDelayMs, opts.firstDelayMs * 2 ** (attempt - 1));
      opts.log(`endpoint ${opts.endpoint}: not reachable yet (${describeError(err)}), attempt ${attempt}/${opts.attempts}, next in ${(delay / 1000).toFixed(1)} s`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Makes sure the bucket exists and asks for versioning on it. An existing bucket is left as
 * it is. A store without versioning is reported as a warning line, not a failure: the hub
 * works without it but loses the protection against overwrites and deletes.
 */
export async function bootstrapBucket(client: Client, bucket: string, region: string, log: Log): Promise<BucketBootstrap> {
  let created = false;
  if (await client.bucketExists(bucket)) {
    log(`bucket ${bucket}: exists, left as it is`);
  } else {
    try {
      await client.makeBucket(bucket, region);
      created = true;
      log(`bucket ${bucket}: created in region ${region}`);
    } catch (err) {
      // Another bootstrap (a second Job pod, a re-run) won the race.
      if (codeOf(err) !== 'BucketAlreadyOwnedByYou') throw err;
      log(`bucket ${bucket}: exists (created concurrently), left as it is`);
    }
  }

  const unsupported = (answer: string): BucketBootstrap => {
    log(`warning: bucket ${bucket}: the store does not implement versioning (${answer}); objects are not versioned — use MinIO, Ceph RGW or AWS S3 with versioning in production`);
    return { created, versioning: 'unsupported' };
  };
  try {
    // Idempotent on the server: enabling an enabled bucket changes nothing.
    await client.setBucketVersioning(bucket, { Status: 'Enabled' });
  } catch (err) {
    const code = codeOf(err);
    if (code === 'NotImplemented') return unsupported('it answered NotImplemented');
    // A store that does not know the ?versioning subresource takes the PUT for CreateBucket.
    if (code === 'BucketAlreadyExists' || code === 'BucketAlreadyOwnedByYou') {
      return unsupported(`it answered ${code} to the versioning request`);
    }
    throw err;
  }
  // Read it back: some stores accept the request and ignore it.
  let status: string | undefined;
  try {
    status = (await client.getBucketVersioning(bucket))?.Status;
  } catch (err) {
    if (codeOf(err) !== 'NotImplemented') throw err;
    return unsupported('it answered NotImplemented when asked for the versioning state');
  }
  if (status !== 'Enabled') return unsupported(`it accepted the request but reports versioning as ${status ?? 'never enabled'}`);
  log(`bucket ${bucket}: versioning enabled`);
  return { created, versioning: 'enabled' };
}

async function main(env: NodeJS.ProcessEnv): Promise<number> {
  const fail = (line: string): number => {
    console.error(`create-bucket: ${line}`);
    return 1;
  };
  let config: HubConfig;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    throw err;
  }
  if (config.blob.driver !== 's3') {
    return fail('S3_BUCKET is not set, so the hub uses its filesystem blob store and there is no bucket to create');
  }

  const blob = config.blob;
  const log: Log = (line) => console.log(`create-bucket: ${line}`);
  const client = new Client(s3ClientOptions(blob));
  try {
    await waitForEndpoint(client, blob.bucket, {
      endpoint: blob.endpoint ?? 'AWS S3',
      attempts: 12,
      firstDelayMs: 500,
      maxDelayMs: 5000,
      log,
    });
    await bootstrapBucket(client, blob.bucket, blob.region, log);
    return 0;
  } catch (err) {
    return fail(describeError(err));
  }
}

// The CLI runs only as the entry point, so tests can import the functions above.
if (typeof require !== 'undefined' && require.main === module) {
  main(process.env).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`create-bucket: ${describeError(err)}`);
      process.exit(1);
    },
  );
}
