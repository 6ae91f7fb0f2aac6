import type { ErrorKind } from '../errors';

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: Array<{ severity: 'fatal' | 'error' | 'warning' | 'information'; code: string; diagnostics?: string; expression?: string[] }>;
}

// FHIR issue-type codes (http://hl7.org/fhir/valueset-issue-type.html) for each error kind.
const issueCode: Record<ErrorKind | 'Internal', string> = {
  BadInput: 'invalid',
  Unauthorized: 'login',
  Forbidden: 'forbidden',
  NotFound: 'not-found',
  Conflict: 'conflict',
  Unsupported: 'not-supported',
  TooLarge: 'too-costly',
  Unavailable: 'transient',
  Internal: 'exception',
};

export function operationOutcome(kind: ErrorKind | 'Internal', diagnostics: string, location?: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: kind === 'Internal' ? 'fatal' : 'error', code: issueCode[kind], diagnostics, ...(location ? { expression: [location] } : {}) }],
  };
}
