import iconv from 'iconv-lite';
import { join, oru, oruV23 } from './fixtures';
import { encodeMessage, escapeValue, parseMessage, repeat, STANDARD_ENCODING, unescapeValue, type EncodingCharacters } from './index';

const custom: EncodingCharacters = { field: '*', component: ':', repetition: '!', escape: '@', subcomponent: '#' };
const utf8 = (b: Buffer) => b.toString('utf8');

describe('escapeValue', () => {
  it('escapes each delimiter, the escape character first', () => {
    expect(escapeValue('a|b^c&d~e\\f', STANDARD_ENCODING)).toBe('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f');
    expect(escapeValue('a*b:c#d!e@f|^', custom)).toBe('a@F@b@S@c@T@d@R@e@E@f|^');
  });

  it('writes line breaks as \\.br\\ so a value cannot end its segment', () => {
    expect(escapeValue('一\r\n二\n三\r四', STANDARD_ENCODING)).toBe('一\\.br\\二\\.br\\三\\.br\\四');
  });

  it('writes other control characters as \\Xhh\\ so a value cannot break MLLP framing', () => {
    expect(escapeValue('a\x0bb\x1cc\td', STANDARD_ENCODING)).toBe('a\\X0B\\b\\X1C\\c\td');
  });

  it('is undone by unescapeValue', () => {
    const value = '血型 A|B^C&D~E\\F\n第二行\x0b';
    expect(unescapeValue(escapeValue(value, STANDARD_ENCODING), STANDARD_ENCODING, utf8)).toBe(value);
    expect(unescapeValue(escapeValue(value, custom), custom, utf8)).toBe(value);
  });
});

describe('unescapeValue formatted-text commands', () => {
  const un = (s: string) => unescapeValue(s, STANDARD_ENCODING, utf8);

  it('turns line commands into newlines and drops layout-only hints', () => {
    expect(un('a\\.sp\\b\\.sp2\\c\\.ce\\d')).toBe('a\nb\n\nc\nd');
    expect(un('\\.in+4\\\\.ti-2\\\\.fi\\\\.nf\\\\.sk 3\\x')).toBe('x');
  });

  it('keeps unknown and unterminated sequences literally', () => {
    expect(un('\\Cxxyy\\ \\M2442\\ \\Z01\\ \\Xzz\\ \\X0\\')).toBe('\\Cxxyy\\ \\M2442\\ \\Z01\\ \\Xzz\\ \\X0\\');
    expect(un('100\\')).toBe('100\\');
    expect(un('\\\\')).toBe('\\\\');
  });
});

describe('encodeMessage', () => {
  it('builds a message from repetitions, components and sub-components', () => {
    const text = encodeMessage([
      ['MSH', '|', '^~\\&', 'HUB', 'REGION', 'LIS', 'BJXH', '20240315', null, ['ORU', 'R01', 'ORU_R01'], 'C1', 'P', '2.5.1'],
      ['PID', 1, null, repeat(['M1', null, null, 'BJXH', 'MR'], ['110101199003074514', null, null, 'CHN', 'NNCHN']), null, ['张三', '', '', '', '', '', 'L']],
      ['OBR', 1, null, null, null, null, null, null, null, null, null, null, null, null, null, [['血液', 'Blood']]],
      ['OBX', 1, 'TX', null, null, '第一行\n含|和^的文字', null, null, null, null, null, 'F', null, null, null, null],
    ]);
    expect(text).toBe(
      'MSH|^~\\&|HUB|REGION|LIS|BJXH|20240315||ORU^R01^ORU_R01|C1|P|2.5.1\r' +
        'PID|1||M1^^^BJXH^MR~110101199003074514^^^CHN^NNCHN||张三^^^^^^L\r' +
        'OBR|1||||||||||||||血液&Blood\r' +
        'OBX|1|TX|||第一行\\.br\\含\\F\\和\\S\\的文字||||||F\r',
    );
    const msg = parseMessage(text);
    expect(msg.get('PID-3[2].5')).toBe('NNCHN');
    expect(msg.get('OBR-15.1.2')).toBe('Blood');
    expect(msg.get('OBX-5')).toBe('第一行\n含|和^的文字');
  });

  it('writes a parsed message back exactly as a well-formed sender wrote it', () => {
    for (const segments of [oru('UNICODE UTF-8'), oruV23]) {
      const text = join(segments);
      expect(encodeMessage(parseMessage(text).segments())).toBe(text);
    }
  });

  it('round-trips values through parse(encode(x)) with custom delimiters', () => {
    const tricky = '*:!@#|^~\\& 张三\n第二行';
    const text = encodeMessage([
      ['MSH', '*', ':!@#', 'HUB', null, null, null, null, null, ['ACK', 'R01', 'ACK'], 'C9', 'P', '2.5'],
      ['NTE', 1, null, repeat(tricky, [tricky, [tricky, tricky]])],
    ]);
    expect(text.startsWith('MSH*:!@#*HUB')).toBe(true);
    const msg = parseMessage(text);
    expect(msg.encoding).toEqual(custom);
    expect(msg.segment('NTE')!.field(3)).toEqual([[[tricky]], [[tricky], [tricky, tricky]]]);
  });

  it('re-encodes a parsed message with other delimiters when told to', () => {
    const original = parseMessage(join(oru('UNICODE UTF-8')));
    const text = encodeMessage(original.segments(), { encoding: custom });
    const again = parseMessage(text);
    expect(text.startsWith('MSH*:!@#*LIS*BJXH:')).toBe(true);
    for (const path of ['PID-3[2].5', 'PID-5', 'OBX[5]-5', 'OBX[6]-5', 'OBR-15.1.2', 'MSH-9.3']) {
      expect(again.get(path)).toBe(original.get(path));
    }
  });

  it('produces GB18030 bytes a Chinese LIS reads back', () => {
    const text = encodeMessage([['MSH', '|', '^~\\&', 'HUB', null, null, null, null, null, ['ADT', 'A08'], 'C2', 'P', '2.5', null, null, null, null, null, 'GB18030'], ['PID', 1, null, null, null, '王芳']]);
    expect(parseMessage(iconv.encode(text, 'gb18030')).get('PID-5')).toBe('王芳');
  });
});
