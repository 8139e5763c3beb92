import type { JsonValue } from '../core/json.js';

/** How long to wait before a failed job runs again: always `delayMs`, or `delayMs * 2^(retry - 1)`. */
export interface JobBackoff {
  type: 'fixed' | 'exponential';
  delayMs: number;
}

export interface AddJobOptions {
  /**
   * Makes adding idempotent: while a job with this id is waiting, active, delayed, or finished
   * and still kept in the history, adding it again does nothing. No ':' and not all digits.
   * Without one, a fresh id is made.
   */
  jobId?: string;
  /** Run no sooner than this many milliseconds from now. */
  delayMs?: number;
  /** Runs allowed in total, the first included (default 1: no retries). */
  attempts?: number;
  /** Wait between runs after a failure (default: retry at once). */
  backoff?: JobBackoff;
  /** 1 (first) to 2,097,152 (last); jobs without a priority run before prioritized ones, as in BullMQ. */
  priority?: number;
}

/** What `add` returns: enough to find the job again. */
export interface JobRef {
  id: string;
  name: string;
}

/**
 * What a handler is given. `attempt` counts from 1; on a retry it is 2, and so on. A run cut short
 * by a process that died counts as an attempt in process (see `InProcessQueue`'s journal); on
 * BullMQ it counts as a stall instead (`StalledJobSettings.maxStalledCount`).
 */
export interface QueuedJob {
  id: string;
  name: string;
  data: JsonValue;
  attempt: number;
}

/**
 * Does one job. Returning means done; throwing means failed, retried with backoff while attempts
 * remain, unless the error is an `UnrecoverableJobError`. The return value is not kept.
 */
export type JobHandler = (job: QueuedJob) => unknown;

export interface ProcessOptions {
  /** Jobs run at once by this process (default 1). */
  concurrency?: number;
  /**
   * Called instead of the handler for a job the queue gives up on because the processes running
   * it died: in process, its last allowed attempt was cut short by a crash (found in the
   * journal); on BullMQ, its workers stopped while holding it more than `maxStalledCount` times.
   * The handler never saw that failure, so this is where it is recorded (an item failed with the
   * reason, a notification's outcome), or the work would wait forever with nobody told. It runs
   * while the queue still holds the job: a process that dies during it leaves the job to be
   * given up on again, so it must be safe to repeat. The job then fails without a retry.
   */
  onAbandoned?: (job: QueuedJob, reason: string) => unknown;
}

export interface JobCounts {
  waiting: number;
  active: number;
  delayed: number;
  /** Finished jobs still kept in the bounded history. */
  completed: number;
  failed: number;
}

/** A job finished one run. Sent to `onJobEvent` listeners of the process that ran it. */
export type JobEvent =
  | { type: 'job-complete'; id: string; name: string; attempt: number; at: number }
  | {
      type: 'job-fail';
      id: string;
      name: string;
      attempt: number;
      at: number;
      message: string;
      /** Whether another attempt is scheduled; false when the job is now failed for good. */
      willRetry: boolean;
    };

export interface CloseOptions {
  /**
   * How long jobs already running may take to finish (default 10 s). Jobs still running after it
   * are given back to the queue: at once in process, and on BullMQ when their lock expires and a
   * worker's stalled-job check moves them back to waiting.
   */
  graceMs?: number;
}

/**
 * A named queue of jobs shared by producers and workers. Two implementations pass the same
 * contract tests (test/queue/job-queue-contract.ts): `InProcessQueue` (one process, no services,
 * optionally journalled to a file) and `BullMqQueue` (Redis; workers on any machine share the work).
 * Code above this layer depends on this interface only, never on BullMQ.
 *
 * Delivery is at least once: a job whose worker dies is run again, so handlers must be safe to
 * repeat (check the work item's state before acting).
 */
export interface JobQueue {
  readonly name: string;
  /**
   * Adds a job; validates the id and the data first. Data must be JSON and must not carry secrets
   * (keys such as `apiKey`, `password`, `token`, `authorization`): see `JobDataRejectedError`.
   */
  add(name: string, data: JsonValue, options?: AddJobOptions): Promise<JobRef>;
  /** Starts consuming jobs with `handler`. Once per queue instance. */
  process(handler: JobHandler, options?: ProcessOptions): Promise<void>;
  counts(): Promise<JobCounts>;
  /** Resolves once nothing is waiting, active or delayed; throws `QueueIdleTimeoutError` after `timeoutMs` (default 30 s). */
  waitUntilIdle(options?: { timeoutMs?: number }): Promise<void>;
  /** Calls `listener` after each run this process finishes. Returns a function that unsubscribes. */
  onJobEvent(listener: (event: JobEvent) => void): () => void;
  /** Stops taking jobs, lets running ones finish within the grace period, releases connections. */
  close(options?: CloseOptions): Promise<void>;
}
