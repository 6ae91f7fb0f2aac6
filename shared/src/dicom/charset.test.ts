import iconv from 'iconv-lite';
import { CharacterSet, decodeText, decodeTextChecked, encodeText, normalizeTerm, undeclaredCharsetGuess } from './charset';
import { parsePersonName } from './person-name';

const ESC = 0x1b;
const bytes = (...parts: (number[] | string | Buffer)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.isBuffer(p) ? p : Buffer.from(p))));
const gbk = (s: string) => iconv.encode(s, 'gbk');

describe('Unicode UTF-8 (ISO_IR 192)', () => {
  it('decodes a Chinese person name with its alphabetic and ideographic groups (PS3.5 J.2)', () => {
    const text = decodeText(Buffer.from('Wang^XiaoDong=王^小東=', 'utf8'), 'ISO_IR 192', 'PN');
    expect(text).toBe('Wang^XiaoDong=王^小東=');
    expect(parsePersonName(text)).toEqual({ alphabetic: 'Wang^XiaoDong', ideographic: '王^小東' });
  });

  it('decodes a name written only in Hanzi', () => {
    expect(decodeText(Buffer.from('张三', 'utf8'), 'ISO_IR 192', 'PN')).toBe('张三');
  });

  it('marks bytes that are not UTF-8 as invalid instead of passing them off as text', () => {
    const decoded = decodeTextChecked(gbk('张三'), new CharacterSet('ISO_IR 192'), 'PN');
    expect(decoded.valid).toBe(false);
    expect(decoded.text).toContain('\uFFFD');
  });
});

describe('GB18030 and GBK', () => {
  it('decodes GB18030 text including a four-byte character outside the BMP', () => {
    const encoded = iconv.encode('李四^𠀀', 'gb18030');
    expect(encoded.subarray(5, 9)).toEqual(Buffer.from([0x95, 0x32, 0x82, 0x36]));
    expect(decodeText(encoded, 'GB18030', 'PN')).toBe('李四^𠀀');
  });

  it('decodes GBK text', () => {
    expect(decodeText(gbk('王小明=北京协和医院'), 'GBK', 'LO')).toBe('王小明=北京协和医院');
  });

  it('keeps a GBK character whose second byte is 0x5C (a backslash) whole', () => {
    const value = gbk('乗\\二');
    expect(value[1]).toBe(0x5c);
    expect(decodeText(value, 'GBK', 'LO').split('\\')).toEqual(['乗', '二']);
  });

  it('encodes and decodes GB18030 as a round trip', () => {
    const text = '欧阳^娜娜=Ouyang^Nana';
    expect(decodeText(encodeText(text, 'GB18030', 'PN'), 'GB18030', 'PN')).toBe(text);
  });
});

describe('ISO 2022 IR 58 (GB2312 with code extensions)', () => {
  // PS3.5 Example K.2-1, byte for byte (without the trailing padding space).
  const k2 = bytes(
    'Zhang^XiaoDong=',
    [ESC, 0x24, 0x29, 0x41, 0xd5, 0xc5],
    '^',
    [ESC, 0x24, 0x29, 0x41, 0xd0, 0xa1, 0xb6, 0xab],
    '=',
  );

  it('decodes the standard example person name Zhang^XiaoDong=张^小东=', () => {
    const text = decodeText(k2, '\\ISO 2022 IR 58', 'PN');
    expect(text).toBe('Zhang^XiaoDong=张^小东=');
    expect(parsePersonName(text)).toEqual({ alphabetic: 'Zhang^XiaoDong', ideographic: '张^小东' });
  });

  it('encodes the standard example to exactly its bytes, re-designating GB2312 after ^', () => {
    expect(encodeText('Zhang^XiaoDong=张^小东=', '\\ISO 2022 IR 58', 'PN')).toEqual(k2);
  });

  it('accepts the two-value form with ISO 2022 IR 6 as value 1', () => {
    expect(decodeText(k2, 'ISO 2022 IR 6\\ISO 2022 IR 58', 'PN')).toBe('Zhang^XiaoDong=张^小东=');
  });

  it('decodes long text where every line re-designates GB2312 (PS3.5 Example K.3-1)', () => {
    const line = (n: number, second: number[]) => bytes([0x30 + n, 0x2e, ESC, 0x24, 0x29, 0x41, 0xb5, 0xda, ...second, 0xd0, 0xd0, 0xce, 0xc4, 0xd7, 0xd6, 0xa1, 0xa3, 0x0d, 0x0a]);
    const lt = Buffer.concat([line(1, [0xd2, 0xbb]), line(2, [0xb6, 0xfe]), line(3, [0xc8, 0xfd])]);
    expect(decodeText(lt, '\\ISO 2022 IR 58', 'LT')).toBe('1.第一行文字。\r\n2.第二行文字。\r\n3.第三行文字。\r\n');
  });

  it('reads GB2312 bytes whose escape sequence the sender left out, as the declaration names GB2312', () => {
    expect(decodeText(bytes('Li^', gbk('李')), '\\ISO 2022 IR 58', 'PN')).toBe('Li^李');
  });

  it('reads GB2312 designated to G0 (ESC $ A, high bits clear), which some senders write', () => {
    const gl = Array.from(gbk('张'), (b) => b & 0x7f);
    expect(decodeText(bytes([ESC, 0x24, 0x41, ...gl, ESC, 0x28, 0x42], '^San'), '\\ISO 2022 IR 58', 'PN')).toBe('张^San');
  });

  it('returns to the initial character set at ^ and = (PS3.5 6.1.2.5.3)', () => {
    // Value 1 puts Latin-1 in G1; GB2312 replaces it until the ^, after which 0xE9 is é again.
    const value = bytes([ESC, 0x24, 0x29, 0x41, 0xd5, 0xc5], '^', [0xe9], '=', [0xe9]);
    expect(decodeText(value, 'ISO 2022 IR 100\\ISO 2022 IR 58', 'PN')).toBe('张^é=é');
  });

  it('resets at the backslash between values of a multi-valued element', () => {
    const value = bytes([ESC, 0x24, 0x29, 0x41, 0xd5, 0xc5], '\\', [0xe9]);
    expect(decodeText(value, 'ISO 2022 IR 100\\ISO 2022 IR 58', 'LO')).toBe('张\\é');
  });

  it('flags an unknown escape sequence as invalid and skips it', () => {
    const decoded = decodeTextChecked(bytes([ESC, 0x24, 0x29, 0x5a], 'abc'), new CharacterSet('\\ISO 2022 IR 58'), 'LO');
    expect(decoded).toEqual({ text: 'abc', valid: false });
  });

  it('refuses to encode a character GB2312 does not have', () => {
    expect(() => encodeText('😀', '\\ISO 2022 IR 58', 'LO')).toThrow(/cannot be encoded/);
  });
});

describe('other ISO 2022 sets', () => {
  it('decodes Japanese JIS X 0208 in G0, switching back to ASCII before each delimiter (PS3.5 H.3.1)', () => {
    const jis = (s: string) => [ESC, 0x24, 0x42, ...Array.from(iconv.encode(s, 'euc-jp'), (b) => b & 0x7f), ESC, 0x28, 0x42];
    const value = bytes('Yamada^Tarou=', jis('山田'), '^', jis('太郎'), '=', jis('やまだ'), '^', jis('たろう'));
    expect(decodeText(value, '\\ISO 2022 IR 87', 'PN')).toBe('Yamada^Tarou=山田^太郎=やまだ^たろう');
    expect(encodeText('Yamada^Tarou=山田^太郎=やまだ^たろう', '\\ISO 2022 IR 87', 'PN')).toEqual(value);
  });

  it('decodes Korean KS X 1001 in G1 (PS3.5 I.2)', () => {
    const ks = (s: string) => [ESC, 0x24, 0x29, 0x43, ...iconv.encode(s, 'euc-kr')];
    const value = bytes('Hong^Gildong=', ks('洪'), '^', ks('吉洞'), '=', ks('홍'), '^', ks('길동'));
    expect(decodeText(value, '\\ISO 2022 IR 149', 'PN')).toBe('Hong^Gildong=洪^吉洞=홍^길동');
  });
});

describe('single-byte character sets', () => {
  it('decodes Latin-1 (ISO_IR 100)', () => {
    expect(decodeText(Buffer.from('Müller^Jürgen', 'latin1'), 'ISO_IR 100', 'PN')).toBe('Müller^Jürgen');
  });

  it('decodes Cyrillic (ISO_IR 144)', () => {
    expect(decodeText(iconv.encode('Иванов', 'iso-8859-5'), 'ISO_IR 144', 'PN')).toBe('Иванов');
  });
});

describe('no declared character set', () => {
  it('decodes ASCII as ASCII', () => {
    expect(decodeTextChecked(Buffer.from('Smith^John'), new CharacterSet(undefined), 'PN')).toEqual({ text: 'Smith^John', valid: true });
  });

  it('decodes valid UTF-8 as UTF-8 and says it assumed so', () => {
    expect(decodeTextChecked(Buffer.from('张三', 'utf8'), new CharacterSet(undefined), 'PN')).toEqual({ text: '张三', valid: true, assumed: 'ISO_IR 192' });
  });

  it('decodes anything else as GB18030 and says it assumed so', () => {
    expect(decodeTextChecked(gbk('张三'), new CharacterSet(''), 'PN')).toEqual({ text: '张三', valid: true, assumed: 'GB18030' });
  });

  it('treats ISO_IR 6 like no declaration', () => {
    expect(decodeTextChecked(gbk('李四'), new CharacterSet('ISO_IR 6'), 'PN').assumed).toBe('GB18030');
  });

  it('decides for the whole data set: one GBK value that happens to be valid UTF-8 does not make it UTF-8', () => {
    const yi = gbk('一'); // D2 BB is also valid UTF-8 ("һ")
    expect(undeclaredCharsetGuess([yi])).toBe('ISO_IR 192');
    expect(undeclaredCharsetGuess([Buffer.from('CT'), yi, gbk('北京协和医院')])).toBe('GB18030');
    expect(undeclaredCharsetGuess([Buffer.from('CT'), Buffer.from('Smith')])).toBeUndefined();
  });

  it('reads the whole value with the data set decision once one is made', () => {
    expect(decodeText(gbk('一'), new CharacterSet(undefined, 'GB18030'), 'LO')).toBe('一');
  });
});

describe('Specific Character Set terms', () => {
  it('normalizes spellings found in the field', () => {
    expect(normalizeTerm('iso-ir 100')).toBe('ISO_IR 100');
    expect(normalizeTerm(' ISO_IR_192 ')).toBe('ISO_IR 192');
    expect(normalizeTerm('ISO2022 IR58')).toBe('ISO 2022 IR 58');
    expect(normalizeTerm('UTF-8')).toBe('ISO_IR 192');
    expect(normalizeTerm('GB2312')).toBe('GB18030');
    expect(normalizeTerm('gb18030')).toBe('GB18030');
  });

  it('knows which terms it does not know', () => {
    const cs = new CharacterSet('ISO_IR 999');
    expect(cs.unknownTerms).toEqual(['ISO_IR 999']);
    expect(cs.kind).toBe('default');
  });

  it('reads a multi-valued declaration that starts with a single-byte term as code extensions', () => {
    const cs = new CharacterSet('ISO_IR 100\\ISO 2022 IR 58');
    expect(cs.kind).toBe('iso2022');
    expect(decodeText(bytes('M', [0xfc], 'ller ', [ESC, 0x24, 0x29, 0x41], gbk('张')), cs)).toBe('Müller 张');
  });
});
