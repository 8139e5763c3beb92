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
  type JobDataProblem,
} from './queue-errors.js';
export { InProcessQueue, type InProcessQueueOptions } from './in-process-queue.js';
export { openJobQueue, type OpenJobQueueOptions } from './open-job-queue.js';
export type { Journal, JournalJob } from './queue-journal.js';
export { openRuntime, type Runtime, type OpenRuntimeOptions } from './runtime.js';
