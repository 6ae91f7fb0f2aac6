import { badInput } from '@hub/shared/errors';

/**
 * A streaming parser for a multipart body (RFC 2046 5.1), fed chunk by chunk as they arrive:
 * part content is handed on as slices of the chunks (never gathered), so a part of any size
 * passes through in constant memory. Synchronous and free of I/O, so that every way a
 * boundary can fall across chunks is testable.
 */
export type MultipartEvent =
  | { type: 'part'; headers: Map<string, string> }
  | { type: 'data'; chunk: Buffer }
  | { type: 'end-part' };

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 16 * 1024;

type State = 'preamble' | 'after-boundary' | 'headers' | 'body' | 'epilogue';

export class MultipartParser {
  /** CRLF "--" boundary: the delimiter; the one at the very start of the body has no CRLF, hence the CRLF put in front. */
  private readonly delimiter: Buffer;
  private state: State = 'preamble';
  private pending: Buffer = Buffer.from(CRLF);
  private parts = 0;

  constructor(boundary: string) {
    if (boundary.length < 1 || boundary.length > 200) throw badInput('the multipart boundary must be 1..200 characters', { code: 'invalid-boundary', location: 'Content-Type' });
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  /** Parts begun so far. */
  get partCount(): number {
    return this.parts;
  }

  /** True once the close delimiter was read. */
  get complete(): boolean {
    return this.state === 'epilogue';
  }

  push(chunk: Buffer): MultipartEvent[] {
    const events: MultipartEvent[] = [];
    if (this.state === 'epilogue') return events;
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    for (;;) {
      const rest = this.step(buf, events);
      if (rest === undefined) break;
      buf = rest;
    }
    return events;
  }

  /** The body ended: anything but a completed close delimiter is a truncated body. */
  end(): void {
    if (this.state === 'epilogue') return;
    if (this.parts === 0 && this.state === 'preamble') {
      throw badInput('the multipart body has no boundary delimiter: it is empty, or its boundary is not the one in Content-Type', { code: 'malformed-multipart' });
    }
    throw badInput('the multipart body ends before its closing boundary (truncated?)', { code: 'truncated-multipart' });
  }

  /** Consumes what it can of `buf`; returns the rest to go on with, or undefined when it needs more bytes. */
  private step(buf: Buffer, events: MultipartEvent[]): Buffer | undefined {
    switch (this.state) {
      case 'preamble':
      case 'body': {
        const at = this.findDelimiter(buf);
        if (at === -1) {
          // Keep what could be the start of a delimiter; the rest is content (or preamble).
          const keep = Math.min(buf.length, this.delimiter.length - 1);
          if (this.state === 'body' && buf.length > keep) events.push({ type: 'data', chunk: buf.subarray(0, buf.length - keep) });
          this.pending = buf.subarray(buf.length - keep);
          return undefined;
        }
        if (this.state === 'body') {
          if (at > 0) events.push({ type: 'data', chunk: buf.subarray(0, at) });
          events.push({ type: 'end-part' });
        }
        this.state = 'after-boundary';
        return buf.subarray(at + this.delimiter.length);
      }
      case 'after-boundary': {
        if (buf.length < 2) return this.wait(buf);
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          this.state = 'epilogue';
          return undefined;
        }
        // Transport padding (spaces, tabs) may follow the boundary before the CRLF.
        let i = 0;
        while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
        if (i + 2 > buf.length) return this.wait(buf);
        if (buf[i] !== 0x0d || buf[i + 1] !== 0x0a) throw badInput('a multipart boundary line is followed by something other than CRLF or "--"', { code: 'malformed-multipart' });
        this.state = 'headers';
        // Keep the CRLF: an empty header block is then just CRLF CRLF.
        return buf.subarray(i);
      }
      case 'headers': {
        const end = buf.indexOf(CRLFCRLF);
        if (end === -1) {
          if (buf.length > MAX_HEADER_BYTES) throw badInput(`a part's headers are longer than ${MAX_HEADER_BYTES} bytes`, { code: 'malformed-multipart' });
          return this.wait(buf);
        }
        this.parts++;
        events.push({ type: 'part', headers: parseHeaders(buf.subarray(2, end).toString('latin1')) });
        this.state = 'body';
        // The CRLF in front of the next delimiter belongs to the delimiter, so empty content is "CRLF CRLF" then the delimiter.
        return buf.subarray(end + 4);
      }
      case 'epilogue':
        return undefined;
    }
  }

  private wait(buf: Buffer): undefined {
    this.pending = buf;
    return undefined;
  }

  /** Any occurrence is a delimiter (RFC 2046 forbids it inside content); what follows it is checked in 'after-boundary'. */
  private findDelimiter(buf: Buffer): number {
    return buf.indexOf(this.delimiter);
  }
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of block.split('\r\n')) {
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      headers.set(last, `${headers.get(last)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw badInput('a part header line has no name', { code: 'malformed-multipart' });
    last = line.slice(0, colon).trim().toLowerCase();
    headers.set(last, line.slice(colon + 1).trim());
  }
  return headers;
}

/** A media type and its parameters (RFC 9110 8.3.1): names lower-cased, quoted values unquoted. */
export function parseMediaType(header: string): { type: string; params: Map<string, string> } {
  const semi = header.indexOf(';');
  const type = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
  const params = new Map<string, string>();
  const re = /;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))\s*/g;
  const rest = semi === -1 ? '' : header.slice(semi);
  for (let m = re.exec(rest); m; m = re.exec(rest)) params.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!);
  return { type, params };
}
