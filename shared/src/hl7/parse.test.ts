import iconv from 'iconv-lite';
import { HubError } from '../errors';
import { adtA01, adtA04, adtA08, adtA40, join, oru, oruBody, oruV23 } from './fixtures';
import { component, field, HL7_NULL, parseMessage } from './index';

function refusal(run: () => unknown): HubError {
  try {
    run();
  } catch (err) {
    if (err instanceof HubError) return err;
    throw err;
  }
  throw new Error('expected a BadInput refusal, got a message');
}

describe('parseMessage on a Chinese LIS ORU^R01 v2.5.1', () => {
  const msg = parseMessage(Buffer.from(join(oru('UNICODE UTF-8')), 'utf8'));

  it('reads the header with standard MSH numbering', () => {
    expect(msg.get('MSH-1')).toBe('|');
    expect(msg.get('MSH-2')).toBe('^~\\&');
    expect(msg.get('MSH-3')).toBe('LIS');
    expect(msg.get('MSH-4.2')).toBe('12400000400002244A');
    expect(msg.get('MSH-9')).toBe('ORU');
    expect(msg.messageType).toEqual({ code: 'ORU', trigger: 'R01', structure: 'ORU_R01' });
    expect(msg.controlId).toBe('LIS20240315000123');
    expect(msg.version).toBe('2.5.1');
    expect(msg.processingId).toBe('P');
    expect(msg.charset).toBe('utf8');
    expect(msg.charsetSource).toBe('msh-18');
  });

  it('keeps every segment in order, Z-segments included', () => {
    expect(msg.segments().map((s) => s.name)).toEqual(['MSH', 'PID', 'PV1', 'ORC', 'OBR', ...Array(8).fill('OBX'), 'NTE', 'ZLS']);
    expect(msg.segments('OBX')).toHaveLength(8);
    expect(msg.get('ZLS-1')).toBe('院内扩展字段');
    expect(msg.get('ZLS-2.3')).toBe('王五');
  });

  it('reads PID-3 repetitions with the national ID and its identifier type code', () => {
    const ids = msg.repetitions('PID-3');
    expect(ids).toHaveLength(3);
    expect(ids.map((id) => [component(id, 1), component(id, 4), component(id, 5)])).toEqual([
      ['M0012345', 'BJXH', 'MR'],
      ['110101199003074514', 'CHN', 'NNCHN'],
      ['G33010219900307451', 'CHN', 'PPN'],
    ]);
    expect(msg.get('PID-3')).toBe('M0012345');
    expect(msg.get('PID-3[2].1')).toBe('110101199003074514');
    expect(msg.get('PID-3[2]-5')).toBe('NNCHN');
    expect(msg.segment('PID')!.get('3[2].4')).toBe('CHN');
    expect(field(msg.segment('PID'), 3)).toBe(ids);
    expect(field(msg.segment('IN1'), 3)).toEqual([]);
  });

  it('reads the Chinese name and its name type', () => {
    expect(msg.get('PID-5')).toBe('张三');
    expect(msg.get('PID-5.7')).toBe('L');
    expect(msg.get('PID-5[2].2')).toBe('San');
    expect(msg.get('PID-11.3')).toBe('北京市');
  });

  it('reads OBX values of each data type with Chinese units', () => {
    const obx = msg.segments('OBX');
    expect(obx.map((o) => o.value(2))).toEqual(['NM', 'NM', 'NM', 'SN', 'ST', 'TX', 'CWE', 'CE']);
    expect(msg.get('OBX[2]-6')).toBe('个/μL');
    expect(msg.get('OBX[3]-6')).toBe('mmol/L');
    expect(msg.get('OBX[1]-3.2')).toBe('白细胞计数');
    expect([msg.get('OBX[4]-5.1'), msg.get('OBX[4]-5.2')]).toEqual(['>', '100']);
    expect(msg.get('OBX[5]-5')).toBe('A型 Rh&(D)阳性');
    expect(msg.get('OBX[6]-5')).toBe('未见异常细胞\n红细胞大小均一');
    expect(obx[6]!.field(5)).toEqual([[['NEG'], ['阴性'], ['L']]]);
    expect(msg.get('OBX[8]-8')).toBe('A');
    expect(msg.get('NTE-3')).toBe('标本轻度溶血，结果仅供参考');
  });

  it('reads sub-components', () => {
    expect(msg.get('OBR-15')).toBe('血液');
    expect(msg.get('OBR-15.1.2')).toBe('Blood');
  });

  it('answers undefined for what is not there', () => {
    expect(msg.get('PID-3[9].1')).toBeUndefined();
    expect(msg.get('OBX[99]-5')).toBeUndefined();
    expect(msg.get('PID-30')).toBeUndefined();
    expect(msg.get('PID-2')).toBeUndefined();
    expect(msg.repetitions('PID-2')).toEqual([]);
    expect(msg.segment('IN1')).toBeUndefined();
  });

  it('rejects malformed paths as a programming error', () => {
    expect(() => msg.get('pid-3')).toThrow(/not an HL7 location/);
    expect(() => msg.get('PID-0')).toThrow(/1-based/);
    expect(() => msg.get('PID-3[0]')).toThrow(/1-based/);
  });
});

describe('parseMessage line endings and framing noise', () => {
  const segments = oru('UNICODE UTF-8');

  it.each([
    ['CR', '\r'],
    ['CRLF', '\r\n'],
    ['LF', '\n'],
  ])('reads %s segment terminators the same', (_name, terminator) => {
    const msg = parseMessage(Buffer.from(join(segments, terminator) + terminator + terminator));
    expect(msg.segments()).toHaveLength(segments.length);
    expect(msg.get('ZLS-1')).toBe('院内扩展字段');
    expect(msg.get('OBX[8]-11')).toBe('F');
  });

  it('accepts a missing final terminator, a BOM and blank lines before MSH', () => {
    const msg = parseMessage(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\r\n' + segments.join('\r'))]));
    expect(msg.segments()).toHaveLength(segments.length);
  });

  it('skips blank lines between segments and counts segments without them', () => {
    const msg = parseMessage(Buffer.from(segments.join('\r\n\r\n')));
    expect(msg.segments()).toHaveLength(segments.length);
    const err = refusal(() => parseMessage(segments.slice(0, 3).join('\n\n') + '\n\nnot a segment'));
    expect(err.detail).toEqual({ location: 'segment 4', code: 'bad-segment-name' });
  });

  it('keeps a bare LF inside a value when segments end with CR', () => {
    const msg = parseMessage(join([segments[0]!, 'OBX|1|TX|NOTE||第一行\n第二行||||||F']));
    expect(msg.get('OBX-5')).toBe('第一行\n第二行');
    expect(msg.get('OBX-11')).toBe('F');
  });
});

describe('parseMessage encoding characters and escapes', () => {
  it('reads custom delimiters from MSH-1 and MSH-2', () => {
    const msg = parseMessage(
      join([
        'MSH*:!@#*LIS*HOSP*HUB*REGION*20240315**ORU:R01:ORU_R01*C-7*P*2.5.1',
        'PID*1**M001:::HOSP:MR!110101199003074514:::CHN:NNCHN**张三::::::L',
        'OBX*1*ST*X**a@F@b@S@c@T@d@R@e@E@f|^~\\&',
      ]),
    );
    expect(msg.encoding).toEqual({ field: '*', component: ':', repetition: '!', escape: '@', subcomponent: '#' });
    expect(msg.get('MSH-2')).toBe(':!@#');
    expect(msg.messageType).toEqual({ code: 'ORU', trigger: 'R01', structure: 'ORU_R01' });
    expect(msg.get('PID-3[2].5')).toBe('NNCHN');
    expect(msg.get('OBX-5')).toBe('a*b:c#d!e@f|^~\\&');
  });

  it('decodes every escape sequence in values', () => {
    const msg = parseMessage(
      join([
        'MSH|^~\\&|LIS|H|HUB|R|20240315||ORU^R01|E1|P|2.5.1|||||UNICODE UTF-8',
        'OBX|1|FT|X||\\H\\危急\\N\\值\\.br\\a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f||||||F',
        'OBX|2|ST|X||\\XE5BCA0\\三 \\XE5BC\\\\XA0\\',
        'OBX|3|ST|X||C:\\temp\\x \\Zlocal\\ end\\',
      ]),
    );
    expect(msg.get('OBX[1]-5')).toBe('危急值\na|b^c&d~e\\f');
    expect(msg.get('OBX[2]-5')).toBe('张三 张');
    expect(msg.get('OBX[3]-5')).toBe('C:\\temp\\x \\Zlocal\\ end\\');
  });

  it('decodes \\X..\\ bytes in the message charset', () => {
    const gb = iconv.encode('张', 'gb18030').toString('hex').toUpperCase();
    const msg = parseMessage(iconv.encode(join([oru('GB18030')[0]!, `OBX|1|ST|X||\\X${gb}\\三`]), 'gb18030'));
    expect(msg.get('OBX-5')).toBe('张三');
  });

  it('keeps the explicit HL7 null apart from an empty field', () => {
    const msg = parseMessage(join([oru('')[0]!, 'PID|1||M1^^^H^MR||""']));
    expect(msg.get('PID-5')).toBe(HL7_NULL);
    expect(msg.get('PID-4')).toBeUndefined();
  });
});

describe('parseMessage refusals', () => {
  const msh = oru('')[0]!;

  it.each([
    ['a message starting with PID', Buffer.from(join(oruBody)), 'MSH', 'missing-msh'],
    ['an empty message', Buffer.alloc(0), 'MSH', 'missing-msh'],
    ['binary garbage', Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d]), 'MSH', 'missing-msh'],
    ['a batch header', Buffer.from('FHS|^~\\&|LIS\rBHS|^~\\&\r' + join(oru(''))), 'MSH', 'missing-msh'],
    ['"MSH" alone', Buffer.from('MSH'), 'MSH-1', 'bad-encoding-characters'],
    ['a letter as field separator', Buffer.from('MSHX^~\\&X'), 'MSH-1', 'bad-encoding-characters'],
    ['three encoding characters', Buffer.from('MSH|^~\\|LIS'), 'MSH-2', 'bad-encoding-characters'],
    ['a repeated delimiter', Buffer.from('MSH|^~\\^|LIS'), 'MSH-2', 'bad-encoding-characters'],
    ['a digit delimiter', Buffer.from('MSH|^~1&|LIS'), 'MSH-2', 'bad-encoding-characters'],
    ['a message cut inside MSH', Buffer.from(msh.slice(0, 60)), 'MSH-9', 'missing-field'],
    ['no control id', Buffer.from('MSH|^~\\&|LIS|H|HUB|R|20240315||ORU^R01||P|2.5'), 'MSH-10', 'missing-field'],
    ['no version', Buffer.from('MSH|^~\\&|LIS|H|HUB|R|20240315||ORU^R01|C1|P'), 'MSH-12', 'missing-field'],
    ['a version that is not 2.x', Buffer.from('MSH|^~\\&|LIS|H|HUB|R|20240315||ORU^R01|C1|P|3.0'), 'MSH-12', 'unsupported-version'],
    ['two messages in one', Buffer.from(join([...oru(''), ...oru('')])), `segment ${oru('').length + 1}`, 'unexpected-msh'],
  ])('refuses %s', (_name, bytes, location, code) => {
    const err = refusal(() => parseMessage(bytes));
    expect(err.kind).toBe('BadInput');
    expect(err.detail).toEqual({ location, code });
  });

  it('reads a message cut between segments or inside one as what arrived: completeness is for MLLP framing and content checks', () => {
    const whole = join(oru(''));
    const cut = parseMessage(whole.slice(0, whole.indexOf('OBX|4|SN|') + 14));
    expect(cut.segments('OBX')).toHaveLength(4);
    expect(cut.get('OBX[4]-3.1')).toBe('CRP');
    expect(cut.get('OBX[4]-5')).toBeUndefined();
  });

  it('refuses a report line broken by a raw CR without echoing the patient text', () => {
    const err = refusal(() => parseMessage(join([msh, 'PID|1||M1^^^H^MR||张三', 'OBX|1|TX|R||第一行', '患者张三第二行||||||F'])));
    expect(err.detail).toEqual({ location: 'segment 4', code: 'bad-segment-name' });
    expect(err.message).not.toMatch(/张三|第二行/);
  });
});

describe('parseMessage on ADT and older dialects', () => {
  it('reads ADT^A01 (v2.4), A04 (v2.5) and A08 (v2.3)', () => {
    const a01 = parseMessage(Buffer.from(join(adtA01)));
    expect(a01.messageType).toEqual({ code: 'ADT', trigger: 'A01', structure: 'ADT_A01' });
    expect(a01.get('PID-3[2].1')).toBe('11010519491231002X');
    expect(a01.get('PV1-3.1')).toBe('内科');
    const a04 = parseMessage(Buffer.from(join(adtA04)));
    expect([a04.messageType.trigger, a04.get('EVN-1'), a04.version]).toEqual(['A04', 'A04', '2.5']);
    const a08 = parseMessage(Buffer.from(join(adtA08)));
    expect(a08.messageType).toEqual({ code: 'ADT', trigger: 'A08' });
    expect(a08.get('PID-11.3')).toBe('北京市');
  });

  it('reads ADT^A40 with the merged identifiers in MRG-1', () => {
    const msg = parseMessage(Buffer.from(join(adtA40)));
    expect(msg.messageType).toEqual({ code: 'ADT', trigger: 'A40', structure: 'ADT_A39' });
    expect(msg.get('PID-3')).toBe('M0099887');
    expect(msg.repetitions('MRG-1').map((r) => component(r, 1))).toEqual(['M0011111', 'M0022222']);
  });

  it('reads a v2.3 ORU with a two-part message type', () => {
    const msg = parseMessage(iconv.encode(join(oruV23), 'gb18030'));
    expect(msg.messageType).toEqual({ code: 'ORU', trigger: 'R01' });
    expect([msg.version, msg.charset]).toEqual(['2.3', 'gb18030']);
    expect(msg.get('PID-5')).toBe('李四');
    expect(msg.get('OBX-3.2')).toBe('葡萄糖');
  });

  it('reads national ID variants with an OID assigning authority', () => {
    const msg = parseMessage(join([oru('')[0]!, 'PID|1||110101199003074514^^^&2.16.156.10011.1.1&ISO^ID~m9^^^H^MR']));
    expect(msg.get('PID-3.4.2')).toBe('2.16.156.10011.1.1');
    expect(msg.get('PID-3.4.3')).toBe('ISO');
    expect(msg.get('PID-3.5')).toBe('ID');
  });
});
