import { badInput, tooLarge, type HubError } from '../errors';

/** MLLP framing bytes: <VT> message <FS><CR>. */
export const MLLP_START = 0x0b;
export const MLLP_END = 0x1c;
export const MLLP_TRAILER = 0x0d;

/** Lab reports may embed a PDF (OBX-5 of type ED), so the default leaves room for that. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface MllpDecoderOptions {
  /** Largest message accepted, in bytes between the framing bytes. */
  maxFrameBytes?: number;
  /**
   * One complete message, without framing bytes, in arrival order. Callbacks must not
   * throw: a throw leaves `push` and the rest of that chunk is not read.
   */
  onFrame: (message: Buffer) => void;
  /**
   * A frame that was dropped: `mllp-frame-too-large` (TooLarge), `mllp-unterminated-frame`
   * (a new start byte before the end of the previous frame) or `mllp-truncated-frame` (the
   * stream ended inside a frame). Decoding goes on with the next frame.
   */
  onError?: (err: HubError) => void;
  /** Bytes seen outside any frame (line noise, keep-alives) that were skipped. */
  onDiscard?: (byteCount: number) => void;
}

type State = 'outside' | 'inside' | 'after-end' | 'skipping';

/**
 * Push-based MLLP deframer: feed it socket chunks with `push`, whatever their boundaries,
 * and it calls back once per message. No sockets here, so the listener owns connection
 * policy (one ACK per frame, timeouts) and this stays testable byte by byte.
 */
export class MllpDecoder {
  private state: State = 'outside';
  private parts: Buffer[] = [];
  private size = 0;
  private readonly max: number;

  constructor(private readonly options: MllpDecoderOptions) {
    this.max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'outside') {
        const start = chunk.indexOf(MLLP_START, i);
        const stop = start < 0 ? chunk.length : start;
        if (stop > i) this.options.onDiscard?.(stop - i);
        if (start < 0) return;
        this.state = 'inside';
        i = start + 1;
      } else if (this.state === 'after-end') {
        // MLLP wants <CR> after <FS>. The frame was already delivered at <FS>: a sender that
        // omits the CR and waits for its ACK must not wait forever.
        if (chunk[i] === MLLP_TRAILER) i++;
        this.state = 'outside';
      } else {
        const stop = nextControl(chunk, i);
        if (this.state === 'inside') this.append(chunk.subarray(i, stop));
        if (stop === chunk.length) return;
        i = stop + 1;
        if (chunk[stop] === MLLP_END) {
          // After an oversized frame, its end is where decoding resumes.
          if (this.state === 'inside') this.emit();
          this.reset('after-end');
        } else {
          // <VT> cannot occur in HL7 text (nor in GB18030 or UTF-8 multi-byte sequences): the
          // sender gave up on the previous frame and started over.
          if (this.state === 'inside') this.fail(badInput('MLLP frame restarted before its end byte', { code: 'mllp-unterminated-frame' }));
          this.reset('inside');
        }
      }
    }
  }

  /** Call when the connection closes: reports a frame cut off mid-way. */
  end(): void {
    const inside = this.state === 'inside';
    this.reset('outside');
    if (inside) this.fail(badInput('connection closed inside an MLLP frame', { code: 'mllp-truncated-frame' }));
  }

  private append(part: Buffer): void {
    if (part.length === 0) return;
    if (this.size + part.length > this.max) {
      this.reset('skipping');
      this.fail(tooLarge(`MLLP frame exceeds ${this.max} bytes`, { code: 'mllp-frame-too-large' }));
      return;
    }
    // Copy: the caller may reuse its chunk buffer once push returns.
    this.parts.push(Buffer.from(part));
    this.size += part.length;
  }

  private emit(): void {
    const message = Buffer.concat(this.parts, this.size);
    this.reset('after-end');
    this.options.onFrame(message);
  }

  private fail(err: HubError): void {
    this.options.onError?.(err);
  }

  private reset(state: State): void {
    this.state = state;
    this.parts = [];
    this.size = 0;
  }
}

function nextControl(chunk: Buffer, from: number): number {
  const end = chunk.indexOf(MLLP_END, from);
  const start = chunk.indexOf(MLLP_START, from);
  if (end < 0) return start < 0 ? chunk.length : start;
  return start < 0 ? end : Math.min(start, end);
}

/** Wraps one outgoing message (already encoded in its charset) in MLLP framing bytes. */
export function frame(message: Buffer): Buffer {
  if (message.includes(MLLP_START) || message.includes(MLLP_END)) {
    throw badInput('message contains an MLLP framing byte (0x0B or 0x1C)', { code: 'mllp-control-byte' });
  }
  return Buffer.concat([Buffer.from([MLLP_START]), message, Buffer.from([MLLP_END, MLLP_TRAILER])]);
}
