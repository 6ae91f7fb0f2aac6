import { createHash } from 'node:crypto';
import { createIndexWorker, indexBatchHandlers, indexHandlers } from '@hub/index';
import { parseInstanceHeader } from '@hub/shared/dicom';
import { findOrganization, createOrganization } from '@hub/shared/org';
import { testLogger } from '@hub/shared/testing';
import type { Hub } from '@hub/shared/runtime';

/**
 * For viewer-api's tests only: puts real Part-10 instances where a door would (blob store,
 * accepted_objects with the header summary) and runs the real index worker over them, so
 * DICOMweb and FHIR are tested against the index exactly as production builds it.
 */
export async function indexInstances(hub: Hub, organizationCode: string, files: Buffer[], summaryPatch: Record<string, unknown> = {}): Promise<void> {
  const org = (await findOrganization(hub.db, organizationCode)) ?? (await createOrganization(hub.db, { code: organizationCode, name: `${organizationCode} (test)`, kind: 'hospital' }));
  for (const bytes of files) {
    const { warnings: _w, pixelData, ...header } = parseInstanceHeader(bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const key = `dicom/${header.studyInstanceUid}/${header.sopInstanceUid}/${sha256}.dcm`;
    await hub.blob.put(key, bytes);
    const summary = { ...header, warnings: [], ...(pixelData ? { pixelData: { offset: pixelData.offset, length: pixelData.length, encapsulated: pixelData.encapsulated } } : {}), ...summaryPatch };
    await hub.db('accepted_objects').insert({ kind: 'dicom', organization_id: org.id, identity: header.sopInstanceUid, sha256, size: bytes.length, blob_key: key, source: 'test', summary: JSON.stringify(summary) });
  }
  const worker = createIndexWorker({ db: hub.db, databaseUrl: hub.databaseUrl, ctx: { blob: hub.blob, log: testLogger(), idHashSecret: hub.idHashSecret }, handlers: indexHandlers, batchHandlers: indexBatchHandlers, loops: 1, batchSize: 100, pollMs: 60_000 });
  await worker.drain();
  const failed = await hub.db('accepted_objects').where({ state: 'failed' }).select('error');
  if (failed.length > 0) throw new Error(`indexing failed: ${failed.map((f) => f.error).join('; ')}`);
}

/** A multipart/related body split into its parts (RFC 2046), as a client reads it. */
export function parseMultipart(body: Buffer, contentType: string): Array<{ headers: Record<string, string>; body: Buffer }> {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: Record<string, string>; body: Buffer }> = [];
  let at = body.indexOf(delimiter);
  if (at !== 0) throw new Error('the body does not start with the boundary');
  for (;;) {
    const after = at + delimiter.length;
    if (body.subarray(after, after + 2).toString() === '--') {
      if (body.subarray(after + 2).toString() !== '\r\n') throw new Error('bytes after the closing boundary');
      return parts;
    }
    const headersEnd = body.indexOf('\r\n\r\n', after);
    const headers = Object.fromEntries(
      body
        .subarray(after + 2, headersEnd)
        .toString('latin1')
        .split('\r\n')
        .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd + 4);
    if (next === -1) throw new Error('a part is not closed by a boundary');
    parts.push({ headers, body: body.subarray(headersEnd + 4, next) });
    at = next + 2;
  }
}
