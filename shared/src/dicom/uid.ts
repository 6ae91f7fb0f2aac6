import { randomUUID } from 'node:crypto';

/**
 * Why a string is not a valid DICOM UID (PS3.5 9.1 and VR UI in 6.2), or undefined if it is:
 * digits and dots only, no empty component, no leading zero in a multi-digit component, at
 * most 64 characters. Padding (a trailing NUL or space) must be removed before the check.
 */
export function uidProblem(uid: string): string | undefined {
  if (uid.length === 0) return 'it is empty';
  if (uid.length > 64) return `it is ${uid.length} characters long (at most 64)`;
  const bad = /[^0-9.]/.exec(uid);
  if (bad) return `it contains ${JSON.stringify(bad[0])} at position ${bad.index + 1} (only digits and dots are allowed)`;
  const components = uid.split('.');
  for (let i = 0; i < components.length; i++) {
    const c = components[i]!;
    if (c === '') return `component ${i + 1} is empty`;
    if (c.length > 1 && c.startsWith('0')) return `component ${i + 1} ("${c}") has a leading zero`;
  }
  return undefined;
}

/** True for a syntactically valid DICOM UID (see uidProblem). */
export function isValidUid(uid: string): boolean {
  return uidProblem(uid) === undefined;
}

/**
 * A new UID under the 2.25 root (PS3.5 B.2): a random UUID written as one decimal integer.
 * At most 44 characters, so it leaves room and never needs a registered root.
 */
export function generateUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/** The hub's Implementation Class UID (0002,0012) in the file meta of the files it writes. */
export const HUB_IMPLEMENTATION_CLASS_UID = '2.25.192887997508319135774720604382389422725';
export const HUB_IMPLEMENTATION_VERSION_NAME = 'RESULTS_HUB_1';
