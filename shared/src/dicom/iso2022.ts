import iconv from 'iconv-lite';

/**
 * ISO 2022 code extensions as DICOM uses them (PS3.3 C.12.1.1.2, PS3.5 6.1.2.5): escape
 * sequences designate character sets to G0 (bytes below 0x80) and G1 (bytes with the high bit
 * set); the state returns to the initial one (value 1 of Specific Character Set) at CR, LF,
 * FF, TAB, at `\` between values and at `^` and `=` in person names (PS3.5 6.1.2.5.3).
 */

/** A graphic character set that ISO 2022 designates to G0 or G1. */
export interface CodeElement {
  readonly escape: string;
  readonly target: 'G0' | 'G1';
  readonly width: 1 | 2;
  /** Decodes bytes of this set as they appear in the stream. */
  decode(bytes: Buffer): string;
  /** The bytes of one character as they appear in the stream, if the set has it. */
  encode(ch: string): number[] | undefined;
}

export const REPLACEMENT = '\uFFFD';
const roundTrips = (ch: string, bytes: Buffer, encoding: string) => iconv.decode(bytes, encoding) === ch;

export const ASCII: CodeElement = {
  escape: '(B',
  target: 'G0',
  width: 1,
  decode: (b) => b.toString('latin1'),
  encode: () => undefined,
};

/**
 * JIS X 0201 Romaji (G0 of ISO 2022 IR 13): ASCII with OVERLINE for 0x7E. Its YEN SIGN at 0x5C
 * stays a backslash: DICOM uses that byte as the value delimiter in every character set.
 */
const ROMAJI: CodeElement = {
  escape: '(J',
  target: 'G0',
  width: 1,
  decode: (b) => b.toString('latin1').replace(/~/g, '\u203e'),
  encode: () => undefined,
};

/** JIS X 0201 Katakana in G1 (ISO 2022 IR 13): half-width katakana at 0xA1–0xDF. */
const KATAKANA: CodeElement = {
  escape: ')I',
  target: 'G1',
  width: 1,
  decode: (b) => Array.from(b, (x) => (x >= 0xa1 && x <= 0xdf ? String.fromCharCode(0xff61 + x - 0xa1) : REPLACEMENT)).join(''),
  encode: (ch) => {
    const cp = ch.codePointAt(0)!;
    return cp >= 0xff61 && cp <= 0xff9f ? [cp - 0xff61 + 0xa1] : undefined;
  },
};

/** The upper half of an ISO 8859 part in G1. */
function latin(escape: string, encoding: string): CodeElement {
  return {
    escape,
    target: 'G1',
    width: 1,
    decode: (b) => iconv.decode(b, encoding),
    encode: (ch) => {
      const bytes = iconv.encode(ch, encoding);
      return bytes.length === 1 && bytes[0]! >= 0xa0 && roundTrips(ch, bytes, encoding) ? [bytes[0]!] : undefined;
    },
  };
}

/**
 * A 94×94 double-byte set. `viaEncoding` is the EUC form iconv-lite knows (both bytes with
 * the high bit set); in G0 the stream has the high bits cleared, `prefix` marks JIS X 0212.
 */
function doubleByte(escape: string, target: 'G0' | 'G1', viaEncoding: string, prefix?: number): CodeElement {
  const toEuc = (b: Buffer) => {
    if (target === 'G1' && prefix === undefined) return b;
    const out: number[] = [];
    for (let i = 0; i + 1 < b.length; i += 2) {
      if (prefix !== undefined) out.push(prefix);
      out.push(b[i]! | 0x80, b[i + 1]! | 0x80);
    }
    return Buffer.from(out);
  };
  return {
    escape,
    target,
    width: 2,
    decode: (b) => iconv.decode(toEuc(b), viaEncoding),
    encode: (ch) => {
      const bytes = iconv.encode(ch, viaEncoding);
      const body = prefix === undefined ? bytes : bytes[0] === prefix ? bytes.subarray(1) : Buffer.alloc(0);
      if (body.length !== 2 || body[0]! < 0xa1 || body[1]! < 0xa1 || !roundTrips(ch, bytes, viaEncoding)) return undefined;
      return target === 'G1' ? [body[0]!, body[1]!] : [body[0]! & 0x7f, body[1]! & 0x7f];
    },
  };
}

const GB2312 = doubleByte('$)A', 'G1', 'gbk');
export const ISO8859 = (part: number) => `iso-8859-${part}`;
const LATIN: Record<number, CodeElement> = {
  100: latin('-A', ISO8859(1)),
  101: latin('-B', ISO8859(2)),
  109: latin('-C', ISO8859(3)),
  110: latin('-D', ISO8859(4)),
  144: latin('-L', ISO8859(5)),
  127: latin('-G', ISO8859(6)),
  126: latin('-F', ISO8859(7)),
  138: latin('-H', ISO8859(8)),
  148: latin('-M', ISO8859(9)),
  203: latin('-b', ISO8859(15)),
  166: latin('-T', 'tis-620'),
};

/** The code elements each ISO 2022 defined term designates (PS3.3 Tables C.12-3 and C.12-4). */
export const ISO2022_TERMS: Record<string, readonly CodeElement[]> = {
  'ISO 2022 IR 6': [ASCII],
  'ISO 2022 IR 13': [ROMAJI, KATAKANA],
  'ISO 2022 IR 87': [doubleByte('$B', 'G0', 'euc-jp')],
  'ISO 2022 IR 159': [doubleByte('$(D', 'G0', 'euc-jp', 0x8f)],
  'ISO 2022 IR 149': [doubleByte('$)C', 'G1', 'euc-kr')],
  'ISO 2022 IR 58': [GB2312],
  ...Object.fromEntries(Object.entries(LATIN).map(([ir, set]) => [`ISO 2022 IR ${ir}`, [ASCII, set]])),
};

/** Every escape sequence the decoder understands; `$A` (GB2312 to G0) is not DICOM but is sent. */
const BY_ESCAPE = new Map<string, CodeElement>(
  [...Object.values(ISO2022_TERMS).flat(), doubleByte('$A', 'G0', 'gbk')].map((set) => [set.escape, set]),
);

/** The state at the start of a value and after each delimiter, and the sets declared. */
export interface Iso2022State {
  readonly initial: { readonly g0: CodeElement; readonly g1: CodeElement | undefined };
  readonly sets: readonly CodeElement[];
}

const CONTROL_DELIMITERS = [0x09, 0x0a, 0x0c, 0x0d];
export function delimitersOf(vr: string): ReadonlySet<number> {
  const d = [...CONTROL_DELIMITERS];
  if (vr !== 'LT' && vr !== 'ST' && vr !== 'UT') d.push(0x5c);
  if (vr === 'PN') d.push(0x5e, 0x3d);
  return new Set(d);
}

/** Decodes a value; `valid` is false if an escape or byte was not understood. */
export function decodeIso2022(bytes: Buffer, cs: Iso2022State, vr: string): { text: string; valid: boolean } {
  const delimiters = delimitersOf(vr);
  // GR bytes with nothing designated to G1: the sender left out the escape sequence; use the
  // first G1 set the declaration names (e.g. GB2312 for `\ISO 2022 IR 58`).
  const fallbackG1 = cs.sets.find((s) => s.target === 'G1');
  let { g0, g1 } = cs.initial;
  let valid = true;
  let text = '';
  let run: number[] = [];
  let runSet: CodeElement = ASCII;
  const flush = () => {
    if (run.length === 0) return;
    const part = runSet.decode(Buffer.from(run));
    if (part.includes(REPLACEMENT)) valid = false;
    text += part;
    run = [];
  };
  const emit = (set: CodeElement, ...b: number[]) => {
    if (set !== runSet) {
      flush();
      runSet = set;
    }
    run.push(...b);
  };
  const bad = () => {
    flush();
    text += REPLACEMENT;
    valid = false;
  };

  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === 0x1b) {
      let j = i + 1;
      while (j < bytes.length && bytes[j]! >= 0x20 && bytes[j]! <= 0x2f) j++;
      if (j >= bytes.length) {
        valid = false;
        break;
      }
      const set = BY_ESCAPE.get(bytes.subarray(i + 1, j + 1).toString('latin1'));
      if (!set) valid = false;
      else if (set.target === 'G0') g0 = set;
      else g1 = set;
      i = j + 1;
    } else if (b < 0x21 || b === 0x7f) {
      // Controls and SPACE are single bytes whatever is designated.
      emit(ASCII, b);
      i++;
      if (delimiters.has(b)) ({ g0, g1 } = cs.initial);
    } else if (b < 0x80) {
      if (g0.width === 1) {
        emit(g0, b);
        i++;
        if (delimiters.has(b)) ({ g0, g1 } = cs.initial);
      } else if (i + 1 < bytes.length && bytes[i + 1]! >= 0x21 && bytes[i + 1]! < 0x7f) {
        emit(g0, b, bytes[i + 1]!);
        i += 2;
      } else {
        bad();
        i++;
      }
    } else {
      const set = g1 ?? fallbackG1;
      if (!set) {
        bad();
        i++;
      } else if (set.width === 1) {
        emit(set, b);
        i++;
      } else if (i + 1 < bytes.length && bytes[i + 1]! >= 0x80) {
        emit(set, b, bytes[i + 1]!);
        i += 2;
      } else {
        bad();
        i++;
      }
    }
  }
  flush();
  return { text, valid };
}

/** Encodes text with the escape sequences the state calls for; `unencodable` makes the error. */
export function encodeIso2022(text: string, cs: Iso2022State, vr: string, unencodable: (ch: string) => Error): number[] {
  const delimiters = delimitersOf(vr);
  const out: number[] = [];
  const designate = (set: CodeElement) => out.push(0x1b, ...Buffer.from(set.escape, 'latin1'));
  let { g0, g1 } = cs.initial;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      if (g0.width === 2) designate((g0 = cs.initial.g0.width === 1 ? cs.initial.g0 : ASCII));
      out.push(cp);
      if (delimiters.has(cp)) ({ g0, g1 } = cs.initial);
      continue;
    }
    let done = false;
    for (const set of cs.sets) {
      const bytes = set.encode(ch);
      if (!bytes) continue;
      if (set.target === 'G0' && g0 !== set) designate((g0 = set));
      if (set.target === 'G1' && g1 !== set) designate((g1 = set));
      out.push(...bytes);
      done = true;
      break;
    }
    if (!done) throw unencodable(ch);
  }
  if (g0 !== cs.initial.g0) designate(cs.initial.g0);
  return out;
}
