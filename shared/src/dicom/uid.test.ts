import { generateUid, HUB_IMPLEMENTATION_CLASS_UID, isValidUid, uidProblem } from './uid';

describe('isValidUid', () => {
  it.each(['1.2.840.10008.5.1.4.1.1.2', '2.25.0', '0', '1.2.3.0.4', `1.${'2'.repeat(62)}`])('accepts %s', (uid) => {
    expect(isValidUid(uid)).toBe(true);
  });

  it.each([
    ['', 'it is empty'],
    ['1.02', 'component 2 ("02") has a leading zero'],
    ['1..2', 'component 2 is empty'],
    ['.1', 'component 1 is empty'],
    ['1.2.', 'component 3 is empty'],
    ['1.2 ', 'it contains " " at position 4 (only digits and dots are allowed)'],
    ['1.2.a', 'it contains "a" at position 5 (only digits and dots are allowed)'],
    [`1.${'2'.repeat(63)}`, 'it is 65 characters long (at most 64)'],
  ])('rejects %j because %s', (uid, reason) => {
    expect(isValidUid(uid)).toBe(false);
    expect(uidProblem(uid)).toBe(reason);
  });
});

describe('generateUid', () => {
  it('makes distinct valid UIDs under the 2.25 root that fit in 64 characters', () => {
    const uids = Array.from({ length: 1000 }, generateUid);
    expect(new Set(uids).size).toBe(1000);
    for (const uid of uids) {
      expect(uid).toMatch(/^2\.25\.[1-9]\d*$/);
      expect(isValidUid(uid)).toBe(true);
      expect(uid.length).toBeLessThanOrEqual(44);
    }
  });

  it('uses a valid implementation class UID for the files the hub writes', () => {
    expect(isValidUid(HUB_IMPLEMENTATION_CLASS_UID)).toBe(true);
  });
});
