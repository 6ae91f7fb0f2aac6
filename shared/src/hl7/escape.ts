import type { EncodingCharacters } from './delimiters';

/** Turns the bytes of a `\X..\` escape into text in the message's character set. */
export type HexDecoder = (bytes: Buffer) => string;

const HEX = /^X((?:[0-9A-Fa-f]{2})+)$/;
const SKIP_LINES = /^\.sp\s*\+?(\d*)$/;
// Formatted-text (FT) layout hints that carry no words: dropped like \H\ and \N\.
const LAYOUT_ONLY = /^\.(?:fi|nf|in\s*[+-]?\d*|ti\s*[+-]?\d*|sk\s*\+?\d*)$/;

/**
 * Decodes the escape sequences of one leaf value (a sub-component), after the value has
 * been split on delimiters — escaped delimiters only become delimiter characters here.
 *
 * Unknown or unterminated sequences are kept literally: a sloppy sender's `C:\temp\x` must
 * reach the index as sent rather than be silently altered.
 */
export function unescapeValue(text: string, enc: EncodingCharacters, decodeHex: HexDecoder): string {
  const esc = enc.escape;
  if (!text.includes(esc)) return text;
  let out = '';
  // Consecutive \X..\ sequences are joined before decoding: a sender may split one
  // multi-byte character over two of them.
  let pendingHex = '';
  const flushHex = (): void => {
    if (pendingHex) out += decodeHex(Buffer.from(pendingHex, 'hex'));
    pendingHex = '';
  };
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf(esc, i);
    if (start < 0) {
      flushHex();
      out += text.slice(i);
      break;
    }
    if (start > i) {
      flushHex();
      out += text.slice(i, start);
    }
    const end = text.indexOf(esc, start + 1);
    if (end < 0) {
      flushHex();
      out += text.slice(start);
      break;
    }
    const body = text.slice(start + 1, end);
    const hex = HEX.exec(body);
    if (hex) {
      pendingHex += hex[1];
    } else {
      flushHex();
      out += decodeSequence(body, enc) ?? esc + body + esc;
    }
    i = end + 1;
  }
  flushHex();
  return out;
}

function decodeSequence(body: string, enc: EncodingCharacters): string | undefined {
  switch (body) {
    case 'F':
      return enc.field;
    case 'S':
      return enc.component;
    case 'T':
      return enc.subcomponent;
    case 'R':
      return enc.repetition;
    case 'E':
      return enc.escape;
    case 'H':
    case 'N':
      return ''; // highlighting on/off: a display hint, not content
    case '.br':
    case '.ce':
      return '\n';
  }
  const skip = SKIP_LINES.exec(body);
  if (skip) return '\n'.repeat(Math.max(1, Number(skip[1] || '1')));
  if (LAYOUT_ONLY.test(body)) return '';
  return undefined;
}

/**
 * Escapes a value so it survives as one leaf: delimiters become \F\ \S\ \T\ \R\ \E\, line
 * breaks become \.br\ (a raw CR would end the segment), and other control characters
 * become \Xhh\ so that no value can break MLLP framing (0x0B, 0x1C).
 */
export function escapeValue(value: string, enc: EncodingCharacters): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === enc.escape) out += `${enc.escape}E${enc.escape}`;
    else if (c === enc.field) out += `${enc.escape}F${enc.escape}`;
    else if (c === enc.component) out += `${enc.escape}S${enc.escape}`;
    else if (c === enc.subcomponent) out += `${enc.escape}T${enc.escape}`;
    else if (c === enc.repetition) out += `${enc.escape}R${enc.escape}`;
    else if (c === '\r' || c === '\n') {
      if (c === '\r' && value[i + 1] === '\n') i++;
      out += `${enc.escape}.br${enc.escape}`;
    } else if (c < ' ' && c !== '\t') {
      out += `${enc.escape}X${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}${enc.escape}`;
    } else out += c;
  }
  return out;
}
