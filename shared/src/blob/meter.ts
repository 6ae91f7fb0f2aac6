import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { badInput } from '../errors';
import type { PutOptions } from './types';

/** What a put promised about its body; checked before anything becomes visible. */
export interface Expected {
  size?: number;
  sha256?: string;
}

export interface Measured {
  size: number;
  sha256: string;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** Validates the promises in `options`, so a typo in a hash is BadInput rather than a mismatch later. */
export function expectedOf(options: PutOptions | undefined): Expected {
  const expected: Expected = {};
  if (options?.size !== undefined) {
    if (!Number.isSafeInteger(options.size) || options.size < 0) {
      throw badInput(`expected size ${options.size} is not a byte count`, { code: 'invalid-expected-size' });
    }
    expected.size = options.size;
  }
  if (options?.sha256 !== undefined) {
    if (!SHA256_HEX.test(options.sha256)) {
      throw badInput('expected SHA-256 is not 64 hex digits', { code: 'invalid-expected-sha256' });
    }
    expected.sha256 = options.sha256.toLowerCase();
  }
  return expected;
}

/** The BadInput for a body that broke its promise, or null when it kept it. */
export function mismatch(measured: Measured, expected: Expected): Error | null {
  if (expected.size !== undefined && measured.size !== expected.size) {
    return badInput(`body is ${measured.size} bytes, expected ${expected.size}`, { code: 'size-mismatch' });
  }
  if (expected.sha256 !== undefined && measured.sha256 !== expected.sha256) {
    return badInput(`body SHA-256 is ${measured.sha256}, expected ${expected.sha256}`, { code: 'sha256-mismatch' });
  }
  return null;
}

export function measureBuffer(body: Buffer): Measured {
  return { size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

/**
 * Passes a body through while hashing and counting it. A body that breaks its promise makes
 * the stream fail — as soon as it is too long, otherwise instead of ending — so whatever
 * consumes it (a temp file, a buffered S3 part, a multipart upload) never completes.
 */
export class Meter extends Transform {
  // True private fields, not TS `private`: lib-storage guesses a body's length from any
  // `size` or `length` property it finds, and a visible `size = 0` made it expect 0 parts.
  readonly #hash = createHash('sha256');
  readonly #expected: Expected;
  #bytes = 0;
  #result: Measured | null = null;

  constructor(expected: Expected) {
    super();
    this.#expected = expected;
  }

  /** Size and hash of the whole body; only once the stream has ended without error. */
  get measured(): Measured {
    if (!this.#result) throw new Error('Meter.measured read before the body ended');
    return this.#result;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#bytes += chunk.length;
    const { size } = this.#expected;
    if (size !== undefined && this.#bytes > size) {
      done(badInput(`body is longer than the expected ${size} bytes`, { code: 'size-mismatch' }));
      return;
    }
    this.#hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const measured = { size: this.#bytes, sha256: this.#hash.digest('hex') };
    const error = mismatch(measured, this.#expected);
    if (error) {
      done(error);
      return;
    }
    this.#result = measured;
    done();
  }
}
