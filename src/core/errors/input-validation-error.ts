import { formatLocation, type Location } from './configuration-error.js';
import { TroupeError, type TroupeErrorOptions } from './troupe-error.js';

/** One problem found in a value, in the shape zod reports it. */
export interface ValidationIssue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
}

export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) => (issue.path.length ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message)).join('; ');
}

/** Input given to a run, task or command does not match what it expects. Exit code 2. */
export class InputValidationError extends TroupeError {
  readonly code = 'input_invalid';
  readonly fault = 'user' as const;
  readonly issues: readonly ValidationIssue[];

  constructor(what: string, issues: readonly ValidationIssue[], where: Location = {}, options: TroupeErrorOptions = {}) {
    const at = formatLocation(where);
    super(`${at ? `${at}: ` : ''}${what} is invalid: ${formatIssues(issues)}`, {
      ...options,
      details: { ...where, issues, ...options.details },
    });
    this.issues = issues;
  }
}
