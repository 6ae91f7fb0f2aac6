import type { Charset, CharsetSource } from './charset';
import type { EncodingCharacters } from './delimiters';

/** Sub-component values of one component, escape sequences already decoded. */
export type Component = readonly string[];
/** Components of one repetition of a field. */
export type Repetition = readonly Component[];
/** Repetitions of a field; an absent field has none. */
export type Field = readonly Repetition[];

/** HL7's explicit null: `""` in a field means "delete the value you hold", not "no value". */
export const HL7_NULL = '""';

/** A position inside a segment, 1-based as HL7 writes it (`3[2].1.2`). */
export interface FieldPosition {
  field: number;
  repetition?: number;
  component?: number;
  subcomponent?: number;
}

/** A position inside a message: `PID-3`, `OBX[2]-5`, `PID-3[2].4.1`. */
export interface Location extends FieldPosition {
  segment: string;
  /** Which occurrence of the segment, 1-based. */
  occurrence?: number;
}

const POSITION = /^(\d+)(?:\[(\d+)\])?(?:[.-](\d+)(?:[.-](\d+))?)?$/;
const LOCATION = /^([A-Z][A-Z0-9]{2})(?:\[(\d+)\])?-(.+)$/;

/**
 * Reads `F[r].C.S` (`-` accepted for `.`, as in `PID-3-1`). A malformed path is a bug in
 * the calling code, not bad input, so it throws a plain Error.
 */
export function parsePosition(path: string): FieldPosition {
  const m = POSITION.exec(path);
  if (!m) throw new Error(`not an HL7 field position: "${path}" (expected e.g. 3, 3[2], 3.1, 3[2].4.1)`);
  const [field, repetition, component, subcomponent] = m.slice(1).map((v) => (v === undefined ? undefined : Number(v)));
  const position: FieldPosition = { field: field! };
  if (repetition !== undefined) position.repetition = repetition;
  if (component !== undefined) position.component = component;
  if (subcomponent !== undefined) position.subcomponent = subcomponent;
  if (Object.values(position).some((n) => n < 1)) throw new Error(`HL7 positions are 1-based: "${path}"`);
  return position;
}

/** Reads `SEG[k]-F[r].C.S`, e.g. `PID-3`, `OBX[2]-5.1`, `PID-3[2].4`. */
export function parseLocation(path: string): Location {
  const m = LOCATION.exec(path);
  if (!m) throw new Error(`not an HL7 location: "${path}" (expected e.g. PID-3, PID-3[2].1, OBX[2]-5)`);
  const location: Location = { segment: m[1]!, ...parsePosition(m[3]!) };
  if (m[2] !== undefined) {
    location.occurrence = Number(m[2]);
    if (location.occurrence < 1) throw new Error(`HL7 positions are 1-based: "${path}"`);
  }
  return location;
}

/** The value of component `c`, sub-component `s` (1-based) of a repetition; empty → undefined. */
export function component(rep: Repetition | undefined, c: number, s = 1): string | undefined {
  const value = rep?.[c - 1]?.[s - 1];
  return value === '' ? undefined : value;
}

/** Field `n` of a segment, as its repetitions (none when absent). */
export function field(seg: Segment | undefined, n: number): Field {
  return seg?.field(n) ?? [];
}

/**
 * One segment. `fields[n]` is field n as HL7 numbers it; `fields[0]` holds the segment
 * name. In MSH, field 1 is the field separator and field 2 the encoding characters, both
 * kept whole, so MSH-9 is the message type as in the standard.
 */
export class Segment {
  constructor(
    readonly name: string,
    readonly fields: readonly Field[],
  ) {}

  /** Highest field number present. */
  get fieldCount(): number {
    return this.fields.length - 1;
  }

  field(n: number): Field {
    return n >= 1 ? (this.fields[n] ?? []) : [];
  }

  /** Repetitions of field `n` (alias of `field`, reads better at call sites that loop). */
  repetitions(n: number): Field {
    return this.field(n);
  }

  /** One leaf value; unspecified positions default to the first. Empty → undefined. */
  value(n: number, repetition = 1, comp = 1, sub = 1): string | undefined {
    return component(this.field(n)[repetition - 1], comp, sub);
  }

  /** A leaf value by relative path: `get('3[2].1')`. */
  get(path: string): string | undefined {
    const p = parsePosition(path);
    return this.value(p.field, p.repetition, p.component, p.subcomponent);
  }
}

/** What MSH-9 says the message is. */
export interface MessageType {
  /** MSH-9.1, e.g. `ORU`. */
  code: string;
  /** MSH-9.2, e.g. `R01`. */
  trigger?: string;
  /** MSH-9.3 (v2.3.1+), e.g. `ORU_R01`. */
  structure?: string;
}

export interface MessageHeader {
  encoding: EncodingCharacters;
  /** The charset the bytes were decoded with (and an ACK must be encoded with). */
  charset: Charset;
  charsetSource: CharsetSource;
}

/** A parsed HL7 v2 message: its segments in order, Z-segments included. */
export class Message {
  readonly encoding: EncodingCharacters;
  readonly charset: Charset;
  readonly charsetSource: CharsetSource;

  constructor(
    private readonly all: readonly Segment[],
    header: MessageHeader,
  ) {
    this.encoding = header.encoding;
    this.charset = header.charset;
    this.charsetSource = header.charsetSource;
  }

  /** Every segment (no name), or every segment called `name`, in message order. */
  segments(name?: string): Segment[] {
    return name === undefined ? [...this.all] : this.all.filter((s) => s.name === name);
  }

  /** The `occurrence`-th (1-based) segment called `name`. */
  segment(name: string, occurrence = 1): Segment | undefined {
    let seen = 0;
    for (const s of this.all) if (s.name === name && ++seen === occurrence) return s;
    return undefined;
  }

  get msh(): Segment {
    return this.all[0]!;
  }

  /** One leaf value: `get('PID-5.1')`, `get('PID-3[2].1')`, `get('OBX[3]-5')`. Empty → undefined. */
  get(path: string): string | undefined {
    const l = parseLocation(path);
    return this.segment(l.segment, l.occurrence)?.value(l.field, l.repetition, l.component, l.subcomponent);
  }

  /** All repetitions of a field: `repetitions('PID-3')`. */
  repetitions(path: string): Field {
    const l = parseLocation(path);
    return field(this.segment(l.segment, l.occurrence), l.field);
  }

  /** MSH-10, checked present by the parser. */
  get controlId(): string {
    return this.msh.value(10)!;
  }

  /** MSH-12.1, e.g. `2.5.1`. */
  get version(): string {
    return this.msh.value(12)!;
  }

  /** MSH-11.1; `P` (production) when the sender left it out. */
  get processingId(): string {
    return this.msh.value(11) ?? 'P';
  }

  get messageType(): MessageType {
    const rep = this.msh.field(9)[0];
    const type: MessageType = { code: component(rep, 1)! };
    const trigger = component(rep, 2);
    const structure = component(rep, 3);
    if (trigger !== undefined) type.trigger = trigger;
    if (structure !== undefined) type.structure = structure;
    return type;
  }
}
