export { TroupeError, isTroupeError, type Fault, type TroupeErrorOptions } from './troupe-error.js';
export { ConfigurationError, type Location } from './configuration-error.js';
export { DefinitionFileError, type FileIssue } from './definition-file-error.js';
export type { ValidationIssue } from '../validation-issue.js';
export { AwaitingReviewError, type PendingApproval } from './awaiting-review-error.js';
export { AbortedError } from './aborted-error.js';
export { HaltError } from './halt-error.js';
