/**
 * A Person Name (PN) value: up to three component groups separated by `=` (PS3.5 6.2.1),
 * each kept as written, its components (family, given, middle, prefix, suffix) joined by `^`.
 * Empty groups are left out. In China: alphabetic = pinyin or English, ideographic = Hanzi.
 */
export interface PersonName {
  alphabetic?: string;
  ideographic?: string;
  phonetic?: string;
}

/** A person name as the DICOM JSON model writes it (PS3.18 F.2.2). */
export interface PersonNameJson {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

export interface PersonNameComponents {
  familyName?: string;
  givenName?: string;
  middleName?: string;
  prefix?: string;
  suffix?: string;
}

const GROUPS = ['alphabetic', 'ideographic', 'phonetic'] as const;

/** One decoded PN value (one of its `\` values) into its groups; undefined if empty. */
export function parsePersonName(value: string): PersonName | undefined {
  const name: PersonName = {};
  value
    .replace(/[\0 ]+$/, '')
    .split('=')
    .slice(0, 3)
    .forEach((group, i) => {
      const trimmed = group.replace(/ +$/, '');
      if (trimmed.replace(/\^/g, '').trim() !== '') name[GROUPS[i]!] = trimmed;
    });
  return Object.keys(name).length > 0 ? name : undefined;
}

/** The PN string again: `Wang^XiaoDong=王^小東`. */
export function formatPersonName(name: PersonName): string {
  return [name.alphabetic ?? '', name.ideographic ?? '', name.phonetic ?? ''].join('=').replace(/=+$/, '');
}

export function personNameToJson(name: PersonName): PersonNameJson {
  const json: PersonNameJson = {};
  if (name.alphabetic !== undefined) json.Alphabetic = name.alphabetic;
  if (name.ideographic !== undefined) json.Ideographic = name.ideographic;
  if (name.phonetic !== undefined) json.Phonetic = name.phonetic;
  return json;
}

/** The five components of one group (`Wang^XiaoDong` → family Wang, given XiaoDong). */
export function personNameComponents(group: string): PersonNameComponents {
  const [familyName, givenName, middleName, prefix, suffix] = group.split('^').map((c) => c.trim());
  const components: PersonNameComponents = {};
  if (familyName) components.familyName = familyName;
  if (givenName) components.givenName = givenName;
  if (middleName) components.middleName = middleName;
  if (prefix) components.prefix = prefix;
  if (suffix) components.suffix = suffix;
  return components;
}
