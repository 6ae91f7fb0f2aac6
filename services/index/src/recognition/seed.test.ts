import { isWellFormedLoinc, loincCheckDigit, LOINC_SYSTEM, seedCatalogItems } from '.';

describe('the seed catalog', () => {
  const lab = seedCatalogItems.filter((i) => i.kind === 'lab');
  const imaging = seedCatalogItems.filter((i) => i.kind === 'imaging');
  const loincCodes = [
    ...lab.flatMap((i) => (i.loinc ?? []).map((code) => ({ item: i.code, code }))),
    ...imaging.flatMap((i) => (i.procedureCodes ?? []).filter((c) => c.system === LOINC_SYSTEM).map((c) => ({ item: i.code, code: c.code }))),
  ];

  it('has at least 20 imaging and 30 lab items, each with a unique code', () => {
    expect(imaging.length).toBeGreaterThanOrEqual(20);
    expect(lab.length).toBeGreaterThanOrEqual(30);
    expect(new Set(seedCatalogItems.map((i) => i.code)).size).toBe(seedCatalogItems.length);
  });

  it('covers the modalities and lab areas a city catalogue lists', () => {
    expect(new Set(imaging.map((i) => i.category))).toEqual(new Set(['CT', 'MR', 'DR', 'MG', 'US']));
    expect(new Set(lab.map((i) => i.category))).toEqual(
      new Set(['haematology', 'clinical-chemistry', 'coagulation', 'endocrinology', 'tumour-markers', 'infectious-serology', 'urinalysis']),
    );
    for (const code of ['LAB-K', 'LAB-NA', 'LAB-CL', 'LAB-ALT', 'LAB-AST', 'LAB-TBIL', 'LAB-ALB', 'LAB-TP', 'LAB-CREA', 'LAB-UREA', 'LAB-GLU', 'LAB-HBA1C', 'LAB-TC', 'LAB-TG', 'LAB-HDL', 'LAB-LDL', 'LAB-CBC', 'LAB-PT', 'LAB-TSH', 'LAB-FT3', 'LAB-FT4', 'LAB-AFP', 'LAB-CEA', 'LAB-HBSAG', 'LAB-HIV', 'LAB-TPAB', 'LAB-URINE']) {
      expect(lab.map((i) => i.code)).toContain(code);
    }
  });

  it.each(loincCodes.map((c) => [c.code, c.item]))('LOINC %s (%s) carries the right check digit', (code) => {
    expect(isWellFormedLoinc(code)).toBe(true);
  });

  it('maps each LOINC code to one item only', () => {
    const codes = loincCodes.map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('keys imaging items by DICOM modality and Body Part Examined defined terms, each key to one item', () => {
    const keys = imaging.flatMap((i) => i.imaging ?? []);
    for (const [modality, bodyPart] of keys) {
      expect(['CT', 'MR', 'DX', 'CR', 'MG', 'US']).toContain(modality);
      expect(bodyPart).toMatch(/^[A-Z]{2,16}$/);
    }
    expect(new Set(keys.map((k) => k.join(' '))).size).toBe(keys.length);
    expect(imaging.every((i) => (i.imaging ?? []).length > 0 && i.filmsPerExam !== undefined)).toBe(true);
  });

  it('uses the windows of the provincial model: 7 days electrolytes, 30 stable chemistry, 60 HbA1c, longer for imaging', () => {
    const window = (code: string) => seedCatalogItems.find((i) => i.code === code)!.validityDays;
    expect([window('LAB-K'), window('LAB-NA'), window('LAB-CL')]).toEqual([7, 7, 7]);
    expect([window('LAB-TP'), window('LAB-ALB'), window('LAB-GLU'), window('LAB-TC'), window('LAB-TBIL')]).toEqual([30, 30, 30, 30, 30]);
    expect(window('LAB-HBA1C')).toBe(60);
    expect(Math.min(...imaging.map((i) => i.validityDays))).toBeGreaterThan(Math.max(...lab.filter((i) => i.code !== 'LAB-HBA1C').map((i) => i.validityDays)));
  });
});

describe('LOINC check digits', () => {
  it('computes the mod-10 digit LOINC publishes', () => {
    expect(loincCheckDigit('12345')).toBe(5);
    expect(loincCheckDigit('4548')).toBe(4);
    expect(loincCheckDigit('2345')).toBe(7);
    expect(loincCheckDigit('13457')).toBe(7);
  });

  it.each(['4548-5', '2345-0', '4548', '4548-44', 'A548-4', '12345678-9', ''])('refuses %p', (code) => {
    expect(isWellFormedLoinc(code)).toBe(false);
  });
});
