/** Named errors of the job spec. */

export interface JobSpecIssue {
  /** Dotted path of the offending field ('' for the whole document), e.g. 'codec.fraction'. */
  path: string;
  message: string;
}

/** A job document failed validation; `issues` lists every field-level problem. */
export class JobSpecError extends Error {
  override name = 'JobSpecError';
  constructor(readonly issues: JobSpecIssue[]) {
    super(`invalid job spec:\n${issues.map((i) => `  ${i.path || '(document)'}: ${i.message}`).join('\n')}`);
  }
}
