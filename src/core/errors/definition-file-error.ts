import { ConfigurationError, formatLocation, type Location } from './configuration-error.js';
import type { TroupeErrorOptions } from './troupe-error.js';

/** One problem found in a file: where it is (file, line, field path from the file's root) and what is wrong. */
export interface FileIssue extends Location {
  message: string;
}

/**
 * A definition file (role, crew, configuration, cassette, input) has one or more problems. All of
 * them are reported at once, each with its line and field, so fixing a file takes one round trip
 * instead of one per mistake. `where` is the first problem's location.
 */
export class DefinitionFileError extends ConfigurationError {
  override readonly code: string = 'definition_invalid';
  readonly issues: readonly FileIssue[];

  constructor(issues: readonly FileIssue[], options: TroupeErrorOptions = {}) {
    if (issues.length === 0) throw new Error('DefinitionFileError needs at least one issue');
    const [first] = issues as [FileIssue, ...FileIssue[]];
    const { message: _message, ...where } = first;
    super(issues.length === 1 ? first.message : describeMany(issues), issues.length === 1 ? where : {}, {
      ...options,
      details: { issues, ...options.details },
    });
    (this as { where: Location }).where = where;
    this.issues = issues;
  }
}

function describeMany(issues: readonly FileIssue[]): string {
  const files = [...new Set(issues.map((issue) => issue.file))];
  const head = `${issues.length} problems${files.length === 1 && files[0] ? ` in ${files[0]}` : ''}:`;
  return [head, ...issues.map((issue) => `  ${formatLocation(issue)}: ${issue.message}`)].join('\n');
}
