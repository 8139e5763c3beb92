export { TroupeError, isTroupeError, type Fault, type TroupeErrorOptions } from './troupe-error.js';
export { ConfigurationError, type Location } from './configuration-error.js';
export { DefinitionFileError, type FileIssue } from './definition-file-error.js';
export { InputValidationError, type ValidationIssue } from './input-validation-error.js';
export { AwaitingReviewError } from './awaiting-review-error.js';
export { BudgetExhaustedError } from './budget-exhausted-error.js';
export { AbortedError } from './aborted-error.js';
export { HaltError } from './halt-error.js';
