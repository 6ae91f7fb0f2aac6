import type { AcceptedObject } from './types';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * What an object's indexing locks first: its study (imaging: the study row, then its patient)
 * or its patient (lab: the hospital's record, then its reports). Claimed batches are indexed
 * in (kind, this key, id) order, so two workers holding overlapping batches take their locks
 * in the same order and do not deadlock; objects of one study or one patient keep the order
 * they were accepted in (a correction after what it corrects).
 */
function lockKey(o: AcceptedObject): string {
  const s = o.summary;
  if (o.kind === 'dicom') return text(s.studyInstanceUid);
  const groups = Array.isArray(s.groups) ? s.groups : [];
  const first = groups[0] as { patient?: { localId?: unknown } } | undefined;
  return `${o.organizationId}|${text(first?.patient?.localId)}`;
}

export function lockOrder(objects: AcceptedObject[]): AcceptedObject[] {
  const keyed = objects.map((o) => ({ o, key: lockKey(o) }));
  keyed.sort((a, b) => (a.o.kind < b.o.kind ? -1 : a.o.kind > b.o.kind ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : a.o.id - b.o.id));
  return keyed.map((k) => k.o);
}
