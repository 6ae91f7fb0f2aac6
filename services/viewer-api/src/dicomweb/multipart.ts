import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { Response } from 'express';

/** One part of a multipart/related answer; its body is opened only when it is its turn. */
export interface Part {
  headers: Record<string, string>;
  open(): Promise<Readable>;
}

/** Writes `chunk`, waiting while the client is slower than the store; false when the client left. */
export async function write(res: Response, chunk: Buffer | string): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.write(chunk)) {
    await Promise.race([once(res, 'drain'), once(res, 'close')]);
  }
  return !res.destroyed;
}

async function pipePart(res: Response, body: Readable): Promise<boolean> {
  try {
    for await (const chunk of body) if (!(await write(res, chunk as Buffer))) return false;
    return true;
  } finally {
    body.destroy();
  }
}

/**
 * Streams parts as multipart/related (RFC 2387) one after the other, each straight from the
 * blob store with backpressure: a study is never held in memory. The first part is opened
 * before the status line is sent, so a missing object is still a proper error; a failure
 * later can only cut the response short (the client sees no closing boundary).
 */
export async function sendMultipart(res: Response, partType: string, parts: Part[], extraHeaders: Record<string, string> = {}): Promise<void> {
  const boundary = `hub-${randomBytes(12).toString('hex')}`;
  let body = parts.length > 0 ? await parts[0]!.open() : undefined;
  res.status(200);
  res.setHeader('Content-Type', `multipart/related; type="${partType}"; boundary=${boundary}`);
  for (const [name, value] of Object.entries(extraHeaders)) res.setHeader(name, value);
  for (let i = 0; i < parts.length; i++) {
    const head = Object.entries(parts[i]!.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    if (!(await write(res, `--${boundary}\r\n${head}\r\n`))) {
      body?.destroy();
      return;
    }
    body ??= await parts[i]!.open();
    const ok = await pipePart(res, body);
    body = undefined;
    if (!ok || !(await write(res, '\r\n'))) return;
  }
  await write(res, `--${boundary}--\r\n`);
  res.end();
}

/** Streams one object as the whole body (a single-part answer). */
export async function sendSingle(res: Response, contentType: string, part: Part): Promise<void> {
  const body = await part.open();
  res.status(200).setHeader('Content-Type', contentType);
  if (part.headers['Content-Length']) res.setHeader('Content-Length', part.headers['Content-Length']);
  if (await pipePart(res, body)) res.end();
}
