export { VersionConflictError } from './version-conflict-error.js';
export { LockTimeoutError, type LockOwner } from './lock-timeout-error.js';
export { StoreUnavailableError } from './store-unavailable-error.js';
export { NotJsonError } from './not-json-error.js';
export { StoreCorruptError } from './store-corrupt-error.js';
export { CorruptRecordError } from './corrupt-record-error.js';
