// The state store in your own hands (`troupe/store`). A program that runs workflows opens its
// store with `openStateStore()` or `openRuntime()` from `troupe`, which choose it from the
// environment; here are the backends to build one by hand (`SqliteStore`, `FileStore`; the Redis
// one is in `troupe/redis`), what records and reads the recorded runs (`recordRun`,
// `listRecordedRuns`, `loadRecordedRun`, `readTimeline`, `runRetention`), the outbox kept in a
// store (`storeOutbox`), and the errors a store throws.
export { FileStore, type FileStoreOptions } from './store/file-store.js';
export { SqliteStore, type SqliteStoreOptions, type SqliteDriver } from './store/sqlite-store.js';
// `CorruptRecordError` stays in `troupe`: `listReviews` and `getReview` report damaged records with it.
export { VersionConflictError } from './store/errors/version-conflict-error.js';
export { LockTimeoutError, type LockOwner } from './store/errors/lock-timeout-error.js';
export { StoreUnavailableError } from './store/errors/store-unavailable-error.js';
export { NotJsonError } from './store/errors/not-json-error.js';
export { StoreCorruptError } from './store/errors/store-corrupt-error.js';
export {
  recordRun,
  listRecordedRuns,
  loadRecordedRun,
  readTimeline,
  runRetention,
  type RecordRunOptions,
  type RunRecorder,
  type RecordedRun,
  type RecordedRunKind,
  type RecordedRunStatus,
  type RecordedRunTotals,
  type TimelineEntry,
} from './workflow/run-record.js';
export { storeOutbox } from './workflow/store-outbox.js';
