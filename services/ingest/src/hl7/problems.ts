import type { AckError } from '@hub/shared/hl7';

/** The HL7 table 0357 codes the lab door raises. */
export const ERR = {
  segmentSequence: 100,
  requiredMissing: 101,
  dataType: 102,
  tableValue: 103,
  unsupportedMessageType: 200,
  unsupportedEvent: 201,
  unknownKey: 204,
  internal: 207,
} as const;

/** Most ERR segments one ACK carries; a sender with a systematic fault does not need 500. */
const MAX_PROBLEMS = 20;

/**
 * Content errors found while mapping a message. Mapping goes on after the first one so the
 * AE names every faulty field at once; messages hold no patient data (they reach the
 * sender's logs), only where and what.
 */
export class Problems {
  readonly list: AckError[] = [];

  add(location: string, code: number, message: string, applicationCode?: string): void {
    if (this.list.length >= MAX_PROBLEMS) return;
    this.list.push({ location, code, message, severity: 'E', ...(applicationCode ? { applicationCode } : {}) });
  }

  get any(): boolean {
    return this.list.length > 0;
  }
}
