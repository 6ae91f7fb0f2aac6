import { PassThrough } from 'node:stream';
import { createLogger } from '.';

function capture() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  return { log: createLogger({ level: 'debug', destination: stream }), lines };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('logging', () => {
  it('writes one JSON line per entry with level and time', async () => {
    const { log, lines } = capture();
    log.info({ requestId: 'r1' }, 'study accepted');
    await flush();
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 'info', requestId: 'r1', msg: 'study accepted' });
    expect(typeof entry.time).toBe('string');
  });

  it('masks a national ID wherever it appears: message, nested value, error', async () => {
    const { log, lines } = capture();
    const id = '11010519491231002X';
    log.info({ query: { identifier: `urn:oid:2.16.156.10011.1.1|${id}` } }, `looked up ${id}`);
    log.error({ err: new Error(`patient ${id} unknown`) }, 'failed');
    await flush();
    const text = lines.join('\n');
    expect(text).not.toContain(id);
    expect(text).toContain('110105********002X');
  });

  it('redacts secrets and patient names by key', async () => {
    const { log, lines } = capture();
    log.info({ client_secret: 's3cr3t-value', headers: { authorization: 'Bearer abc.def' }, patient: { name: '张三', patientName: 'Zhang^San' } }, 'x');
    await flush();
    const text = lines.join('\n');
    for (const leaked of ['s3cr3t-value', 'abc.def', '张三', 'Zhang^San']) expect(text).not.toContain(leaked);
  });

  it('leaves ordinary long numbers that are not ID-shaped alone', async () => {
    const { log, lines } = capture();
    log.info({ uid: '1.2.840.113619.2.55.3.604688119', bytes: 1234567890123 }, 'stored');
    await flush();
    expect(lines[0]).toContain('1.2.840.113619.2.55.3.604688119');
  });
});
