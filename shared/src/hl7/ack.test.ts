import iconv from 'iconv-lite';
import { badInput } from '../errors';
import { adtA01, join, oru, oruV23 } from './fixtures';
import { ackErrorFromHubError, buildAck, buildAckForUnparseable, encodeText, parseMessage, versionAtLeast } from './index';

const now = new Date('2024-03-15T02:30:05Z'); // 10:30:05 in Beijing
const original = parseMessage(Buffer.from(join(oru('UNICODE UTF-8'))));
const lines = (ack: string) => ack.split('\r').filter(Boolean);

describe('buildAck', () => {
  it('accepts with AA: parties swapped, ACK^R01^ACK, new control id, MSH-11/12/18 copied', () => {
    const ack = buildAck(original, { code: 'AA', controlId: 'HUB-0001', now });
    expect(lines(ack)).toEqual([
      'MSH|^~\\&|HUB|REGION|LIS|BJXH^12400000400002244A^ISO|20240315103005+0800||ACK^R01^ACK|HUB-0001|P|2.5.1||||||UNICODE UTF-8',
      'MSA|AA|LIS20240315000123',
    ]);
    const parsed = parseMessage(ack);
    expect(parsed.messageType).toEqual({ code: 'ACK', trigger: 'R01', structure: 'ACK' });
    expect(parsed.get('MSH-6.2')).toBe('12400000400002244A');
  });

  it('reports an application error with ERR-2 location and ERR-3 HL7 code (v2.5 style)', () => {
    const ack = buildAck(original, {
      code: 'AE',
      controlId: 'HUB-0002',
      now,
      errors: [
        { location: 'PID-3', code: 101, message: 'PID-3 must name the patient', applicationCode: 'missing-patient-id' },
        { location: 'PID-3[2].1', code: 102, message: 'national ID check digit does not match', severity: 'E', applicationCode: 'national-id-check-digit' },
        { location: 'OBX[4]-6', code: 103, message: 'unit not in the catalog', severity: 'W' },
      ],
    });
    const msg = parseMessage(ack);
    expect(lines(ack).slice(1)).toEqual([
      'MSA|AE|LIS20240315000123|PID-3 must name the patient',
      'ERR||PID^1^3|101^Required field missing^HL70357|E|missing-patient-id|||PID-3 must name the patient',
      'ERR||PID^1^3^2^1|102^Data type error^HL70357|E|national-id-check-digit|||national ID check digit does not match',
      'ERR||OBX^4^6|103^Table value not found^HL70357|W||||unit not in the catalog',
    ]);
    expect(msg.segments('ERR')).toHaveLength(3);
    expect(msg.get('ERR[1]-2.1')).toBe('PID');
  });

  it('rejects with AR and a message-level error', () => {
    const ack = buildAck(original, { code: 'AR', controlId: 'HUB-0003', now, text: 'ORU^R01 from this sender is not enabled', errors: [{ location: 'MSH-9', code: 200 }] });
    const msg = parseMessage(ack);
    expect(msg.get('MSA-1')).toBe('AR');
    expect(msg.get('MSA-3')).toBe('ORU^R01 from this sender is not enabled');
    expect(lines(ack)[1]).toBe('MSA|AR|LIS20240315000123|ORU\\S\\R01 from this sender is not enabled');
    expect(lines(ack)[2]).toBe('ERR||MSH^1^9|200^Unsupported message type^HL70357|E');
  });

  it('writes v2.3 ACKs with a two-part MSH-9 and ERR-1 locations', () => {
    const v23 = parseMessage(join(oruV23));
    const ack = buildAck(v23, {
      code: 'AE',
      controlId: 'HUB-0004',
      now,
      errors: [
        { location: 'PID-3', code: 101, message: 'no MRN' },
        { location: 'OBX-5', code: 102, message: 'not a number' },
      ],
    });
    expect(lines(ack)).toEqual([
      'MSH|^~\\&|HUB|REGION|LIS|HOSP2|20240315103005+0800||ACK^R01|HUB-0004|P|2.3',
      'MSA|AE|V23-0001|no MRN',
      'ERR|PID^1^3^101&Required field missing&HL70357~OBX^1^5^102&Data type error&HL70357',
    ]);
  });

  it('writes v2.4 ACKs with the message structure but ERR-1 locations', () => {
    const ack = buildAck(parseMessage(join(adtA01)), { code: 'AE', controlId: 'H5', now, errors: [{ location: 'PID-3', code: 101 }] });
    expect(lines(ack)[0]).toContain('|ACK^A01^ACK|H5|P|2.4|');
    expect(lines(ack)[2]).toBe('ERR|PID^1^3^101&Required field missing&HL70357');
  });

  it('escapes text with the original delimiters and survives a round trip', () => {
    const custom = parseMessage(join(['MSH*:!@#*LIS*H*HUB*R*20240315**ORU:R01*C-7*P*2.5.1', 'PID*1']));
    const text = 'bad value "a*b:c" in\nOBX-5 @ line 2';
    const ack = buildAck(custom, { code: 'AE', controlId: 'H6', now, errors: [{ location: 'PID-3', code: 101, message: text }] });
    expect(ack.startsWith('MSH*:!@#*HUB*R*LIS*H*')).toBe(true);
    expect(ack).toContain('bad value "a@F@b@S@c" in@.br@OBX-5 @E@ line 2');
    const msg = parseMessage(ack);
    expect([msg.get('MSA-3'), msg.get('ERR-8'), msg.get('ERR-2.1')]).toEqual([text, text, 'PID']);
  });

  it('answers a GB18030 message in GB18030 with its MSH-18', () => {
    const gb = parseMessage(iconv.encode(join(oru('GB18030')), 'gb18030'));
    const ack = buildAck(gb, { code: 'AE', controlId: 'H7', now, errors: [{ location: 'PID-5', code: 101, message: '缺少患者姓名' }] });
    const bytes = encodeText(ack, gb.charset);
    expect(bytes.includes(iconv.encode('缺少患者姓名', 'gb18030'))).toBe(true);
    const back = parseMessage(bytes);
    expect([back.charset, back.get('MSH-18'), back.get('ERR-8')]).toEqual(['gb18030', 'GB18030', '缺少患者姓名']);
  });

  it('writes MSH-7 with the configured offset', () => {
    const ack = buildAck(original, { code: 'AA', controlId: 'H8', now, utcOffsetMinutes: -90 });
    expect(parseMessage(ack).get('MSH-7')).toBe('20240315010005-0130');
  });

  it('leaves out a location it cannot read but still sends the error', () => {
    const ack = buildAck(original, { code: 'AR', controlId: 'H9', now, errors: [{ location: 'segment 4', code: 102, message: 'line 4 is not a segment' }] });
    expect(lines(ack)[2]).toBe('ERR|||102^Data type error^HL70357|E||||line 4 is not a segment');
  });
});

describe('buildAckForUnparseable', () => {
  it('echoes what it can read of a broken MSH and rejects with AR', () => {
    const bytes = Buffer.from('MSH|^~1&|LIS|BJXH|HUB|REGION|20240315||ORU^R01^ORU_R01|LIS-77|P|2.4\rPID|1');
    let error;
    try {
      parseMessage(bytes);
    } catch (err) {
      error = ackErrorFromHubError(err);
    }
    const ack = buildAckForUnparseable(bytes, { controlId: 'H10', now, errors: [error!] });
    expect(lines(ack)).toEqual([
      'MSH|^~\\&|HUB|REGION|LIS|BJXH|20240315103005+0800||ACK^R01^ACK|H10|P|2.4',
      'MSA|AR|LIS-77|MSH-2 encoding characters must be punctuation (no letters, digits, spaces or control characters)',
      'ERR|MSH^1^2^102&Data type error&HL70357',
    ]);
  });

  it('still answers garbage, with no control id to echo', () => {
    const ack = buildAckForUnparseable(Buffer.from([0x00, 0xff, 0x7c, 0x0d]), { controlId: 'H11', now });
    expect(lines(ack)).toEqual(['MSH|^~\\&|||||20240315103005+0800||ACK^^ACK|H11|P|2.5.1', 'MSA|AR||message could not be parsed']);
    expect(parseMessage(ack).get('MSA-1')).toBe('AR');
  });

  it('does not echo non-ASCII bytes it cannot decode', () => {
    const bytes = iconv.encode('MSH|^~\\&|检验|医院|HUB|R|20240315||ORU^R01|C-8|P|2.5.1|||||BOGUS', 'gb18030');
    const ack = buildAckForUnparseable(bytes, { controlId: 'H12', now, text: 'unknown charset' });
    expect(lines(ack)[0]).toBe('MSH|^~\\&|HUB|R|||20240315103005+0800||ACK^R01^ACK|H12|P|2.5.1');
    expect(lines(ack)[1]).toBe('MSA|AR|C-8|unknown charset');
  });
});

describe('ackErrorFromHubError', () => {
  it('maps parse refusals to HL7 error codes and keeps our code in ERR-5', () => {
    expect(ackErrorFromHubError(badInput('x', { location: 'MSH', code: 'missing-msh' }))).toEqual({ code: 100, message: 'x', location: 'MSH', applicationCode: 'missing-msh' });
    expect(ackErrorFromHubError(badInput('x', { location: 'MSH-10', code: 'missing-field' })).code).toBe(101);
    expect(ackErrorFromHubError(badInput('x', { location: 'MSH-12', code: 'unsupported-version' })).code).toBe(203);
    expect(ackErrorFromHubError(badInput('x', { code: 'national-id-check-digit' })).code).toBe(102);
  });

  it('never echoes the text of an unexpected error', () => {
    expect(ackErrorFromHubError(new Error('duplicate key (id)=(110101199003074514)'))).toEqual({ code: 207, message: 'application internal error' });
  });
});

describe('versionAtLeast', () => {
  it('compares dotted versions numerically', () => {
    expect(versionAtLeast('2.5.1', [2, 5])).toBe(true);
    expect(versionAtLeast('2.5', [2, 5, 1])).toBe(false);
    expect(versionAtLeast('2.10', [2, 5])).toBe(true);
    expect(versionAtLeast('2.3', [2, 3, 1])).toBe(false);
    expect(versionAtLeast('2.3.1', [2, 3, 1])).toBe(true);
  });
});
