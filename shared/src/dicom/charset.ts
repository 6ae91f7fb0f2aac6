import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { ASCII, decodeIso2022, encodeIso2022, ISO2022_TERMS, ISO8859, REPLACEMENT, type CodeElement } from './iso2022';

/**
 * Text in the Specific Character Set (0008,0005), PS3.3 C.12.1.1.2 and PS3.5 6.1.2:
 *
 * - One term without code extensions (`ISO_IR 192`, `GB18030`, `GBK`, `ISO_IR 100`, …): the
 *   whole value is in that encoding.
 * - ISO 2022 code extensions (`ISO 2022 IR 58`, `ISO 2022 IR 6\ISO 2022 IR 58`, `\ISO 2022 IR 87`,
 *   …): escape sequences designate sets to G0 (bytes below 0x80) and G1 (bytes with the high
 *   bit set); value 1 (empty = ISO-IR 6) is the initial state, and the state returns to it at
 *   every CR, LF, FF, TAB, at `\` between values and at `^` and `=` in person names
 *   (PS3.5 6.1.2.5.3), which is why each name component re-designates GB2312 (Annex K.2).
 * - Absent, empty or `ISO_IR 6` (the default repertoire, ASCII): see `undeclaredCharsetGuess`
 *   for text that is not ASCII anyway.
 *
 * Decoding works on a whole value before it is split at `\`, `^` or `=`: in GBK and GB18030
 * the second byte of a character may be 0x5C (`\`) or 0x5E (`^`).
 */

/** Terms without code extensions, and the iconv-lite encoding of each. */
const SINGLE_TERMS: Record<string, string> = {
  'ISO_IR 192': 'utf8',
  GB18030: 'gb18030',
  GBK: 'gbk',
  'ISO_IR 13': 'shift_jis',
  'ISO_IR 100': ISO8859(1),
  'ISO_IR 101': ISO8859(2),
  'ISO_IR 109': ISO8859(3),
  'ISO_IR 110': ISO8859(4),
  'ISO_IR 144': ISO8859(5),
  'ISO_IR 127': ISO8859(6),
  'ISO_IR 126': ISO8859(7),
  'ISO_IR 138': ISO8859(8),
  'ISO_IR 148': ISO8859(9),
  'ISO_IR 203': ISO8859(15),
  'ISO_IR 166': 'tis-620',
};

/**
 * Names senders use that are not defined terms, and the term they mean. GB2312 text is valid
 * GB18030, so the GB2312 names decode as GB18030.
 */
const ALIASES: Record<string, string> = {
  UTF8: 'ISO_IR 192',
  ISOIR192: 'ISO_IR 192',
  GB2312: 'GB18030',
  GB231280: 'GB18030',
  EUCCN: 'GB18030',
  GB180302000: 'GB18030',
  GB180302005: 'GB18030',
  CP936: 'GBK',
  'ISO_IR 58': 'GB18030',
};

const DEFAULT_TERMS = new Set(['', 'ISO_IR 6', 'ISO 2022 IR 6']);

/** A defined term with spacing, case and `-`/`_` variants as found in the field made regular. */
export function normalizeTerm(raw: string): string {
  const t = raw.trim().toUpperCase().replace(/\s+/g, ' ');
  let m = /^ISO[\s_-]*2022[\s_-]*IR[\s_-]*(\d+)$/.exec(t);
  if (m) return `ISO 2022 IR ${Number(m[1])}`;
  m = /^ISO[\s_-]*IR[\s_-]*(\d+)$/.exec(t);
  const term = m ? `ISO_IR ${Number(m[1])}` : t;
  return ALIASES[term] ?? ALIASES[term.replace(/[\s_-]/g, '')] ?? term;
}

/** The declared Specific Character Set, ready to decode with. */
export class CharacterSet {
  /** The values of (0008,0005) as declared (trimmed); empty when absent. */
  readonly terms: readonly string[];
  /** Values this decoder does not know; their text is decoded by the undeclared rule. */
  readonly unknownTerms: readonly string[];
  /** `default`: no usable declaration; `single`: one encoding; `iso2022`: code extensions. */
  readonly kind: 'default' | 'single' | 'iso2022';
  /** For `single`: the iconv-lite encoding. */
  readonly encoding: string | undefined;
  /** Set when the encoding was not declared but chosen by `undeclaredCharsetGuess`. */
  readonly assumed: 'ISO_IR 192' | 'GB18030' | undefined;
  /** For `iso2022`: the state at the start of a value and after each delimiter. */
  readonly initial: { readonly g0: CodeElement; readonly g1: CodeElement | undefined };
  /** For `iso2022`: the sets the declared terms designate, in term order. */
  readonly sets: readonly CodeElement[];

  constructor(declared?: string | readonly string[], assumed?: 'ISO_IR 192' | 'GB18030') {
    const raw = declared === undefined ? [] : typeof declared === 'string' ? declared.split('\\') : [...declared];
    this.terms = raw.map((t) => t.trim());
    while (this.terms.length > 0 && this.terms[this.terms.length - 1] === '') this.terms = this.terms.slice(0, -1);
    const terms = this.terms.map(normalizeTerm);
    this.unknownTerms = this.terms.filter((_, i) => {
      const t = terms[i]!;
      return !DEFAULT_TERMS.has(t) && !(t in SINGLE_TERMS) && !(t in ISO2022_TERMS) && !(t.replace('ISO_IR', 'ISO 2022 IR') in ISO2022_TERMS);
    });
    this.assumed = assumed;
    this.encoding = undefined;
    this.initial = { g0: ASCII, g1: undefined };
    this.sets = [];
    const first = terms[0] ?? '';
    if (assumed) {
      this.kind = 'single';
      this.encoding = assumed === 'ISO_IR 192' ? 'utf8' : 'gb18030';
    } else if (terms.length <= 1 && first in SINGLE_TERMS) {
      this.kind = 'single';
      this.encoding = SINGLE_TERMS[first];
    } else if (terms.length > 1 && (first === 'ISO_IR 192' || first === 'GB18030' || first === 'GBK')) {
      // Code extensions are not allowed with these; the first value is what the sender means.
      this.kind = 'single';
      this.encoding = SINGLE_TERMS[first];
    } else {
      // Several values: `ISO_IR n` is read as its code-extension form, as senders mean it.
      const sets = terms.map((t) => ISO2022_TERMS[t.replace('ISO_IR', 'ISO 2022 IR')] ?? []);
      this.sets = sets.flat();
      if (this.sets.every((s) => s === ASCII)) {
        this.kind = 'default';
      } else {
        this.kind = 'iso2022';
        const initial = sets[0] ?? [];
        this.initial = { g0: initial.find((s) => s.target === 'G0') ?? ASCII, g1: initial.find((s) => s.target === 'G1') };
      }
    }
  }

  /** True when (0008,0005) named an encoding this decoder uses as such. */
  get declared(): boolean {
    return this.kind !== 'default' && this.assumed === undefined;
  }
}

export const characterSet = (declared?: string | readonly string[]): CharacterSet => new CharacterSet(declared);

/** A decoded value, and whether its bytes were valid in the character set. */
export interface DecodedText {
  text: string;
  valid: boolean;
  /** Set when the text was not ASCII, no character set was declared, and the rule chose one. */
  assumed?: 'ISO_IR 192' | 'GB18030';
}


/**
 * The rule for non-ASCII text in a data set that declares no character set (or only the
 * default repertoire, or an unknown one): if every such value is valid UTF-8, the data set is
 * UTF-8; otherwise it is GB18030. Undefined when all text is ASCII (no guess needed).
 *
 * Why: the default repertoire has no bytes above 0x7F, so such bytes mean the sender left out
 * (0008,0005); in this region that is a newer system writing UTF-8 or an older one writing
 * GBK/GB2312, both of which GB18030 decodes. GBK text with Chinese in it is rarely valid
 * UTF-8, and deciding for the data set, not per value, keeps one short GBK name that happens
 * to be valid UTF-8 from being read as such. The HL7 codec uses the same rule for MSH-18.
 * The readers report the choice as a warning (code `charset-undeclared`): never silent.
 */
export function undeclaredCharsetGuess(values: Iterable<Uint8Array>): 'ISO_IR 192' | 'GB18030' | undefined {
  let nonAscii = false;
  for (const v of values) {
    if (isAscii(v)) continue;
    nonAscii = true;
    if (!isUtf8(v)) return 'GB18030';
  }
  return nonAscii ? 'ISO_IR 192' : undefined;
}

function decodeSingle(bytes: Buffer, encoding: string): DecodedText {
  if (encoding === 'utf8') return { text: bytes.toString('utf8'), valid: isUtf8(bytes) };
  const text = iconv.decode(bytes, encoding);
  // U+FFFD may be a real character; only a failed round trip proves bad bytes.
  return { text, valid: !text.includes(REPLACEMENT) || iconv.encode(text, encoding).equals(bytes) };
}

/** Decodes one element value (all its values, still joined by `\`) and says if it was valid. */
export function decodeTextChecked(bytes: Uint8Array, charset: CharacterSet, vr = 'LO'): DecodedText {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (charset.kind) {
    case 'single':
      return decodeSingle(buf, charset.encoding!);
    case 'iso2022':
      return decodeIso2022(buf, charset, vr);
    default: {
      if (isAscii(buf)) return { text: buf.toString('latin1'), valid: true };
      const assumed = undeclaredCharsetGuess([buf])!;
      return { ...decodeSingle(buf, assumed === 'ISO_IR 192' ? 'utf8' : 'gb18030'), assumed };
    }
  }
}

/**
 * Decodes text bytes of an element with VR `vr` in the declared Specific Character Set
 * (a CharacterSet, or the raw value of (0008,0005)). Bytes that are not valid in it become
 * U+FFFD; use decodeTextChecked to know.
 */
export function decodeText(bytes: Uint8Array, charset?: CharacterSet | string | readonly string[], vr = 'LO'): string {
  const cs = charset instanceof CharacterSet ? charset : new CharacterSet(charset);
  return decodeTextChecked(bytes, cs, vr).text;
}

/**
 * Encodes text in the Specific Character Set, with ISO 2022 escape sequences where the
 * declaration calls for them (each name component re-designating its set, as Annex K.2 shows).
 * Throws if a character has no encoding in the declared sets.
 */
export function encodeText(text: string, charset?: CharacterSet | string | readonly string[], vr = 'LO'): Buffer {
  const cs = charset instanceof CharacterSet ? charset : new CharacterSet(charset);
  const unencodable = (ch: string) => new Error(`character ${JSON.stringify(ch)} cannot be encoded in "${cs.terms.join('\\')}"`);
  if (cs.kind === 'single') {
    const bytes = cs.encoding === 'utf8' ? Buffer.from(text, 'utf8') : iconv.encode(text, cs.encoding!);
    if (decodeSingle(bytes, cs.encoding!).text !== text) throw unencodable(text);
    return bytes;
  }
  if (cs.kind === 'default') {
    const ch = [...text].find((c) => c.codePointAt(0)! >= 0x80);
    if (ch !== undefined) throw unencodable(ch);
    return Buffer.from(text, 'latin1');
  }
  return Buffer.from(encodeIso2022(text, cs, vr, unencodable));
}
