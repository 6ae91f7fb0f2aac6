/**
 * Messages shaped like those real LIS/HIS in China send, for the tests beside this file.
 * Segments are listed one per line and joined with whatever terminator a test needs.
 * The people in them are invented; the national ID numbers carry valid check digits.
 */

export const join = (segments: readonly string[], terminator = '\r'): string => segments.join(terminator) + terminator;

/** MSH for an ORU from a hospital LIS; `msh18` goes in MSH-18 (empty for none). */
export const oruMsh = (msh18: string, version = '2.5.1'): string =>
  `MSH|^~\\&|LIS|BJXH^12400000400002244A^ISO|HUB|REGION|20240315103000+0800||ORU^R01^ORU_R01|LIS20240315000123|P|${version}|||AL|NE|CHN|${msh18}`;

/** The body of a complete blood count plus chemistry report, Chinese text throughout. */
export const oruBody: readonly string[] = [
  'PID|1||M0012345^^^BJXH^MR~110101199003074514^^^CHN^NNCHN~G33010219900307451^^^CHN^PPN||张三^^^^^^L~Zhang^San^^^^^A||19900307|M|||东城区东单北大街1号^^北京市^^100010^CHN^H||^PRN^PH^^^^13800138000',
  'PV1|1|O|检验科^^^BJXH||||D001^李^医生',
  'ORC|RE|ORD20240315001|LAB20240315001',
  'OBR|1|ORD20240315001|LAB20240315001|CBC^血常规^L|||20240315080000|||||||20240315081500|血液&Blood|||||||20240315102000||LAB|F',
  'OBX|1|NM|WBC^白细胞计数^L||6.5|10*9/L|3.5-9.5|N|||F|||20240315100000',
  'OBX|2|NM|PLT^血小板计数^L||250|个/μL|125-350|N|||F',
  'OBX|3|NM|GLU^葡萄糖^L||5.2|mmol/L|3.9-6.1|N|||F',
  'OBX|4|SN|CRP^C反应蛋白^L||>^100|mg/L|0-10|H|||F',
  'OBX|5|ST|ABO^血型^L||A型 Rh\\T\\(D)阳性||||||F',
  'OBX|6|TX|MORPH^外周血细胞形态^L||未见异常细胞\\.br\\红细胞大小均一||||||F',
  'OBX|7|CWE|HBSAG^乙肝表面抗原^L||NEG^阴性^L||||||F',
  'OBX|8|CE|UPRO^尿蛋白^L||2+^++^L||阴性|A|||F',
  'NTE|1|L|标本轻度溶血，结果仅供参考',
  'ZLS|院内扩展字段|1^审核^王五',
];

export const oru = (msh18: string, version = '2.5.1'): string[] => [oruMsh(msh18, version), ...oruBody];

/** v2.3 dialect: two-component MSH-9, no MSH-18, CX without type code, CE everywhere. */
export const oruV23: readonly string[] = [
  'MSH|^~\\&|LIS|HOSP2|HUB|REGION|20240315103000||ORU^R01|V23-0001|P|2.3',
  'PID|||A998877||李四||19851103|F',
  'OBR|1||S0001|GLU^葡萄糖',
  'OBX|1|NM|GLU^葡萄糖||6.8|mmol/L|3.9-6.1|H|||F',
];

const adtPid = 'PID|1||M0099887^^^BJXH^MR~11010519491231002X^^^CHN^NNCHN||王芳^^^^^^L||19491231|F';

export const adtA01: readonly string[] = [
  'MSH|^~\\&|HIS|BJXH|HUB|REGION|20240316090000||ADT^A01^ADT_A01|HIS0001|P|2.4|||AL|NE||UNICODE UTF-8',
  'EVN|A01|20240316090000',
  adtPid,
  'PV1|1|I|内科^301^2^BJXH||||D002^赵^医生',
];

export const adtA04: readonly string[] = [
  'MSH|^~\\&|HIS|BJXH|HUB|REGION|20240316090100||ADT^A04^ADT_A01|HIS0002|P|2.5|||AL|NE||UNICODE UTF-8',
  'EVN|A04|20240316090100',
  adtPid,
  'PV1|1|O|门诊',
];

export const adtA08: readonly string[] = [
  'MSH|^~\\&|HIS|BJXH|HUB|REGION|20240316090200||ADT^A08|HIS0003|P|2.3',
  'EVN|A08|20240316090200',
  'PID|1||M0099887^^^BJXH^MR||王芳^^^^^^L||19491231|F|||朝阳区^^北京市',
];

export const adtA40: readonly string[] = [
  'MSH|^~\\&|HIS|BJXH|HUB|REGION|20240316090300||ADT^A40^ADT_A39|HIS0004|P|2.5|||AL|NE||UNICODE UTF-8',
  'EVN|A40|20240316090300',
  'PID|1||M0099887^^^BJXH^MR||王芳^^^^^^L',
  'MRG|M0011111^^^BJXH^MR~M0022222^^^BJXH^MR',
];
