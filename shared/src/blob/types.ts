import type { Readable } from 'node:stream';

/** What the store knows of one object. */
export interface BlobInfo {
  key: string;
  size: number;
  /** Hex SHA-256 of the content, when the store recorded it at write time. */
  sha256?: string;
  contentType?: string;
  modifiedAt?: Date;
}

export interface PutOptions {
  /** Expected size in bytes; a body of another size is refused and nothing is written. */
  size?: number;
  /** Expected hex SHA-256; a body with another hash is refused and nothing is written. */
  sha256?: string;
  contentType?: string;
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. `end` omitted means to the end. */
export interface ByteRange {
  start: number;
  end?: number;
}

/**
 * The one seam between the hub and where objects live (Orthanc's "storage area").
 * Keys are `/`-separated relative paths of safe characters; a write is all or nothing and
 * replaces any object of the same key atomically.
 */
export interface BlobStore {
  readonly kind: 'fs' | 's3';
  /** Streams `body` to `key`; resolves with the size and SHA-256 actually written. */
  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<Required<Pick<BlobInfo, 'key' | 'size' | 'sha256'>>>;
  /** The content, or a byte range of it. Rejects with NotFound for a missing key, BadInput for an unsatisfiable range. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** What the store knows of `key`, or null when there is none. */
  head(key: string): Promise<BlobInfo | null>;
  /** Removes `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /** Resolves when the store can be read and written (readiness). */
  check(): Promise<void>;
}
