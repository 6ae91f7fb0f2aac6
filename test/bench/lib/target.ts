import type { ProcessGroups } from './procs';

/** A server under test, reached only through its protocols. */
export interface Target {
  /** 'hub' or 'orthanc': the row label. */
  name: string;
  /** Root of the DICOMweb service: STOW-RS at `${dicomweb}/studies`, QIDO-RS and WADO-RS below. */
  dicomweb: string;
  /** Headers every HTTP request carries (the hub's bearer token; nothing for Orthanc). */
  headers(): Promise<Record<string, string>>;
  /** The DIMSE C-STORE SCP, and the calling AE title it lets store. */
  dicom: { host: string; port: number; calledAe: string; callingAe: string };
  /** HL7 v2 over MLLP, and the MSH-4 sending facility registered for the sender (hub only). */
  mllp?: { host: string; port: number; sendingFacility: string };
  /** The server's PostgreSQL, for the generators that write index rows directly. */
  databaseUrl: string;
  /** The FHIR R4 base (hub only). */
  fhir?: string;
  /** The key national IDs are hashed with, for generators that write persons directly (hub only). */
  idHashSecret?: string;
  /** The processes to measure, by group name ("hub", "hub postgres"). */
  groups(): Promise<ProcessGroups>;
  /** Why the server is no longer running (exit code and last output), or undefined while it runs. */
  exited(): string | undefined;
  stop(): Promise<void>;
}

/** A benchmark's failure that is a fact about the server, printed as one line (e.g. a missing endpoint). */
export class Unsupported extends Error {}

/** Throws Unsupported for a 404/405/501 answer: the server lacks the endpoint. */
export function expectEndpoint(target: Target, what: string, status: number): void {
  if (status === 404 || status === 405 || status === 501) {
    throw new Unsupported(`${target.name} has no ${what} (HTTP ${status})`);
  }
}
