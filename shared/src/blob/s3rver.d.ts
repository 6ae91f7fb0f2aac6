/** The part of s3rver (a dev dependency, shipped without types) that the S3 driver's tests use. */
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  /** The S3 event notification s3rver emits after each write it stored. */
  interface S3rverEvent {
    Records: { eventName: string; s3: { object: { key: string; size?: number; eTag?: string } } }[];
  }

  class S3rver {
    constructor(options?: S3rverOptions);
    on(event: 'event', listener: (event: S3rverEvent) => void): this;
    off(event: 'event', listener: (event: S3rverEvent) => void): this;
    /** Resolves with the bound address; `port: 0` picks a free port. */
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }

  export = S3rver;
}
