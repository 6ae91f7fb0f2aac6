import { createHmac } from 'node:crypto';
import { HubError } from '../errors';
import { birthDateFromNationalId, maskNationalId, nationalIdHash, sexFromNationalId, validateNationalId } from './index';

/**
 * The check character computed independently of the code's weight table: ISO 7064
 * MOD 11-2 weighs position i (0-based from the left of 18) by 2^(17-i) mod 11, and picks
 * the check value c so that the weighted sum of all 18 (c weighted 1) is 1 mod 11.
 */
function withCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (2 ** (17 - i) % 11);
  const c = (12 - (sum % 11)) % 11;
  return first17 + (c === 10 ? 'X' : String(c));
}

function refusal(run: () => unknown): HubError {
  try {
    run();
  } catch (err) {
    if (err instanceof HubError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

const now = new Date('2024-03-15T04:00:00Z');

describe('validateNationalId', () => {
  it('accepts known valid numbers whose check characters agree with the independent computation', () => {
    for (const id of ['11010519491231002X', '110101199003074514']) {
      expect(withCheckCharacter(id.slice(0, 17))).toBe(id);
      expect(validateNationalId(id)).toBe(id);
    }
  });

  it('accepts generated numbers across check characters and leap days', () => {
    const generated = ['44030420000229123', '31011519000101001', '51010720231231998', '65010219800715432', '91010020100520003'].map(withCheckCharacter);
    for (const id of generated) expect(validateNationalId(id, { now })).toBe(id);
    // Cover all eleven check characters, X included.
    const checks = new Set<string>();
    for (let seq = 0; checks.size < 11; seq++) {
      const id = withCheckCharacter(`11010119900307${String(seq).padStart(3, '0')}`);
      expect(validateNationalId(id)).toBe(id);
      checks.add(id[17]!);
    }
  });

  it('normalizes a lowercase x, surrounding whitespace and full-width input', () => {
    expect(validateNationalId('11010519491231002x')).toBe('11010519491231002X');
    expect(validateNationalId(' \t11010519491231002X\r\n')).toBe('11010519491231002X');
    expect(validateNationalId('\u3000１１０１０５１９４９１２３１００２ｘ\u3000')).toBe('11010519491231002X');
  });

  it.each([
    ['17 characters', '11010519491231002', 'national-id-length'],
    ['19 characters', '11010519491231002X1', 'national-id-length'],
    ['nothing', '   ', 'national-id-length'],
    ['an inner space', '110105 19491231002X', 'national-id-length'],
    ['a letter inside', '1101051949123100AX', 'national-id-format'],
    ['X not last', '11010519491231X022', 'national-id-format'],
    ['a sign', '+11010519491231002', 'national-id-format'],
    ['month 13', withCheckCharacter('11010519491331002'), 'national-id-birth-date'],
    ['month 00', withCheckCharacter('11010519490031002'), 'national-id-birth-date'],
    ['day 00', withCheckCharacter('11010519491200002'), 'national-id-birth-date'],
    ['April 31', withCheckCharacter('11010519490431002'), 'national-id-birth-date'],
    ['29 February of 1999', withCheckCharacter('11010519990229002'), 'national-id-birth-date'],
    ['29 February of 1900 (not a leap year)', withCheckCharacter('11010519000229002'), 'national-id-birth-date'],
    ['31 December 1899', withCheckCharacter('11010518991231002'), 'national-id-birth-date'],
    ['a birth tomorrow', withCheckCharacter('11010520240316002'), 'national-id-birth-date'],
    ['a wrong check digit', '110105194912310021', 'national-id-check-digit'],
  ])('refuses %s', (_name, raw, code) => {
    const err = refusal(() => validateNationalId(raw, { now, location: 'PID-3[2]' }));
    expect(err.kind).toBe('BadInput');
    expect(err.detail).toEqual({ code, location: 'PID-3[2]' });
    // Nothing of the number reaches a message that may be logged.
    const digits = raw.replace(/\s/g, '');
    for (const piece of [digits, digits.slice(0, 6), digits.slice(6, 14), digits.slice(-4)]) {
      if (piece.length >= 4) expect(err.message).not.toContain(piece);
    }
  });

  it('refuses 15-digit legacy numbers and says why', () => {
    const err = refusal(() => validateNationalId('110105491231002'));
    expect(err.detail.code).toBe('national-id-length');
    expect(err.message).toMatch(/15-digit/);
    expect(err.message).toMatch(/not accepted/);
    expect(err.message).not.toContain('110105491231002');
  });

  it('refuses every wrong check character of a valid number', () => {
    const id = '110101199003074514';
    for (const c of '0123456789X'.replace(id[17]!, '')) {
      expect(refusal(() => validateNationalId(id.slice(0, 17) + c)).detail.code).toBe('national-id-check-digit');
    }
  });

  it('accepts the first day of 1900 and the 29th of February 2000', () => {
    for (const id of [withCheckCharacter('11010519000101002'), withCheckCharacter('11010520000229002')]) {
      expect(validateNationalId(id)).toBe(id);
    }
  });

  it('judges "future" by the date in China, not in UTC', () => {
    const bornOn16 = withCheckCharacter('11010520240316002');
    // 23:59:59 on the 15th in Beijing: the 16th is still the future.
    expect(refusal(() => validateNationalId(bornOn16, { now: new Date('2024-03-15T15:59:59Z') })).detail.code).toBe('national-id-birth-date');
    // Midnight on the 16th in Beijing is still the 15th in UTC: a newborn is accepted.
    expect(validateNationalId(bornOn16, { now: new Date('2024-03-15T16:00:00Z') })).toBe(bornOn16);
  });

  it('leaves the location out when none is given', () => {
    expect(refusal(() => validateNationalId('1')).detail).toEqual({ code: 'national-id-length' });
  });
});

describe('national ID helpers', () => {
  it('masks all but the first 6 and last 4 characters', () => {
    expect(maskNationalId('110101199003074514')).toBe('110101********4514');
    expect(maskNationalId(' 11010519491231002x ')).toBe('110105********002X');
  });

  it('refuses to mask an invalid number', () => {
    expect(refusal(() => maskNationalId('110101199003074515')).detail.code).toBe('national-id-check-digit');
  });

  it('reads the birth date and sex', () => {
    expect(birthDateFromNationalId('11010519491231002X')).toBe('1949-12-31');
    expect(sexFromNationalId('11010519491231002X')).toBe('female');
    expect(birthDateFromNationalId('110101199003074514')).toBe('1990-03-07');
    expect(sexFromNationalId('110101199003074514')).toBe('male');
  });

  it('hashes with HMAC-SHA256 of the canonical number: stable, and different per secret', () => {
    const id = '11010519491231002X';
    const hash = nationalIdHash(id, 'secret-a');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(createHmac('sha256', 'secret-a').update(id).digest('hex'));
    expect(nationalIdHash(' 11010519491231002x', 'secret-a')).toBe(hash);
    expect(nationalIdHash(id, Buffer.from('secret-a'))).toBe(hash);
    expect(nationalIdHash(id, 'secret-b')).not.toBe(hash);
    expect(nationalIdHash('110101199003074514', 'secret-a')).not.toBe(hash);
  });

  it('refuses to hash with an empty secret or an invalid number', () => {
    expect(() => nationalIdHash('11010519491231002X', '')).toThrow(/secret/);
    expect(refusal(() => nationalIdHash('11010519491231002', 'secret-a')).detail.code).toBe('national-id-length');
  });
});
