import { buildInstance, generateUid } from '@hub/shared/dicom/testing';
import type { Search } from './dicomweb';

/**
 * The QIDO comparison's data: patients with two studies each, ten instances per study in
 * two series, study dates over two years, five modalities, names as Chinese patients'
 * names are romanised. Instances are small (32×32 pixels): a search reads the index, not
 * pixels. Generated once and sent, byte for byte, to every server.
 */
export const SURNAMES = ['WANG', 'LI', 'ZHANG', 'LIU', 'CHEN', 'YANG', 'HUANG', 'ZHAO', 'WU', 'ZHOU', 'XU', 'SUN', 'MA', 'ZHU', 'HU', 'GUO', 'HE', 'GAO', 'LIN', 'LUO'];
export const GIVEN = ['WEI', 'FANG', 'NA', 'MIN', 'JING', 'LEI', 'QIANG', 'JUN', 'YAN', 'TAO', 'XIN', 'HUI', 'PING', 'LING', 'BO'];
export const MODALITIES = ['CT', 'MR', 'CR', 'DX', 'US'];
const INSTANCES_PER_STUDY = 10;
const DAYS = 730;
const FIRST_DAY = Date.UTC(2023, 0, 1);

/** A small deterministic generator (mulberry32), so a run's searches can be repeated. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rng: () => number, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
export const dicomDate = (day: number) => new Date(FIRST_DAY + day * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');

export interface CorpusPatient {
  id: string;
  name: string;
  birthDate: string;
  sex: string;
}

export function patientsFor(count: number, rng: () => number): CorpusPatient[] {
  return Array.from({ length: count }, (_, p) => ({
    id: `QP${100_000 + p}`,
    name: `${pick(rng, SURNAMES)}^${pick(rng, GIVEN)}`,
    birthDate: dicomDate(-Math.floor(rng() * 365 * 80)),
    sex: rng() < 0.5 ? 'M' : 'F',
  }));
}

export interface Corpus {
  /** STOW-RS batches of Part-10 instances. */
  batches: Buffer[][];
  instances: number;
  studies: Array<{ uid: string; instances: number }>;
  patients: CorpusPatient[];
}

export function buildCorpus(instances: number, batchSize: number, seed = 20_000): Corpus {
  const rng = random(seed);
  const studyCount = Math.max(1, Math.round(instances / INSTANCES_PER_STUDY));
  const patients = patientsFor(Math.max(1, Math.round(studyCount / 2)), rng);
  const batches: Buffer[][] = [[]];
  const studies: Corpus['studies'] = [];
  let made = 0;
  for (let s = 0; s < studyCount; s++) {
    const patient = patients[s % patients.length]!;
    const modality = pick(rng, MODALITIES);
    const studyUid = generateUid();
    const date = dicomDate(Math.floor(rng() * DAYS));
    const count = s === studyCount - 1 ? instances - made : Math.min(INSTANCES_PER_STUDY, instances - made);
    for (let i = 0; i < count; i++) {
      const series = i < count / 2 ? 1 : 2;
      const file = buildInstance({
        modality,
        studyInstanceUid: studyUid,
        seriesInstanceUid: `${studyUid}.${series}`,
        patientId: patient.id,
        patientName: patient.name,
        patientBirthDate: patient.birthDate,
        patientSex: patient.sex,
        studyDate: date,
        accessionNumber: `Q${1_000_000 + s}`,
        studyDescription: `${modality} exam`,
        seriesNumber: series,
        instanceNumber: i + 1,
        rows: 32,
        columns: 32,
      });
      let batch = batches[batches.length - 1]!;
      if (batch.length >= batchSize) batches.push((batch = []));
      batch.push(file);
    }
    made += count;
    studies.push({ uid: studyUid, instances: count });
  }
  return { batches, instances: made, studies, patients };
}

export interface SearchKind {
  kind: string;
  searches: Search[];
}

/** The searches a viewer's worklist makes, the same list for every server. */
export function searchesFor(patients: readonly CorpusPatient[], count: number, seed = 7): SearchKind[] {
  const rng = random(seed);
  const make = (build: () => Record<string, string>) => Array.from({ length: count }, () => ({ path: 'studies', params: { ...build(), limit: '100' } }));
  return [
    { kind: 'PatientID', searches: make(() => ({ PatientID: pick(rng, patients).id })) },
    {
      kind: 'StudyDate 30 days + ModalitiesInStudy',
      searches: make(() => {
        const start = Math.floor(rng() * (DAYS - 30));
        return { StudyDate: `${dicomDate(start)}-${dicomDate(start + 29)}`, ModalitiesInStudy: pick(rng, MODALITIES) };
      }),
    },
    { kind: 'PatientName wildcard', searches: make(() => ({ PatientName: `${pick(rng, SURNAMES)}^${pick(rng, GIVEN)[0]}*` })) },
  ];
}
