import { badInput } from '../errors';

/**
 * The delimiters a message declares in MSH-1 and MSH-2. Senders may choose their own, so
 * nothing below this file assumes `|^~\&`.
 */
export interface EncodingCharacters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
  /**
   * v2.7 adds a fifth MSH-2 character (truncation, usually `#`). It has no meaning in
   * v2.3–2.5.1 and is never treated as a delimiter; it is kept so MSH-2 is echoed as sent.
   */
  truncation?: string;
}

export const STANDARD_ENCODING: Readonly<EncodingCharacters> = Object.freeze({
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
});

/** MSH-2 as it is written on the wire. */
export function msh2Of(enc: EncodingCharacters): string {
  return enc.component + enc.repetition + enc.escape + enc.subcomponent + (enc.truncation ?? '');
}

// A delimiter must be visible ASCII punctuation: letters and digits occur in data, and
// whitespace or control characters would collide with segment terminators and MLLP.
const PUNCTUATION = /^[\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E]$/;

/**
 * Reads and checks the delimiters of a message. `msh1` is the character right after `MSH`,
 * `msh2` the text between it and the next field separator.
 */
export function encodingCharactersFrom(msh1: string | undefined, msh2: string): EncodingCharacters {
  if (msh1 === undefined || !PUNCTUATION.test(msh1)) {
    throw badInput('MSH-1 (field separator) must be one punctuation character right after "MSH"', {
      location: 'MSH-1',
      code: 'bad-encoding-characters',
    });
  }
  const chars = [...msh2];
  if (chars.length !== 4 && chars.length !== 5) {
    throw badInput(`MSH-2 must hold 4 encoding characters (component, repetition, escape, sub-component); found ${chars.length}`, {
      location: 'MSH-2',
      code: 'bad-encoding-characters',
    });
  }
  const all = [msh1, ...chars];
  if (!all.every((c) => PUNCTUATION.test(c))) {
    throw badInput('MSH-2 encoding characters must be punctuation (no letters, digits, spaces or control characters)', {
      location: 'MSH-2',
      code: 'bad-encoding-characters',
    });
  }
  if (new Set(all).size !== all.length) {
    throw badInput('MSH-1 and MSH-2 must declare distinct delimiter characters', {
      location: 'MSH-2',
      code: 'bad-encoding-characters',
    });
  }
  const [component, repetition, escape, subcomponent, truncation] = chars as [string, string, string, string, string?];
  return truncation === undefined
    ? { field: msh1, component, repetition, escape, subcomponent }
    : { field: msh1, component, repetition, escape, subcomponent, truncation };
}
