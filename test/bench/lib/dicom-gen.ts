import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildInstance, generateUid } from '@hub/shared/dicom/testing';

/**
 * CT-like instances as a scanner sends them: 512×512, 16 bits allocated, Explicit VR Little
 * Endian, about 0.5 MB each, every one with its own SOP Instance UID.
 *
 * UIDs are the study's root plus fixed-width numbers, so every instance of a series has the
 * same size: a stream of them has a Content-Length known before the first byte is built.
 */
export interface CtSeries {
  studyUid: string;
  seriesUid: string;
  patientId: string;
  /** How many instances. */
  count: number;
  seriesNumber?: number;
  rows?: number;
  columns?: number;
}

/** Instance `i` (0-based) of a series. */
export function ctInstance(series: CtSeries, i: number): Buffer {
  return buildInstance({
    modality: 'CT',
    studyInstanceUid: series.studyUid,
    seriesInstanceUid: series.seriesUid,
    // fixed width: the numbers 1000000.. and 10000.. keep every instance the same length
    sopInstanceUid: `${series.seriesUid}.${1_000_000 + i}`,
    frameOfReferenceUid: `${series.studyUid}.0`,
    patientId: series.patientId,
    patientName: 'BENCH^CT',
    accessionNumber: series.studyUid.slice(-16),
    studyDate: '20240315',
    seriesNumber: series.seriesNumber ?? 1,
    instanceNumber: 10_000 + i,
    rows: series.rows ?? 512,
    columns: series.columns ?? 512,
  });
}

/** The instances of a series, built one at a time. */
export function* ctInstances(series: CtSeries): Generator<Buffer> {
  for (let i = 0; i < series.count; i++) yield ctInstance(series, i);
}

/** A new study's series `n` (1-based): the study UID and the series UID under it. */
export function newStudy(): { studyUid: string; series(n: number): string } {
  // 2.25.<≤39 digits>: the suffixes below stay within the 64 characters of a UID
  const studyUid = generateUid();
  return { studyUid, series: (n) => `${studyUid}.${n}` };
}

export interface StudyOnDisk {
  studyUid: string;
  /** One folder of files per sender (each sender pushes its own series of the study). */
  senderDirs: string[];
  files: string[][];
  instances: number;
  bytes: number;
}

/**
 * Writes one CT study of `instances` files to `dir`, split into one series (and folder) per
 * sender, so senders pushing at once send disjoint instances of the same study.
 */
export async function writeCtStudy(dir: string, instances: number, senders: number): Promise<StudyOnDisk> {
  const study = newStudy();
  const senderDirs: string[] = [];
  const files: string[][] = [];
  let bytes = 0;
  for (let s = 0; s < senders; s++) {
    const count = Math.floor(instances / senders) + (s < instances % senders ? 1 : 0);
    const folder = path.join(dir, `sender-${s + 1}`);
    await mkdir(folder, { recursive: true });
    const series: CtSeries = { studyUid: study.studyUid, seriesUid: study.series(s + 1), seriesNumber: s + 1, patientId: 'BENCHCT', count };
    const list: string[] = [];
    for (let i = 0; i < count; i++) {
      const bytesOf = ctInstance(series, i);
      const file = path.join(folder, `${String(i).padStart(6, '0')}.dcm`);
      await writeFile(file, bytesOf);
      bytes += bytesOf.length;
      list.push(file);
    }
    senderDirs.push(folder);
    files.push(list);
  }
  return { studyUid: study.studyUid, senderDirs, files, instances, bytes };
}
