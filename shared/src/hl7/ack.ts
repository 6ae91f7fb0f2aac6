import { isHubError } from '../errors';
import { msh2Of, STANDARD_ENCODING, type EncodingCharacters } from './delimiters';
import { encodeMessage, fieldInput, repeat, type FieldInput, type RepetitionInput, type SegmentInput } from './encode';
import { parseLocation, type Location, type Message } from './message';

/** Original-mode acknowledgment codes: accepted, application error, rejected. */
export type AckCode = 'AA' | 'AE' | 'AR';
/** HL7 table 0516. */
export type ErrorSeverity = 'E' | 'W' | 'I';

/** HL7 table 0357, the codes an ERR segment carries. */
export const HL7_ERROR_CODES: Readonly<Record<number, string>> = {
  0: 'Message accepted',
  100: 'Segment sequence error',
  101: 'Required field missing',
  102: 'Data type error',
  103: 'Table value not found',
  104: 'Value too long',
  200: 'Unsupported message type',
  201: 'Unsupported event code',
  202: 'Unsupported processing id',
  203: 'Unsupported version id',
  204: 'Unknown key identifier',
  205: 'Duplicate key identifier',
  206: 'Application record locked',
  207: 'Application internal error',
};

export interface AckError {
  /** Where, as `PID-3`, `PID-3[2].1` or `OBX[2]-5`; unreadable locations are left out. */
  location?: string;
  /** HL7 table 0357 code, e.g. 101 required field missing. */
  code: number;
  /** For people; must hold no patient data (it ends up in the sender's logs). */
  message?: string;
  severity?: ErrorSeverity;
  /** Our own code (HubError detail.code), sent in ERR-5 (v2.5+). */
  applicationCode?: string;
}

export interface AckOptions {
  code: AckCode;
  /** MSH-10 of the ACK itself. */
  controlId: string;
  /** MSA-3; defaults to the first error's message. */
  text?: string;
  errors?: readonly AckError[];
  /** MSH-7; defaults to now. */
  now?: Date;
  /**
   * Offset written in MSH-7, default +08:00. Many LIS ignore the offset and read the time
   * as local, so the hub answers in China Standard Time even from a UTC container.
   */
  utcOffsetMinutes?: number;
}

/** What an ACK copies from the message it answers. */
interface Answered {
  encoding: EncodingCharacters;
  /** Original MSH-3…6, in that order. */
  parties: readonly [FieldInput, FieldInput, FieldInput, FieldInput];
  controlId: FieldInput;
  trigger?: string;
  processingId: FieldInput;
  version: FieldInput;
  versionId: string;
  charset?: FieldInput;
}

/**
 * The ACK for a parsed message, as text with the original's delimiters (and MSH-18, so it
 * is to be sent in `original.charset`, e.g. `encodeText(ack, original.charset)`).
 * Sender and receiver are swapped; MSH-11/12 are copied; errors are written as ERR
 * segments in the style of the message's version (ERR-2/ERR-3 from v2.5, ERR-1 before).
 */
export function buildAck(original: Message, options: AckOptions): string {
  const msh = original.msh;
  const copy = (n: number): FieldInput => fieldInput(msh.field(n));
  return renderAck(
    {
      encoding: original.encoding,
      parties: [copy(3), copy(4), copy(5), copy(6)],
      controlId: copy(10),
      ...(original.messageType.trigger === undefined ? {} : { trigger: original.messageType.trigger }),
      processingId: msh.field(11).length > 0 ? copy(11) : 'P',
      version: copy(12),
      versionId: original.version,
      ...(msh.field(18).length > 0 ? { charset: copy(18) } : {}),
    },
    options,
  );
}

const PRINTABLE = /^[\x20-\x7E]*$/;

/**
 * A best-effort AR for bytes that did not parse: whatever of MSH can still be read as
 * ASCII is echoed (sender, control id, version), written with standard delimiters and no
 * MSH-18, so the sender learns which message failed even when its delimiters were the problem.
 */
export function buildAckForUnparseable(input: Buffer | string, options: Omit<AckOptions, 'code'>): string {
  const text = (typeof input === 'string' ? input : input.toString('latin1')).replace(/^\uFEFF?\s*/, '');
  const line = text.slice(0, text.search(/[\r\n]|$/));
  const sep = line[3];
  const readable = line.startsWith('MSH') && sep !== undefined && /[!-/:-@[-`{-~]/.test(sep);
  const parts = readable ? line.split(sep) : [];
  const componentSep = parts[1]?.[0] ?? '^';
  const escapeChar = parts[1]?.[2];
  // MSH-n is parts[n-1]; take the first component, and only if it is plain ASCII.
  const pick = (n: number, pattern = PRINTABLE): string | null => {
    const v = (parts[n - 1] ?? '').split(componentSep)[0]!;
    return v !== '' && pattern.test(v) && (escapeChar === undefined || !v.includes(escapeChar)) ? v : null;
  };
  const versionId = pick(12, /^2\.\d+(?:\.\d+)*$/) ?? '2.5.1';
  const trigger = (parts[8] ?? '').split(componentSep)[1];
  const answered: Answered = {
    encoding: STANDARD_ENCODING,
    parties: [pick(3), pick(4), pick(5), pick(6)],
    controlId: pick(10),
    processingId: pick(11, /^[DPT]$/) ?? 'P',
    version: versionId,
    versionId,
  };
  if (trigger !== undefined && /^[A-Z0-9]{3}$/.test(trigger)) answered.trigger = trigger;
  const reason = options.text ?? options.errors?.find((e) => e.message)?.message ?? 'message could not be parsed';
  return renderAck(answered, { ...options, text: reason, code: 'AR' });
}

/**
 * The ACK error for a failure raised while reading a message. Only HubError messages are
 * echoed: they are written to hold no patient data, while any other error is a bug whose
 * text stays in our own logs.
 */
export function ackErrorFromHubError(err: unknown): AckError {
  if (!isHubError(err)) return { code: 207, message: 'application internal error' };
  const byCode: Record<string, number> = {
    'missing-msh': 100,
    'unexpected-msh': 100,
    'missing-field': 101,
    'unsupported-version': 203,
  };
  const fallback = err.kind === 'Unsupported' ? 200 : err.kind === 'BadInput' || err.kind === 'TooLarge' ? 102 : 207;
  const error: AckError = { code: byCode[err.detail.code ?? ''] ?? fallback, message: err.message };
  if (err.detail.location !== undefined) error.location = err.detail.location;
  if (err.detail.code !== undefined) error.applicationCode = err.detail.code;
  return error;
}

function renderAck(a: Answered, options: AckOptions): string {
  const errors = options.errors ?? [];
  const text = options.text ?? errors.find((e) => e.message)?.message;
  const [sendingApp, sendingFacility, receivingApp, receivingFacility] = a.parties;
  const type = versionAtLeast(a.versionId, [2, 3, 1]) ? ['ACK', a.trigger, 'ACK'] : ['ACK', a.trigger];
  const now = options.now ?? new Date();
  const segments: SegmentInput[] = [
    ['MSH', a.encoding.field, msh2Of(a.encoding), receivingApp, receivingFacility, sendingApp, sendingFacility,
      timestamp(now, options.utcOffsetMinutes ?? 480), null, type, options.controlId, a.processingId, a.version,
      null, null, null, null, null, a.charset],
    ['MSA', options.code, a.controlId, text],
  ];
  if (errors.length > 0) {
    if (versionAtLeast(a.versionId, [2, 5])) segments.push(...errors.map(errSegmentV25));
    else segments.push(['ERR', repeat(...errors.map(errorLocationV23))]);
  }
  return encodeMessage(segments, { encoding: a.encoding });
}

/** v2.5+: ERR-2 location (ERL), ERR-3 code (CWE), ERR-4 severity, ERR-5 our code, ERR-8 text. */
function errSegmentV25(e: AckError): SegmentInput {
  const l = locationOf(e.location);
  const erl = l ? [l.segment, l.occurrence ?? 1, l.field, l.repetition, l.component, l.subcomponent] : null;
  return ['ERR', null, erl, [e.code, HL7_ERROR_CODES[e.code], 'HL70357'], e.severity ?? 'E', e.applicationCode, null, null, e.message];
}

/** v2.3/2.4: one ERR whose repeating ERR-1 (ELD) is segment^sequence^field^code&text&table. */
function errorLocationV23(e: AckError): RepetitionInput {
  const l = locationOf(e.location);
  return [l?.segment, l ? (l.occurrence ?? 1) : null, l?.field, [e.code, HL7_ERROR_CODES[e.code], 'HL70357']];
}

function locationOf(location: string | undefined): Partial<Location> & { segment: string } | undefined {
  if (location === undefined) return undefined;
  if (/^[A-Z][A-Z0-9]{2}$/.test(location)) return { segment: location };
  try {
    return parseLocation(location);
  } catch {
    return undefined; // e.g. "segment 4": the message still goes out, without ERR-2
  }
}

/** Compares `2.5.1` with [2, 5]: missing parts count as 0. */
export function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < min.length; i++) {
    const v = parts[i] ?? 0;
    if (v !== min[i]) return v > min[i]!;
  }
  return true;
}

function timestamp(now: Date, offsetMinutes: number): string {
  const local = new Date(now.getTime() + offsetMinutes * 60_000).toISOString();
  const abs = Math.abs(offsetMinutes);
  const zone = `${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return local.slice(0, 19).replace(/[-T:]/g, '') + zone;
}
