/** Where objects live: one BlobStore seam, a filesystem and an S3 driver behind it. */
export type { BlobInfo, BlobStore, ByteRange, PutOptions } from './types';
export { createFsBlobStore, type FsBlobStoreOptions } from './fs';
export { createS3BlobStore, type S3BlobStoreOptions } from './s3';
export { assertValidKey, blobKeyFor, isValidKey, MAX_KEY_LENGTH } from './keys';
