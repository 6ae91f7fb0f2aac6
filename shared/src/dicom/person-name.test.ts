import { formatPersonName, parsePersonName, personNameComponents, personNameToJson } from './person-name';

describe('person names', () => {
  it('keeps the alphabetic, ideographic and phonetic groups with their ^ components', () => {
    expect(parsePersonName('Wang^XiaoDong=王^小東=wang^xiao dong')).toEqual({ alphabetic: 'Wang^XiaoDong', ideographic: '王^小東', phonetic: 'wang^xiao dong' });
  });

  it('leaves out empty groups, trailing = and padding', () => {
    expect(parsePersonName('=张^三= ')).toEqual({ ideographic: '张^三' });
    expect(parsePersonName('Zhang^XiaoDong=张^小东=')).toEqual({ alphabetic: 'Zhang^XiaoDong', ideographic: '张^小东' });
    expect(parsePersonName('^^=^')).toBeUndefined();
    expect(parsePersonName('')).toBeUndefined();
  });

  it('formats a name back without trailing empty groups', () => {
    expect(formatPersonName({ alphabetic: 'Wang^XiaoDong', ideographic: '王^小東' })).toBe('Wang^XiaoDong=王^小東');
    expect(formatPersonName({ ideographic: '张三' })).toBe('=张三');
  });

  it('writes the DICOM JSON form (PS3.18 F.2.2)', () => {
    expect(personNameToJson({ alphabetic: 'Wang^XiaoDong', ideographic: '王^小東' })).toEqual({ Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小東' });
  });

  it('splits a group into family, given, middle, prefix and suffix', () => {
    expect(personNameComponents('Adams^John Robert Quincy^^Rev.^B.A. M.Div.')).toEqual({
      familyName: 'Adams',
      givenName: 'John Robert Quincy',
      prefix: 'Rev.',
      suffix: 'B.A. M.Div.',
    });
    expect(personNameComponents('王^小東')).toEqual({ familyName: '王', givenName: '小東' });
  });
});
