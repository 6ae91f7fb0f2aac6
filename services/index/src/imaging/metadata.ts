import { toDicomJson, type DicomJson, type DicomJsonAttribute } from '@hub/shared/dicom';
import type { StoredHeader } from './header';
import type { ImagingSummary } from './summary';

/**
 * An instance's DICOM JSON metadata (PS3.18 F.2) as the index keeps it: every attribute in
 * front of the pixel data, binary values over 1 KiB as a `bulk:<offset>:<length>` marker that
 * viewer-api turns into a BulkDataURI of the instance (left out when the offsets are not
 * offsets in the stored object, i.e. a deflated data set). Pixel data is not in it; viewer-api
 * adds its BulkDataURI from the instance row.
 *
 * A resident ID number never reaches the index in clear: where the door replaced the Patient
 * ID by a stand-in, the metadata says the stand-in too, and the Other Patient IDs are the ones
 * the door kept (national IDs left out).
 */
export function instanceMetadata(header: StoredHeader, summary: ImagingSummary): DicomJson {
  const json = toDicomJson(header.parsed, {
    bulkDataUri: (ref) => (header.offsetsAreInObject && ref.length !== undefined ? `bulk:${ref.offset}:${ref.length}` : undefined),
  });
  if (summary.patientIdIsNationalId) json['00100020'] = { vr: 'LO', Value: [summary.patientId] };
  if (summary.nationalId || summary.patientIdIsNationalId) {
    delete json['00101000'];
    delete json['00101002'];
    if (summary.otherPatientIds.length > 0) {
      json['00101002'] = {
        vr: 'SQ',
        Value: summary.otherPatientIds.map((o) => {
          const item: DicomJson = { '00100020': { vr: 'LO', Value: [o.patientId] } };
          if (o.issuerOfPatientId) item['00100021'] = { vr: 'LO', Value: [o.issuerOfPatientId] };
          if (o.typeOfPatientId) item['00100022'] = { vr: 'CS', Value: [o.typeOfPatientId] };
          return item;
        }),
      };
    }
  }
  return json;
}

/** Structural equality, blind to key order (jsonb gives keys back in its own order). */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => same(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * What an instance's metadata adds to its series' base: attributes that differ or are new,
 * and base attributes it lacks as null (see migration 0004 for why metadata is kept so).
 */
export function metadataDifference(base: DicomJson, json: DicomJson): Record<string, DicomJsonAttribute | null> {
  const diff: Record<string, DicomJsonAttribute | null> = {};
  for (const [tag, attribute] of Object.entries(json)) if (!same(base[tag], attribute)) diff[tag] = attribute;
  for (const tag of Object.keys(base)) if (!Object.hasOwn(json, tag)) diff[tag] = null;
  return diff;
}
