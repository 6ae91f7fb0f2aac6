/**
 * The catalog a new region starts from: 28 imaging and 44 lab items as a city catalogue lists
 * them. The authority edits it through the API (PUT /recognition/catalog/{code}); nothing here
 * is read after seeding.
 *
 * Windows (days a result stays recognizable after specimen collection or the study date).
 * Lab windows follow the provincial model of the national measure (国卫医发〔2022〕6号 lets each
 * province set them); the values marked (HB) are those of the Hubei catalogue (鄂卫通〔2023〕56号)
 * as its member hospitals publish it: 7 days for electrolytes, 30 for stable chemistry (total
 * protein, albumin, glucose, lipids, bilirubin), 60 for HbA1c. The others are chosen here, by the
 * same reasoning: 7 days for values that move within days (blood counts, coagulation, urine),
 * 14 for enzymes and renal function (they follow acute illness), 30 for hormones, tumour
 * markers and infection serology. Imaging keeps longer: 90 days where acute change matters
 * (head, chest, abdomen, chest film), 180 for structures that change slowly (spine, joints,
 * bones) and for mammography (screening is yearly), 60 for ultrasound (operator-dependent).
 *
 * Prices are illustrative of provincial medical service price schedules (CNY, plain scans);
 * the authority replaces them with its own. Films per exam count printed films (ultrasound
 * prints on paper, not film).
 *
 * Lab items carry LOINC codes for both the mass and the molar (SI) unit where both exist,
 * since Chinese laboratories report mmol/L and µmol/L. Imaging items carry DICOM Modality +
 * Body Part Examined defined terms, and a LOINC imaging procedure code where one is in use.
 */

export interface SeedItem {
  code: string;
  kind: 'imaging' | 'lab';
  category: string;
  name: string;
  nameEn: string;
  validityDays: number;
  priceCny: number;
  filmsPerExam?: number;
  loinc?: string[];
  /** [modality, body part] pairs */
  imaging?: Array<[string, string]>;
  procedureCodes?: Array<{ system: string; code: string }>;
}

const lab = (code: string, category: string, name: string, nameEn: string, validityDays: number, priceCny: number, loinc: string[]): SeedItem => ({
  code,
  kind: 'lab',
  category,
  name,
  nameEn,
  validityDays,
  priceCny,
  loinc,
});

const LN = 'http://loinc.org';
const img = (
  code: string,
  category: string,
  name: string,
  nameEn: string,
  validityDays: number,
  priceCny: number,
  filmsPerExam: number,
  imaging: Array<[string, string]>,
  procedureLoinc: string[] = [],
): SeedItem => ({ code, kind: 'imaging', category, name, nameEn, validityDays, priceCny, filmsPerExam, imaging, procedureCodes: procedureLoinc.map((c) => ({ system: LN, code: c })) });

const xr = (part: string): Array<[string, string]> => [['DX', part], ['CR', part]];

export const seedCatalogItems: SeedItem[] = [
  // haematology
  lab('LAB-CBC', 'haematology', '血细胞分析（全血细胞计数）', 'Complete blood count', 7, 20, ['58410-2', '57021-8']),
  lab('LAB-WBC', 'haematology', '白细胞计数', 'White blood cell count', 7, 5, ['6690-2']),
  lab('LAB-RBC', 'haematology', '红细胞计数', 'Red blood cell count', 7, 5, ['789-8']),
  lab('LAB-HGB', 'haematology', '血红蛋白', 'Haemoglobin', 7, 5, ['718-7']),
  lab('LAB-HCT', 'haematology', '红细胞压积', 'Haematocrit', 7, 5, ['4544-3']),
  lab('LAB-PLT', 'haematology', '血小板计数', 'Platelet count', 7, 5, ['777-3']),
  // electrolytes (HB: 7 days)
  lab('LAB-K', 'clinical-chemistry', '钾', 'Potassium', 7, 6, ['2823-3']),
  lab('LAB-NA', 'clinical-chemistry', '钠', 'Sodium', 7, 6, ['2951-2']),
  lab('LAB-CL', 'clinical-chemistry', '氯', 'Chloride', 7, 6, ['2075-0']),
  lab('LAB-CA', 'clinical-chemistry', '钙', 'Calcium', 7, 6, ['2000-8', '17861-6']),
  // liver function (bilirubin, albumin, total protein HB: 30 days)
  lab('LAB-ALT', 'clinical-chemistry', '丙氨酸氨基转移酶', 'Alanine aminotransferase (ALT)', 14, 6, ['1742-6']),
  lab('LAB-AST', 'clinical-chemistry', '天门冬氨酸氨基转移酶', 'Aspartate aminotransferase (AST)', 14, 6, ['1920-8']),
  lab('LAB-GGT', 'clinical-chemistry', 'γ-谷氨酰基转移酶', 'Gamma-glutamyl transferase (GGT)', 14, 6, ['2324-2']),
  lab('LAB-ALP', 'clinical-chemistry', '碱性磷酸酶', 'Alkaline phosphatase (ALP)', 14, 6, ['6768-6']),
  lab('LAB-TBIL', 'clinical-chemistry', '总胆红素', 'Total bilirubin', 30, 5, ['1975-2', '14631-6']),
  lab('LAB-DBIL', 'clinical-chemistry', '直接胆红素', 'Direct bilirubin', 30, 5, ['1968-7', '14629-0']),
  lab('LAB-ALB', 'clinical-chemistry', '白蛋白', 'Albumin', 30, 5, ['1751-7']),
  lab('LAB-TP', 'clinical-chemistry', '总蛋白', 'Total protein', 30, 5, ['2885-2']),
  // renal function
  lab('LAB-CREA', 'clinical-chemistry', '肌酐', 'Creatinine', 14, 8, ['2160-0', '14682-9']),
  lab('LAB-UREA', 'clinical-chemistry', '尿素', 'Urea', 14, 6, ['3094-0', '3091-6', '22664-7']),
  lab('LAB-UA', 'clinical-chemistry', '尿酸', 'Uric acid', 30, 6, ['3084-1', '14933-6']),
  // glucose (HB: 30 days), HbA1c (HB: 60 days)
  lab('LAB-GLU', 'clinical-chemistry', '葡萄糖', 'Glucose', 30, 5, ['2345-7', '14749-6']),
  lab('LAB-HBA1C', 'clinical-chemistry', '糖化血红蛋白A1c', 'Haemoglobin A1c', 60, 60, ['4548-4', '17856-6']),
  // lipids (HB: 30 days)
  lab('LAB-TC', 'clinical-chemistry', '总胆固醇', 'Total cholesterol', 30, 6, ['2093-3', '14647-2']),
  lab('LAB-TG', 'clinical-chemistry', '甘油三酯', 'Triglycerides', 30, 6, ['2571-8', '14927-8']),
  lab('LAB-HDL', 'clinical-chemistry', '高密度脂蛋白胆固醇', 'HDL cholesterol', 30, 8, ['2085-9', '14646-4']),
  lab('LAB-LDL', 'clinical-chemistry', '低密度脂蛋白胆固醇', 'LDL cholesterol', 30, 8, ['13457-7', '2089-1', '18262-6', '22748-8']),
  // coagulation
  lab('LAB-PT', 'coagulation', '凝血酶原时间', 'Prothrombin time (PT, INR)', 7, 15, ['5902-2', '6301-6']),
  lab('LAB-APTT', 'coagulation', '活化部分凝血活酶时间', 'Activated partial thromboplastin time (APTT)', 7, 15, ['3173-2', '14979-9']),
  lab('LAB-FIB', 'coagulation', '纤维蛋白原', 'Fibrinogen', 7, 15, ['3255-7']),
  lab('LAB-TT', 'coagulation', '凝血酶时间', 'Thrombin time', 7, 15, ['3243-3']),
  // thyroid
  lab('LAB-TSH', 'endocrinology', '促甲状腺激素', 'Thyroid-stimulating hormone (TSH)', 30, 30, ['3016-3', '11580-8']),
  lab('LAB-FT3', 'endocrinology', '游离三碘甲状腺原氨酸', 'Free triiodothyronine (FT3)', 30, 25, ['3051-0', '14928-6']),
  lab('LAB-FT4', 'endocrinology', '游离甲状腺素', 'Free thyroxine (FT4)', 30, 25, ['3024-7', '14920-3']),
  // tumour markers
  lab('LAB-AFP', 'tumour-markers', '甲胎蛋白', 'Alpha-fetoprotein (AFP)', 30, 40, ['1834-1']),
  lab('LAB-CEA', 'tumour-markers', '癌胚抗原', 'Carcinoembryonic antigen (CEA)', 30, 40, ['2039-6']),
  lab('LAB-CA125', 'tumour-markers', '糖类抗原125', 'Cancer antigen 125 (CA 125)', 30, 60, ['10334-1']),
  lab('LAB-CA199', 'tumour-markers', '糖类抗原19-9', 'Cancer antigen 19-9 (CA 19-9)', 30, 60, ['24108-3']),
  lab('LAB-PSA', 'tumour-markers', '前列腺特异性抗原', 'Prostate-specific antigen (PSA)', 30, 50, ['2857-1']),
  // infection serology
  lab('LAB-HBSAG', 'infectious-serology', '乙型肝炎病毒表面抗原', 'Hepatitis B surface antigen (HBsAg)', 30, 15, ['5196-1', '5195-3']),
  lab('LAB-HCVAB', 'infectious-serology', '丙型肝炎病毒抗体', 'Hepatitis C virus antibody', 30, 30, ['13955-0', '16128-1']),
  lab('LAB-HIV', 'infectious-serology', '人类免疫缺陷病毒抗体（抗原抗体）', 'HIV antibody (and p24 antigen)', 30, 40, ['56888-1', '75622-1', '31201-7', '68961-2', '7917-8']),
  lab('LAB-TPAB', 'infectious-serology', '梅毒螺旋体特异性抗体', 'Syphilis: Treponema pallidum antibody', 30, 25, ['24110-9']),
  // urine
  lab('LAB-URINE', 'urinalysis', '尿液分析（尿常规）', 'Urinalysis', 7, 15, ['24356-8', '24357-6', '50556-0']),

  // CT (plain scans)
  img('CT-HEAD', 'CT', '头颅CT平扫', 'CT head', 90, 200, 2, [['CT', 'HEAD'], ['CT', 'BRAIN'], ['CT', 'SKULL']], ['24725-4']),
  img('CT-CHEST', 'CT', '胸部CT平扫', 'CT chest', 90, 240, 3, [['CT', 'CHEST'], ['CT', 'LUNG']], ['24627-2']),
  img('CT-ABDOMEN', 'CT', '上腹部CT平扫', 'CT upper abdomen', 90, 260, 3, [['CT', 'ABDOMEN'], ['CT', 'LIVER']], ['41806-1']),
  img('CT-PELVIS', 'CT', '盆腔CT平扫', 'CT pelvis', 90, 260, 3, [['CT', 'PELVIS']]),
  img('CT-CSPINE', 'CT', '颈椎CT平扫', 'CT cervical spine', 180, 220, 2, [['CT', 'CSPINE']]),
  img('CT-LSPINE', 'CT', '腰椎CT平扫', 'CT lumbar spine', 180, 240, 2, [['CT', 'LSPINE']]),
  // MR (plain scans)
  img('MR-HEAD', 'MR', '头颅MR平扫', 'MR head', 90, 500, 2, [['MR', 'HEAD'], ['MR', 'BRAIN']], ['24590-2']),
  img('MR-CSPINE', 'MR', '颈椎MR平扫', 'MR cervical spine', 180, 550, 2, [['MR', 'CSPINE']]),
  img('MR-TSPINE', 'MR', '胸椎MR平扫', 'MR thoracic spine', 180, 550, 2, [['MR', 'TSPINE']]),
  img('MR-LSPINE', 'MR', '腰椎MR平扫', 'MR lumbar spine', 180, 550, 2, [['MR', 'LSPINE']]),
  img('MR-KNEE', 'MR', '膝关节MR平扫', 'MR knee', 180, 550, 2, [['MR', 'KNEE']]),
  img('MR-SHOULDER', 'MR', '肩关节MR平扫', 'MR shoulder', 180, 550, 2, [['MR', 'SHOULDER']]),
  img('MR-ABDOMEN', 'MR', '上腹部MR平扫', 'MR upper abdomen', 90, 600, 3, [['MR', 'ABDOMEN'], ['MR', 'LIVER']]),
  // DR/CR radiography
  img('DR-CHEST', 'DR', '胸部X线摄影（正侧位）', 'Chest radiograph (DR/CR)', 90, 80, 1, xr('CHEST'), ['24648-8']),
  img('DR-CSPINE', 'DR', '颈椎X线摄影', 'Cervical spine radiograph', 180, 90, 1, xr('CSPINE')),
  img('DR-LSPINE', 'DR', '腰椎X线摄影', 'Lumbar spine radiograph', 180, 90, 1, xr('LSPINE')),
  img('DR-KNEE', 'DR', '膝关节X线摄影', 'Knee radiograph', 180, 80, 1, xr('KNEE')),
  img('DR-HAND', 'DR', '手及腕关节X线摄影', 'Hand and wrist radiograph', 180, 70, 1, [...xr('HAND'), ...xr('WRIST')]),
  img('DR-ANKLE', 'DR', '踝关节及足X线摄影', 'Ankle and foot radiograph', 180, 70, 1, [...xr('ANKLE'), ...xr('FOOT')]),
  img('DR-PELVIS', 'DR', '骨盆及髋关节X线摄影', 'Pelvis and hip radiograph', 180, 80, 1, [...xr('PELVIS'), ...xr('HIP')]),
  img('DR-LIMB', 'DR', '四肢长骨X线摄影', 'Long bones of the limbs radiograph', 180, 70, 1, [...xr('EXTREMITY'), ...xr('ARM'), ...xr('LEG')]),
  // mammography
  img('MG-BREAST', 'MG', '乳腺X线摄影（钼靶）', 'Mammography', 180, 200, 2, [['MG', 'BREAST']]),
  // ultrasound
  img('US-ABDOMEN', 'US', '腹部超声（肝胆胰脾）', 'Ultrasound abdomen', 60, 120, 0, [['US', 'ABDOMEN'], ['US', 'LIVER']]),
  img('US-THYROID', 'US', '甲状腺超声', 'Ultrasound thyroid', 60, 90, 0, [['US', 'THYROID'], ['US', 'NECK']]),
  img('US-BREAST', 'US', '乳腺超声', 'Ultrasound breast', 60, 100, 0, [['US', 'BREAST']], ['24601-7']),
  img('US-PELVIS', 'US', '盆腔（妇科）超声', 'Ultrasound pelvis', 60, 100, 0, [['US', 'PELVIS']]),
  img('US-URINARY', 'US', '泌尿系超声', 'Ultrasound urinary tract', 60, 100, 0, [['US', 'KIDNEY'], ['US', 'BLADDER']]),
  img('US-HEART', 'US', '超声心动图', 'Echocardiography', 60, 200, 0, [['US', 'HEART']]),
];
