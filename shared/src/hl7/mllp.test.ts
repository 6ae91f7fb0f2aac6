import iconv from 'iconv-lite';
import type { HubError } from '../errors';
import { join, oru } from './fixtures';
import { frame, MllpDecoder, parseMessage, type MllpDecoderOptions } from './index';

const message = iconv.encode(join(oru('GB18030')), 'gb18030');
const second = Buffer.from(join(oru('UNICODE UTF-8')), 'utf8');

function decoder(options: Partial<MllpDecoderOptions> = {}) {
  const frames: Buffer[] = [];
  const errors: HubError[] = [];
  let discarded = 0;
  const d = new MllpDecoder({
    onFrame: (f) => frames.push(f),
    onError: (e) => errors.push(e),
    onDiscard: (n) => (discarded += n),
    ...options,
  });
  return { d, frames, errors, discarded: () => discarded };
}

describe('frame', () => {
  it('wraps a message in <VT> … <FS><CR>', () => {
    const framed = frame(Buffer.from('MSH|^~\\&'));
    expect([...framed.subarray(0, 1), ...framed.subarray(-2)]).toEqual([0x0b, 0x1c, 0x0d]);
    expect(framed.subarray(1, -2).toString()).toBe('MSH|^~\\&');
  });

  it('refuses a message that holds a framing byte', () => {
    expect(() => frame(Buffer.from('MSH|\x1c'))).toThrow(expect.objectContaining({ kind: 'BadInput', detail: { code: 'mllp-control-byte' } }));
  });
});

describe('MllpDecoder', () => {
  it('extracts a GB18030 message split at every byte boundary', () => {
    const framed = frame(message);
    for (let cut = 0; cut <= framed.length; cut++) {
      const { d, frames, errors } = decoder();
      d.push(framed.subarray(0, cut));
      d.push(framed.subarray(cut));
      expect(errors).toEqual([]);
      expect(frames).toHaveLength(1);
      expect(frames[0]!.equals(message)).toBe(true);
    }
  });

  it('extracts two messages fed one byte at a time', () => {
    const stream = Buffer.concat([frame(message), frame(second)]);
    const { d, frames } = decoder();
    for (const byte of stream) d.push(Buffer.from([byte]));
    expect(frames.map((f) => parseMessage(f).get('PID-5'))).toEqual(['张三', '张三']);
    expect(frames[1]!.equals(second)).toBe(true);
  });

  it('extracts two frames from one chunk and discards the garbage around them', () => {
    const { d, frames, errors, discarded } = decoder();
    d.push(Buffer.concat([Buffer.from('\r\nnoise'), frame(message), Buffer.from('\n'), frame(second), Buffer.from('x')]));
    expect(frames).toHaveLength(2);
    expect(errors).toEqual([]);
    expect(discarded()).toBe(7 + 1 + 1);
  });

  it('delivers a frame at <FS> even when the sender omits the <CR>', () => {
    const { d, frames } = decoder();
    d.push(Buffer.concat([Buffer.from([0x0b]), second, Buffer.from([0x1c])]));
    expect(frames).toHaveLength(1);
    d.push(Buffer.concat([Buffer.from([0x0b]), message, Buffer.from([0x1c, 0x0d])]));
    expect(frames).toHaveLength(2);
  });

  it('reports an oversized frame once and resynchronizes on the next frame', () => {
    const { d, frames, errors } = decoder({ maxFrameBytes: second.length });
    const big = frame(Buffer.concat([second, Buffer.from('NTE|1||x')]));
    // The oversized frame arrives in pieces, the good one right behind it.
    const stream = Buffer.concat([big, frame(second), frame(message)]);
    for (let i = 0; i < stream.length; i += 100) d.push(stream.subarray(i, i + 100));
    expect(errors.map((e) => [e.kind, e.detail.code])).toEqual([['TooLarge', 'mllp-frame-too-large']]);
    expect(message.length).toBeLessThan(second.length);
    expect(frames.map((f) => f.equals(second) || f.equals(message))).toEqual([true, true]);
    expect(frames[0]!.equals(second)).toBe(true);
  });

  it('accepts a frame of exactly the maximum size', () => {
    const { d, frames } = decoder({ maxFrameBytes: second.length });
    d.push(frame(second));
    expect(frames).toHaveLength(1);
  });

  it('reports a frame abandoned by a new start byte and keeps the new frame', () => {
    const { d, frames, errors } = decoder();
    d.push(Buffer.concat([Buffer.from([0x0b]), second.subarray(0, 50), frame(message)]));
    expect(errors.map((e) => e.detail.code)).toEqual(['mllp-unterminated-frame']);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.equals(message)).toBe(true);
  });

  it('reports a frame cut off by the end of the connection', () => {
    const { d, frames, errors } = decoder();
    d.push(frame(second).subarray(0, 40));
    d.end();
    expect(frames).toEqual([]);
    expect(errors.map((e) => e.detail.code)).toEqual(['mllp-truncated-frame']);
  });

  it('copies frame bytes so a reused socket buffer cannot change them', () => {
    const { d, frames } = decoder();
    const chunk = Buffer.from(frame(second));
    d.push(chunk.subarray(0, 30));
    chunk.fill(0x41, 0, 30);
    d.push(chunk.subarray(30));
    expect(frames[0]!.equals(second)).toBe(true);
  });
});
