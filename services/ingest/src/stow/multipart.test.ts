import { MultipartParser, parseMediaType, type MultipartEvent } from './multipart';

interface Part {
  headers: Record<string, string>;
  body: string;
}

/** Feeds `body` cut at the given positions and collects whole parts. */
function parse(boundary: string, body: Buffer, cuts: number[] = []): Part[] {
  const parser = new MultipartParser(boundary);
  const events: MultipartEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, body.length]) {
    events.push(...parser.push(body.subarray(from, cut)));
    from = cut;
  }
  parser.end();
  const parts: Part[] = [];
  let current: { headers: Record<string, string>; chunks: Buffer[] } | undefined;
  for (const e of events) {
    if (e.type === 'part') current = { headers: Object.fromEntries(e.headers), chunks: [] };
    else if (e.type === 'data') current!.chunks.push(Buffer.from(e.chunk));
    else {
      parts.push({ headers: current!.headers, body: Buffer.concat(current!.chunks).toString('latin1') });
      current = undefined;
    }
  }
  expect(current).toBeUndefined();
  return parts;
}

const b = (s: string) => Buffer.from(s, 'latin1');
// Content that looks like a boundary but is not one, CRs and LFs at the edges, and an empty part.
const BODY = b(
  'preamble to ignore\r\n' +
    '--XyZ\r\nContent-Type: application/dicom\r\nContent-Length: 9\r\n\r\n\r\nA--XyZ\n\r\n' +
    '--XyZ  \r\ncontent-type: application/dicom;\r\n transfer-syntax=1.2.840.10008.1.2.1\r\n\r\n' +
    '\r\n--XyZ\r\n\r\n' +
    'no headers\r\n' +
    '--XyZ--\r\nepilogue --XyZ junk',
);
const EXPECTED: Part[] = [
  { headers: { 'content-type': 'application/dicom', 'content-length': '9' }, body: '\r\nA--XyZ\n' },
  { headers: { 'content-type': 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1' }, body: '' },
  { headers: {}, body: 'no headers' },
];

describe('multipart/related streaming parser', () => {
  it('reads parts with preamble, padding, folded headers, empty content and epilogue', () => {
    expect(parse('XyZ', BODY)).toEqual(EXPECTED);
  });

  it('gives the same parts wherever the chunks are cut (every single and every pair of positions)', () => {
    for (let i = 0; i <= BODY.length; i++) expect(parse('XyZ', BODY, [i])).toEqual(EXPECTED);
    for (let i = 0; i <= BODY.length; i += 3) for (let j = i; j <= BODY.length; j += 2) expect(parse('XyZ', BODY, [i, j])).toEqual(EXPECTED);
  });

  it('gives the same parts fed one byte at a time', () => {
    expect(parse('XyZ', BODY, Array.from({ length: BODY.length }, (_, i) => i))).toEqual(EXPECTED);
  });

  it('accepts a body that starts with the boundary at once, and binary content of every byte value', () => {
    const binary = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7) % 256));
    const body = Buffer.concat([b('--B\r\n\r\n'), binary, b('\r\n--B--')]);
    for (const cut of [1, 5, 6, 7, 100, 2054, 2055, 2057, 2060]) expect(Buffer.from(parse('B', body, [cut])[0]!.body, 'latin1')).toEqual(binary);
  });

  it('passes large content through without gathering it: data arrives as the chunks come', () => {
    const parser = new MultipartParser('big');
    parser.push(b('--big\r\n\r\n'));
    let seen = 0;
    const chunk = Buffer.alloc(1 << 20, 0x41);
    for (let i = 0; i < 64; i++) for (const e of parser.push(chunk)) if (e.type === 'data') seen += e.chunk.length;
    // everything but the few bytes that could still be the start of a delimiter
    expect(seen).toBeGreaterThan(64 * (1 << 20) - 10);
  });

  it.each([
    ['a body cut inside a part', '--B\r\n\r\nabc', /ends before its closing boundary/],
    ['a body cut inside the headers', '--B\r\nContent-Ty', /ends before its closing boundary/],
    ['a body without the final "--"', '--B\r\n\r\nabc\r\n--B\r\n', /ends before its closing boundary/],
    ['a body with another boundary', '--OTHER\r\n\r\nabc\r\n--OTHER--', /has no boundary delimiter/],
    ['an empty body', '', /has no boundary delimiter/],
    ['a boundary followed by junk', '--B\r\n\r\nabc\r\n--Bjunk\r\n', /followed by something other than CRLF/],
    ['a header line without a name', '--B\r\nno colon here\r\n\r\nx\r\n--B--', /header line has no name/],
  ])('refuses %s', (_what, body, message) => {
    expect(() => parse('B', b(body))).toThrow(message);
  });

  it('refuses headers that never end', () => {
    const parser = new MultipartParser('B');
    parser.push(b('--B\r\n'));
    expect(() => parser.push(Buffer.alloc(20_000, 0x41))).toThrow(/headers are longer/);
  });
});

describe('media type parameters', () => {
  it.each([
    ['multipart/related; type="application/dicom"; boundary=abc', 'abc', 'application/dicom'],
    ['Multipart/Related;boundary="a b:c";TYPE=application/dicom', 'a b:c', 'application/dicom'],
    ['multipart/related; type="application/dicom+xml"; boundary="q\\"x"', 'q"x', 'application/dicom+xml'],
  ])('reads %s', (header, boundary, type) => {
    const parsed = parseMediaType(header);
    expect(parsed.type).toBe('multipart/related');
    expect(parsed.params.get('boundary')).toBe(boundary);
    expect(parsed.params.get('type')).toBe(type);
  });
});
