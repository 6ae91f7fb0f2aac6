/**
 * The lab reports the observation benchmark generates: four panels of ten results each, as
 * Chinese hospital laboratories report them (SI units, two-sided reference ranges, coded
 * serology). Every LOINC code is one of the seeded recognition catalogue's lab items
 * (services/index/src/recognition/seed/catalog.ts), except the five red-cell indices and
 * differential counts of the blood count, which the catalogue does not list as items of
 * their own. `share` is the panel's part of all reports, in percent.
 */
export interface Analyte {
  local: string;
  loinc: string;
  display: string;
  /** HL7 value type: NM (numbers), CWE (negative/positive). */
  type: 'NM' | 'CWE';
  /** Printed unit and its UCUM code. */
  unit?: string;
  ucum?: string;
  /** The reference range, which generated values spread a little beyond on both sides. */
  low?: number;
  high?: number;
  decimals?: number;
  /** Below this, the LIS reports "<limit" (value type SN). */
  detectionLimit?: number;
}

export interface Panel {
  local: string;
  display: string;
  loinc?: string;
  loincDisplay?: string;
  specimen: { type: string; display: string };
  share: number;
  analytes: Analyte[];
}

const nm = (local: string, loinc: string, display: string, unit: string, ucum: string, low: number, high: number, decimals: number, detectionLimit?: number): Analyte => ({
  local,
  loinc,
  display,
  type: 'NM',
  unit,
  ucum,
  low,
  high,
  decimals,
  ...(detectionLimit === undefined ? {} : { detectionLimit }),
});
const cwe = (local: string, loinc: string, display: string): Analyte => ({ local, loinc, display, type: 'CWE' });

const BLOOD = { type: 'BLD', display: '全血' };
const SERUM = { type: 'SER', display: '血清' };

export const PANELS: Panel[] = [
  {
    local: 'CBC',
    display: '血常规',
    loinc: '58410-2',
    loincDisplay: 'CBC panel - Blood by Automated count',
    specimen: BLOOD,
    share: 35,
    analytes: [
      nm('WBC', '6690-2', '白细胞计数', '×10^9/L', '10*9/L', 3.5, 9.5, 2),
      nm('RBC', '789-8', '红细胞计数', '×10^12/L', '10*12/L', 4.3, 5.8, 2),
      nm('HGB', '718-7', '血红蛋白', 'g/L', 'g/L', 130, 175, 0),
      nm('HCT', '4544-3', '红细胞压积', '%', '%', 40, 50, 1),
      nm('MCV', '787-2', '平均红细胞体积', 'fL', 'fL', 82, 100, 1),
      nm('MCH', '785-6', '平均红细胞血红蛋白含量', 'pg', 'pg', 27, 34, 1),
      nm('MCHC', '786-4', '平均红细胞血红蛋白浓度', 'g/L', 'g/L', 316, 354, 0),
      nm('PLT', '777-3', '血小板计数', '×10^9/L', '10*9/L', 125, 350, 0),
      nm('NEUT%', '770-8', '中性粒细胞百分比', '%', '%', 40, 75, 1),
      nm('LYMPH%', '736-9', '淋巴细胞百分比', '%', '%', 20, 50, 1),
    ],
  },
  {
    local: 'LFT-RFT',
    display: '肝肾功能',
    specimen: SERUM,
    share: 25,
    analytes: [
      nm('ALT', '1742-6', '丙氨酸氨基转移酶', 'U/L', 'U/L', 9, 50, 0),
      nm('AST', '1920-8', '天门冬氨酸氨基转移酶', 'U/L', 'U/L', 15, 40, 0),
      nm('GGT', '2324-2', 'γ-谷氨酰基转移酶', 'U/L', 'U/L', 10, 60, 0),
      nm('ALP', '6768-6', '碱性磷酸酶', 'U/L', 'U/L', 45, 125, 0),
      nm('TBIL', '14631-6', '总胆红素', 'µmol/L', 'umol/L', 0, 26, 1),
      nm('DBIL', '14629-0', '直接胆红素', 'µmol/L', 'umol/L', 0, 8, 1),
      nm('TP', '2885-2', '总蛋白', 'g/L', 'g/L', 65, 85, 1),
      nm('ALB', '1751-7', '白蛋白', 'g/L', 'g/L', 40, 55, 1),
      nm('CREA', '14682-9', '肌酐', 'µmol/L', 'umol/L', 57, 111, 0),
      nm('UREA', '22664-7', '尿素', 'mmol/L', 'mmol/L', 3.1, 8, 2),
    ],
  },
  {
    local: 'BIOCHEM',
    display: '生化（电解质、血糖、血脂）',
    specimen: SERUM,
    share: 25,
    analytes: [
      nm('K', '2823-3', '钾', 'mmol/L', 'mmol/L', 3.5, 5.3, 2),
      nm('NA', '2951-2', '钠', 'mmol/L', 'mmol/L', 137, 147, 1),
      nm('CL', '2075-0', '氯', 'mmol/L', 'mmol/L', 99, 110, 1),
      nm('CA', '17861-6', '钙', 'mmol/L', 'mmol/L', 2.11, 2.52, 2),
      nm('GLU', '14749-6', '葡萄糖', 'mmol/L', 'mmol/L', 3.9, 6.1, 2),
      nm('UA', '14933-6', '尿酸', 'µmol/L', 'umol/L', 208, 428, 0),
      nm('TC', '14647-2', '总胆固醇', 'mmol/L', 'mmol/L', 2.8, 5.2, 2),
      nm('TG', '14927-8', '甘油三酯', 'mmol/L', 'mmol/L', 0.45, 1.7, 2),
      nm('HDL', '14646-4', '高密度脂蛋白胆固醇', 'mmol/L', 'mmol/L', 1.04, 1.55, 2),
      nm('LDL', '22748-8', '低密度脂蛋白胆固醇', 'mmol/L', 'mmol/L', 1.5, 3.4, 2),
    ],
  },
  {
    local: 'CHECKUP',
    display: '甲功、肿瘤标志物、感染筛查',
    specimen: SERUM,
    share: 15,
    analytes: [
      nm('TSH', '3016-3', '促甲状腺激素', 'mIU/L', 'm[IU]/L', 0.27, 4.2, 3),
      nm('FT3', '14928-6', '游离三碘甲状腺原氨酸', 'pmol/L', 'pmol/L', 3.1, 6.8, 2),
      nm('FT4', '14920-3', '游离甲状腺素', 'pmol/L', 'pmol/L', 12, 22, 1),
      nm('AFP', '1834-1', '甲胎蛋白', 'ng/mL', 'ng/mL', 0, 7, 2, 0.5),
      nm('CEA', '2039-6', '癌胚抗原', 'ng/mL', 'ng/mL', 0, 5, 2, 0.5),
      nm('CA125', '10334-1', '糖类抗原125', 'U/mL', 'U/mL', 0, 35, 1, 2),
      nm('CA199', '24108-3', '糖类抗原19-9', 'U/mL', 'U/mL', 0, 37, 1, 2),
      cwe('HBSAG', '5196-1', '乙型肝炎病毒表面抗原'),
      cwe('HCVAB', '13955-0', '丙型肝炎病毒抗体'),
      cwe('TPAB', '24110-9', '梅毒螺旋体特异性抗体'),
    ],
  },
];

/** Results per report: every panel has this many. */
export const RESULTS_PER_REPORT = 10;
