import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable, pipeline } from 'node:stream';
import { badInput, isHubError, notFound, unavailable } from '../errors';
import { assertValidKey, assertValidPrefix, isValidKey } from './keys';
import { Meter, expectedOf, measureBuffer, mismatch, type Measured } from './meter';
import { assertValidRange } from './range';
import type { BlobStore } from './types';

export interface S3BlobStoreOptions {
  /** e.g. `http://minio:9000` or a Ceph RGW URL; omitted for AWS S3. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Both or neither; without them the SDK's default chain applies (instance role, profile). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `bucket` in the path rather than the host name; MinIO and Ceph RGW usually need it. */
  forcePathStyle: boolean;
  /** Multipart part size; memory held per put is about this times (QUEUE_SIZE + 1). Default 8 MiB. */
  partSizeBytes?: number;
  /** Keys per ListObjectsV2 page; S3 caps it at 1000 (the default). Smaller only to test paging. */
  listPageSize?: number;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** Parts in flight at once per put; with the part being filled, bounds a put's memory. */
const QUEUE_SIZE = 4;
/** S3's limits on a part (the last part may be smaller). */
const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
const SHA256_HEX = /^[0-9a-f]{64}$/;

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The one translation of S3's vocabulary into the hub's error kinds. */
function storeError(err: unknown, action: 'put' | 'get' | 'head' | 'delete' | 'list', key?: string): unknown {
  if (isHubError(err)) return err;
  const { name, $metadata } = (err ?? {}) as SdkError;
  const status = $metadata?.httpStatusCode;
  const reading = action === 'get' || action === 'head' || action === 'delete';
  // A missing bucket is a misconfigured store, not a missing object; and a put that meets a
  // 404 (say NoSuchUpload) has not found the store in a state it can write to.
  if (reading && name !== 'NoSuchBucket' && (name === 'NoSuchKey' || name === 'NotFound' || status === 404)) {
    return notFound(`no blob ${key}`, { code: 'blob-not-found' }, { cause: err });
  }
  if (reading && (name === 'InvalidRange' || status === 416)) {
    return badInput(`range not satisfiable for blob ${key}`, { code: 'range-not-satisfiable' }, { cause: err });
  }
  // Network failures, throttling, 5xx, refused credentials: the store cannot serve us now.
  return unavailable(`S3 ${action} failed: ${name ?? String(err)}`, { code: name }, { cause: err });
}

export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const { bucket, accessKeyId, secretAccessKey } = options;
  const partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE;
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
    throw new Error(`partSizeBytes must be between 5 MiB and 5 GiB, not ${partSize}`);
  }
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    // The SDK's default CRC32 checksums (aws-chunked trailers) are refused by Ceph RGW and
    // older MinIO; we verify content ourselves with SHA-256, so send checksums only when required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  return {
    kind: 's3',

    async put(key, body, putOptions) {
      assertValidKey(key);
      const expected = expectedOf(putOptions);
      let source: Buffer | Meter;
      let measured: () => Measured;
      if (Buffer.isBuffer(body)) {
        // A whole body in hand is checked before a single byte is sent.
        const result = measureBuffer(body);
        const refused = mismatch(result, expected);
        if (refused) throw refused;
        source = body;
        measured = () => result;
      } else {
        // Upload buffers a body smaller than one part and sends it only at its end, and
        // completes a multipart upload only at its end; a Meter that fails instead of ending
        // therefore leaves nothing behind (parts already sent are aborted).
        const meter = new Meter(expected);
        pipeline(body, meter, () => undefined); // errors surface through the meter
        source = meter;
        measured = () => meter.measured;
      }
      const sha256 = Buffer.isBuffer(body) ? measured().sha256 : expected.sha256;
      const upload = new Upload({
        client,
        partSize,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
        params: {
          Bucket: bucket,
          Key: key,
          Body: source,
          ContentType: putOptions?.contentType,
          Metadata: sha256 ? { sha256 } : undefined,
        },
      });
      try {
        await upload.done();
      } catch (err) {
        // The body's own failure is the real cause. lib-storage reports the abort's error
        // instead when AbortMultipartUpload itself fails (some S3 look-alikes lack it).
        // A caller's stream that failed (a client that hung up) is passed on as it is, as fs does.
        const bodyError = source instanceof Meter ? source.errored : null;
        // Release the caller's stream (say, an HTTP request) if the upload gave up reading it.
        if (source instanceof Meter) source.destroy();
        throw bodyError ?? storeError(err, 'put', key);
      }
      return { key, ...measured() };
    },

    async get(key, range) {
      assertValidKey(key);
      assertValidRange(range);
      try {
        const out = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
          }),
        );
        if (!(out.Body instanceof Readable)) throw new Error('S3 GetObject returned no Node stream');
        return out.Body;
      } catch (err) {
        throw storeError(err, 'get', key);
      }
    },

    async head(key) {
      assertValidKey(key);
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        const sha256 = out.Metadata?.sha256;
        return {
          key,
          size: out.ContentLength ?? 0,
          sha256: sha256 && SHA256_HEX.test(sha256) ? sha256 : undefined,
          contentType: out.ContentType,
          modifiedAt: out.LastModified,
        };
      } catch (err) {
        const mapped = storeError(err, 'head', key);
        if (isHubError(mapped, 'NotFound')) return null;
        throw mapped;
      }
    },

    async delete(key) {
      assertValidKey(key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (err) {
        const mapped = storeError(err, 'delete', key);
        if (!isHubError(mapped, 'NotFound')) throw mapped;
      }
    },

    async *list(prefix) {
      assertValidPrefix(prefix);
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix === '' ? undefined : prefix,
              ContinuationToken: token,
              MaxKeys: options.listPageSize,
            }),
          );
        } catch (err) {
          throw storeError(err, 'list');
        }
        for (const object of page.Contents ?? []) {
          // Objects written by other tools under keys we would refuse are not ours to show.
          if (object.Key === undefined || !isValidKey(object.Key)) continue;
          yield { key: object.Key, size: object.Size ?? 0, modifiedAt: object.LastModified };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (err) {
        throw unavailable(`S3 bucket ${bucket} is not reachable`, { code: (err as SdkError).name }, { cause: err });
      }
    },
  };
}
