import iconv from 'iconv-lite';
import { badInput } from '../errors';
import { charsetFromName, decodeText, detectCharset, type Charset, type CharsetSource } from './charset';
import { encodingCharactersFrom, type EncodingCharacters } from './delimiters';
import { unescapeValue, type HexDecoder } from './escape';
import { Message, Segment, type Field } from './message';

export interface ParseOptions {
  /**
   * Decode with this charset whatever MSH-18 says (an MSH-18 style name such as `GBK`),
   * for a sender known to mislabel its messages. Configured per sender, never guessed.
   */
  charset?: string;
  /** Charset for messages with an empty or ASCII MSH-18, instead of the detection rule. */
  defaultCharset?: string;
}

const SEGMENT_NAME = /^[A-Z][A-Z0-9]{2}$/;
const VERSION = /^2\.\d+(?:\.\d+)*$/;

/**
 * Parses one HL7 v2 message (v2.3–2.5.1; later 2.x read the same way).
 *
 * Bytes are decoded as a whole before any splitting, because GB18030 and Big5 use
 * 0x40–0x7E as second bytes — a Chinese character can contain the byte of `|` or `\`.
 * Which charset to use is in MSH-18, inside the message, so the first line is read as
 * Latin-1 first to find it, then confirmed from the decoded text.
 *
 * Throws BadInput (`detail.location`, `detail.code`) for: no MSH first (`missing-msh`),
 * bad MSH-1/MSH-2 (`bad-encoding-characters`), an MSH-18 we cannot decode
 * (`unknown-charset`, `charset-mismatch`), a line that is not a segment
 * (`bad-segment-name`), a second MSH (`unexpected-msh`), MSH-9/10/12 empty
 * (`missing-field`) or a version that is not 2.x (`unsupported-version`).
 * Content rules (is PID-3 present? is OBX-5 a number?) are the caller's.
 */
export function parseMessage(input: Buffer | string, options: ParseOptions = {}): Message {
  if (typeof input === 'string') {
    const text = skipLeadingBlank(input);
    const { encoding, msh18 } = readHeader(firstLine(text));
    const chosen = chooseCharset(msh18, options, undefined);
    return build(text, encoding, chosen.charset, chosen.source);
  }

  const bytes = skipLeadingBlankBytes(input);
  const head = bytes.subarray(0, lineEnd(bytes)).toString('latin1');
  const { encoding, msh18 } = readHeader(head);
  // A Chinese name in MSH-3…17 may shift the Latin-1 split; then the first guess is the
  // detection rule, and the decoded MSH-18 below has the last word.
  let chosen = safeChoose(msh18, options, bytes);
  for (let attempt = 0; ; attempt++) {
    const text = decodeText(bytes, chosen.charset);
    if (options.charset !== undefined) return build(text, encoding, chosen.charset, chosen.source);
    const confirmed = chooseCharset(readHeader(firstLine(text)).msh18, options, bytes);
    if (confirmed.charset === chosen.charset) return build(text, encoding, chosen.charset, chosen.source);
    if (attempt > 0) {
      throw badInput('MSH-18 does not describe the bytes of the message', { location: 'MSH-18', code: 'charset-mismatch' });
    }
    chosen = confirmed;
  }
}

interface Chosen {
  charset: Charset;
  source: CharsetSource;
}

function chooseCharset(msh18: string, options: ParseOptions, bytes: Buffer | undefined): Chosen {
  // A JS string has no bytes to inspect; \X..\ escapes in it are read as UTF-8.
  const detect = (source: CharsetSource): Chosen => ({ charset: bytes ? detectCharset(bytes) : 'utf8', source });
  if (options.charset !== undefined) {
    const forced = charsetFromName(options.charset, 'options.charset');
    return forced === 'detect' ? detect('override') : { charset: forced, source: 'override' };
  }
  const declared = charsetFromName(msh18);
  if (declared !== 'detect') return { charset: declared, source: 'msh-18' };
  if (options.defaultCharset !== undefined) {
    const fallback = charsetFromName(options.defaultCharset, 'options.defaultCharset');
    return fallback === 'detect' ? detect('detected') : { charset: fallback, source: 'default' };
  }
  return bytes ? detect('detected') : { charset: 'utf8', source: 'default' };
}

function safeChoose(msh18: string, options: ParseOptions, bytes: Buffer): Chosen {
  try {
    return chooseCharset(msh18, options, bytes);
  } catch (err) {
    if (options.charset !== undefined) throw err;
    return chooseCharset('', options, bytes);
  }
}

/** Delimiters and MSH-18 (first repetition, first component) from the MSH line. */
function readHeader(line: string): { encoding: EncodingCharacters; msh18: string } {
  if (!line.startsWith('MSH')) {
    const found = line.slice(0, 3).replace(/[^A-Z0-9]/g, '?');
    throw badInput(`an HL7 message must start with an MSH segment (found "${found}")`, { location: 'MSH', code: 'missing-msh' });
  }
  const sep = line[3];
  const msh2End = sep === undefined ? -1 : line.indexOf(sep, 4);
  const encoding = encodingCharactersFrom(sep, line.slice(4, msh2End < 0 ? undefined : msh2End));
  const msh18 = line.split(encoding.field)[17] ?? '';
  return { encoding, msh18: msh18.split(encoding.repetition)[0]!.split(encoding.component)[0]!.trim() };
}

function build(text: string, encoding: EncodingCharacters, charset: Charset, source: CharsetSource): Message {
  const hex: HexDecoder = (b) => (charset === 'utf8' ? b.toString('utf8') : iconv.decode(b, charset));
  // CR is the terminator; CRLF and LF (Windows/Unix LIS) are accepted. When the message has
  // CRs, a lone LF is text inside a value, not a segment break.
  const lines = text.includes('\r') ? text.split(/\r\n?/) : text.split('\n');
  const segments: Segment[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    // Errors name the segment by its position (blank lines not counted), never by content.
    const position = segments.length + 1;
    const seg = parseSegment(line, encoding, hex, position);
    if (seg.name === 'MSH' && position > 1) {
      throw badInput('a second MSH segment: one message per frame', { location: `segment ${position}`, code: 'unexpected-msh' });
    }
    segments.push(seg);
  }
  const message = new Message(segments, { encoding, charset, charsetSource: source });
  checkHeader(message);
  return message;
}

function parseSegment(line: string, enc: EncodingCharacters, hex: HexDecoder, position: number): Segment {
  const name = line.slice(0, 3);
  if (!SEGMENT_NAME.test(name) || (line.length > 3 && line[3] !== enc.field)) {
    // The line itself may be patient text (an unescaped line break in a report), so only
    // its position is reported.
    throw badInput(`segment ${position} does not start with a 3-character segment name and "${enc.field}"`, {
      location: `segment ${position}`,
      code: 'bad-segment-name',
    });
  }
  const parts = line.split(enc.field);
  const leaf = (v: string): string => unescapeValue(v, enc, hex);
  const parseField = (text: string): Field =>
    text === '' ? [] : text.split(enc.repetition).map((r) => r.split(enc.component).map((c) => c.split(enc.subcomponent).map(leaf)));
  const fields: Field[] = [[[[name]]]];
  if (name === 'MSH') fields.push([[[enc.field]]], [[[parts[1] ?? '']]], ...parts.slice(2).map(parseField));
  else fields.push(...parts.slice(1).map(parseField));
  return new Segment(name, fields);
}

/** The fields without which the message cannot be understood or answered. */
function checkHeader(message: Message): void {
  const msh = message.msh;
  for (const [n, what] of [
    [9, 'message type'],
    [10, 'message control id'],
    [12, 'version id'],
  ] as const) {
    if (msh.value(n) === undefined) {
      throw badInput(`MSH-${n} (${what}) is required`, { location: `MSH-${n}`, code: 'missing-field' });
    }
  }
  if (!VERSION.test(message.version)) {
    // Echoed only when it looks like a version: a mangled MSH may hold patient text here.
    const shown = /^[0-9A-Za-z.]{1,10}$/.test(message.version) ? ` "${message.version}"` : '';
    throw badInput(`MSH-12 version${shown} is not HL7 v2.x`, { location: 'MSH-12', code: 'unsupported-version' });
  }
}

function firstLine(text: string): string {
  const end = text.search(/[\r\n]/);
  return end < 0 ? text : text.slice(0, end);
}

function lineEnd(bytes: Buffer): number {
  const cr = bytes.indexOf(0x0d);
  const lf = bytes.indexOf(0x0a);
  if (cr < 0) return lf < 0 ? bytes.length : lf;
  return lf < 0 ? cr : Math.min(cr, lf);
}

// A BOM or blank lines before MSH come from files saved by Windows tools; tolerated.
function skipLeadingBlank(text: string): string {
  return text.replace(/^\uFEFF?[\s]*/, '');
}

function skipLeadingBlankBytes(bytes: Buffer): Buffer {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && (bytes[i] === 0x0d || bytes[i] === 0x0a || bytes[i] === 0x20 || bytes[i] === 0x09)) i++;
  return i === 0 ? bytes : bytes.subarray(i);
}
