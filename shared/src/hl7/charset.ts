import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { badInput } from '../errors';

/** An iconv-lite encoding name: `utf8`, `gb18030`, `gbk`, `big5`, `iso-8859-1`, … */
export type Charset = string;

/** How the charset of a parsed message was chosen. */
export type CharsetSource = 'msh-18' | 'detected' | 'default' | 'override';

/**
 * MSH-18 values (HL7 table 0211 and what Chinese LIS/HIS actually send), keyed by the
 * name with case, spaces, `-`, `_` and `/` removed. `detect` marks names that say nothing
 * usable: a sender labelling a message ASCII still sends GBK names more often than not, and
 * ASCII is a subset of both candidates, so the missing-MSH-18 rule decides.
 */
const BY_NAME: Record<string, Charset | 'detect'> = {
  ASCII: 'detect',
  USASCII: 'detect',
  ISOIR6: 'detect',
  // Table 0211 "UNICODE" predates the UTF-n names; senders mean UTF-8 by it, and UTF-16
  // could not carry an ASCII-readable MSH anyway.
  UNICODE: 'utf8',
  UNICODEUTF8: 'utf8',
  UTF8: 'utf8',
  ISOIR192: 'utf8',
  GB180302000: 'gb18030',
  GB180302005: 'gb18030',
  GB180302022: 'gb18030',
  GB18030: 'gb18030',
  GBK: 'gbk',
  CP936: 'gbk',
  // Systems labelled GB2312 in practice emit GBK (a superset); decoding as GBK loses nothing.
  GB2312: 'gbk',
  GB231280: 'gbk',
  BIG5: 'big5',
  ISOIR100: 'iso-8859-1',
  ...Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 9, 15].map((n) => [`8859${n}`, `iso-8859-${n}`])),
};

/**
 * The charset an MSH-18 value (or a configured name in the same vocabulary) names;
 * `detect` when the name leaves it to the missing-MSH-18 rule. Unknown names are refused
 * rather than guessed: a wrong guess corrupts every Chinese name in the message.
 */
export function charsetFromName(name: string, location = 'MSH-18'): Charset | 'detect' {
  const key = name.toUpperCase().replace(/[\s\-_/]/g, '');
  if (key === '') return 'detect';
  const charset = BY_NAME[key];
  if (charset === undefined) {
    // Echoed only when it looks like a charset name: a mangled MSH may hold patient text here.
    const shown = /^[\w .\-/]{1,30}$/.test(name) ? ` "${name}"` : '';
    throw badInput(`character set${shown} is not supported (use UNICODE UTF-8, GB18030 or GBK)`, {
      location,
      code: 'unknown-charset',
    });
  }
  return charset;
}

/**
 * The rule for a message that does not name its charset (MSH-18 empty or ASCII):
 * bytes that form valid UTF-8 are UTF-8, anything else is GB18030.
 *
 * Why this is safe: GB18030/GBK text with Chinese in it is almost never valid UTF-8 (its
 * lead bytes 0x81–0xFE are followed by bytes that break UTF-8's continuation pattern
 * within a few characters), while pure ASCII decodes identically either way. GB18030 is
 * chosen over GBK as the fallback because it is a superset of GBK and GB2312, so GBK
 * senders decode correctly too.
 */
export function detectCharset(bytes: Buffer): Charset {
  if (isUtf8(bytes)) return 'utf8';
  // UTF-8 cut inside its last character is still UTF-8 (and then refused as broken);
  // calling it GB18030 would turn every Chinese character into another one, silently.
  return endsInCutUtf8(bytes) ? 'utf8' : 'gb18030';
}

/** Valid UTF-8 except for a final multi-byte sequence that lacks its last byte(s). */
function endsInCutUtf8(bytes: Buffer): boolean {
  for (let cut = 1; cut <= 3 && cut < bytes.length; cut++) {
    const lead = bytes[bytes.length - cut]!;
    const needed = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (needed === 0) continue;
    const tail = bytes.subarray(bytes.length - cut + 1);
    return needed > cut && tail.every((b) => b >= 0x80 && b <= 0xbf) && isUtf8(bytes.subarray(0, bytes.length - cut));
  }
  return false;
}

/**
 * Decodes `bytes` in `charset`, refusing bytes that are not text in that charset rather
 * than letting U+FFFD replace part of a patient's name.
 */
export function decodeText(bytes: Buffer, charset: Charset, location = 'MSH-18'): string {
  if (charset === 'utf8') {
    if (!isUtf8(bytes)) throw mismatch('UTF-8', location);
    return bytes.toString('utf8');
  }
  const text = iconv.decode(bytes, charset);
  // U+FFFD is also a legitimate character; only a failed round trip proves corruption.
  if (text.includes('\uFFFD') && !iconv.encode(text, charset).equals(bytes)) throw mismatch(charset, location);
  return text;
}

/** Encodes outgoing text (an ACK) in the charset of the message it answers. */
export function encodeText(text: string, charset: Charset): Buffer {
  return charset === 'utf8' ? Buffer.from(text, 'utf8') : iconv.encode(text, charset);
}

function mismatch(charset: string, location: string) {
  return badInput(`message bytes are not valid ${charset} text; MSH-18 or the sender's configured character set is wrong`, {
    location,
    code: 'charset-mismatch',
  });
}
