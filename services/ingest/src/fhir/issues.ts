/** A problem in a submitted Bundle, named by a FHIRPath expression such as `Bundle.entry[2].resource.subject`. */
export interface BundleIssue {
  /** 400: the request is not a transaction Bundle the hub can read; 422: it is, but its content breaks a rule. */
  status: 400 | 422;
  expression: string;
  diagnostics: string;
  code: 'structure' | 'required' | 'value' | 'invalid' | 'not-supported';
}

const MAX_ISSUES = 20;

/** Collects issues so one OperationOutcome names every faulty entry at once. */
export class BundleIssues {
  readonly list: BundleIssue[] = [];

  add(status: BundleIssue['status'], expression: string, diagnostics: string, code: BundleIssue['code'] = 'invalid'): void {
    if (this.list.length < MAX_ISSUES) this.list.push({ status, expression, diagnostics, code });
  }

  get any(): boolean {
    return this.list.length > 0;
  }

  /** 400 when any issue is structural, else 422. */
  get status(): 400 | 422 {
    return this.list.some((i) => i.status === 400) ? 400 : 422;
  }

  outcome(): Record<string, unknown> {
    return {
      resourceType: 'OperationOutcome',
      issue: this.list.map((i) => ({ severity: 'error', code: i.code, diagnostics: i.diagnostics, expression: [i.expression] })),
    };
  }
}
