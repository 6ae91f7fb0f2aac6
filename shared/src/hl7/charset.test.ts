import iconv from 'iconv-lite';
import { HubError } from '../errors';
import { join, oru, oruBody } from './fixtures';
import { charsetFromName, detectCharset, parseMessage } from './index';

function refusal(run: () => unknown): HubError {
  try {
    run();
  } catch (err) {
    if (err instanceof HubError) return err;
    throw err;
  }
  throw new Error('expected a BadInput refusal, got a message');
}

describe('charsetFromName', () => {
  it.each([
    ['UNICODE UTF-8', 'utf8'],
    ['UNICODE', 'utf8'],
    ['utf-8', 'utf8'],
    ['GB 18030-2000', 'gb18030'],
    ['GB18030', 'gb18030'],
    ['GBK', 'gbk'],
    ['GB2312', 'gbk'],
    ['8859/1', 'iso-8859-1'],
    ['BIG-5', 'big5'],
    ['ASCII', 'detect'],
    ['', 'detect'],
  ])('reads MSH-18 %j as %s', (name, charset) => {
    expect(charsetFromName(name)).toBe(charset);
  });

  it('refuses names it does not know, UTF-16 included', () => {
    for (const name of ['UNICODE UTF-16', 'EBCDIC', 'KS X 1001']) {
      expect(refusal(() => charsetFromName(name)).detail).toEqual({ location: 'MSH-18', code: 'unknown-charset' });
    }
  });
});

describe('detectCharset', () => {
  it('calls valid UTF-8 UTF-8 and anything else GB18030', () => {
    expect(detectCharset(Buffer.from('MSH|张三'))).toBe('utf8');
    expect(detectCharset(Buffer.from('MSH|plain ASCII'))).toBe('utf8');
    expect(detectCharset(iconv.encode('MSH|张三', 'gb18030'))).toBe('gb18030');
    expect(detectCharset(iconv.encode('MSH|王', 'gbk'))).toBe('gb18030');
  });

  it('keeps calling UTF-8 cut inside its last character UTF-8', () => {
    expect(detectCharset(Buffer.from('MSH|张三').subarray(0, -1))).toBe('utf8');
  });
});

describe('parseMessage character sets', () => {
  const text = (msh18: string) => join(oru(msh18));
  const expectSameContent = (msg: ReturnType<typeof parseMessage>) => {
    expect(msg.get('PID-5')).toBe('张三');
    expect(msg.get('OBX[2]-6')).toBe('个/μL');
    expect(msg.get('OBX[6]-5')).toBe('未见异常细胞\n红细胞大小均一');
    expect(msg.get('ZLS-1')).toBe('院内扩展字段');
  };

  it.each(['GB18030', 'GB 18030-2000', 'gb18030'])('decodes GB18030 bytes with MSH-18 %s', (name) => {
    const msg = parseMessage(iconv.encode(text(name), 'gb18030'));
    expect([msg.charset, msg.charsetSource]).toEqual(['gb18030', 'msh-18']);
    expectSameContent(msg);
  });

  it('decodes GBK bytes with MSH-18 GBK', () => {
    const msg = parseMessage(iconv.encode(text('GBK'), 'gbk'));
    expect(msg.charset).toBe('gbk');
    expectSameContent(msg);
  });

  it('decodes UTF-8 bytes with MSH-18 UNICODE', () => {
    expect(parseMessage(Buffer.from(text('UNICODE'))).charset).toBe('utf8');
  });

  it('detects GB18030 when MSH-18 is missing and the bytes are not UTF-8', () => {
    const msg = parseMessage(iconv.encode(text(''), 'gb18030'));
    expect([msg.charset, msg.charsetSource]).toEqual(['gb18030', 'detected']);
    expectSameContent(msg);
  });

  it('detects UTF-8 when MSH-18 is missing or ASCII and the bytes are valid UTF-8', () => {
    for (const msh18 of ['', 'ASCII']) {
      const msg = parseMessage(Buffer.from(text(msh18), 'utf8'));
      expect([msg.charset, msg.charsetSource]).toEqual(['utf8', 'detected']);
      expectSameContent(msg);
    }
  });

  it('decodes four-byte GB18030 characters that GBK lacks', () => {
    const msg = parseMessage(iconv.encode(join([oru('GB18030')[0]!, 'OBX|1|NM|X||1|µmol/L']), 'gb18030'));
    expect(msg.get('OBX-6')).toBe('µmol/L');
  });

  it('finds MSH-18 when a GB18030 character before it contains the byte of "|"', () => {
    // 億 is 0x83 0x7C in GB18030: read as Latin-1 it splits MSH-4 and shifts MSH-18.
    const msh = (msh17: string) =>
      `MSH|^~\\&|LIS|億康检验中心|HUB|REGION|20240315103000||ORU^R01^ORU_R01|C1|P|2.5.1|||AL|NE|${msh17}|GB18030`;
    for (const msh17 of ['CHN', '']) {
      const bytes = iconv.encode(join([msh(msh17), ...oruBody]), 'gb18030');
      expect(bytes.includes(Buffer.from([0x83, 0x7c]))).toBe(true);
      const msg = parseMessage(bytes);
      expect(msg.get('MSH-4')).toBe('億康检验中心');
      expect(msg.get('MSH-18')).toBe('GB18030');
      expectSameContent(msg);
    }
  });

  it('refuses bytes that are not what MSH-18 declares instead of corrupting names', () => {
    const err = refusal(() => parseMessage(iconv.encode(text('UNICODE UTF-8'), 'gb18030')));
    expect(err.detail).toEqual({ location: 'MSH-18', code: 'charset-mismatch' });
  });

  it('refuses a message cut inside a character instead of guessing', () => {
    for (const [msh18, charset] of [
      ['', 'utf8'],
      ['UNICODE UTF-8', 'utf8'],
      ['GB18030', 'gb18030'],
      ['', 'gb18030'],
    ] as const) {
      const whole = charset === 'utf8' ? Buffer.from(text(msh18)) : iconv.encode(text(msh18), charset);
      const cut = whole.subarray(0, whole.lastIndexOf(charset === 'utf8' ? Buffer.from('院') : iconv.encode('院', charset)) + 1);
      expect(refusal(() => parseMessage(cut)).detail.code).toBe('charset-mismatch');
    }
  });

  it('refuses an unknown MSH-18', () => {
    const err = refusal(() => parseMessage(Buffer.from(text('EBCDIC'))));
    expect(err.kind).toBe('BadInput');
    expect(err.detail).toEqual({ location: 'MSH-18', code: 'unknown-charset' });
  });

  it('lets configuration override a sender that mislabels its charset', () => {
    const msg = parseMessage(iconv.encode(text('UNICODE UTF-8'), 'gbk'), { charset: 'GBK' });
    expect([msg.charset, msg.charsetSource]).toEqual(['gbk', 'override']);
    expectSameContent(msg);
    const byDefault = parseMessage(iconv.encode(text(''), 'gbk'), { defaultCharset: 'GBK' });
    expect([byDefault.charset, byDefault.charsetSource]).toEqual(['gbk', 'default']);
  });

  it('reads an already decoded string whatever MSH-18 says', () => {
    const msg = parseMessage(text('GB18030'));
    expect(msg.charset).toBe('gb18030');
    expectSameContent(msg);
  });
});
