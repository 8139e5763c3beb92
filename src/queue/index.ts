export type {
  JobQueue,
  AddJobOptions,
  JobBackoff,
  JobRef,
  QueuedJob,
  JobHandler,
  ProcessOptions,
  JobCounts,
  JobEvent,
  CloseOptions,
} from './job-queue.js';
export {
  InvalidJobIdError,
  JobDataRejectedError,
  UnrecoverableJobError,
  QueueUnavailableError,
  QueueClosedError,
  QueueIdleTimeoutError,
  RedisUnreachableError,
  RedisLostError,
  isUnrecoverable,
  type JobDataProblem,
} from './queue-errors.js';
export { validateJobId, isSecretKey, backoffDelay, maxPriority } from './job-validation.js';
export { InProcessQueue, type InProcessQueueOptions } from './in-process-queue.js';
export { BullMqQueue, type BullMqQueueOptions, type StalledJobSettings } from './bullmq-queue.js';
export { checkRedis, watchRedis, type RedisWatchOptions } from './redis-liveness.js';
export { openJobQueue, type OpenJobQueueOptions } from './open-job-queue.js';
export { journalVersion, type Journal, type JournalJob } from './queue-journal.js';
export { openRuntime, type Runtime, type OpenRuntimeOptions } from './runtime.js';
