import { TroupeError, type TroupeErrorOptions } from '../core/errors/troupe-error.js';

/**
 * A job id BullMQ would refuse or misread: ids become part of Redis keys, where ':' splits the
 * key, and an all-digit id could collide with BullMQ's own counter ids. The in-process queue
 * applies the same rule so that code written against it keeps working on Redis.
 */
export class InvalidJobIdError extends TroupeError {
  readonly code = 'job_id_invalid';
  readonly fault = 'user' as const;
  readonly jobId: string;

  constructor(jobId: string, reason: string, options: TroupeErrorOptions = {}) {
    super(`Job id "${jobId}" is invalid: ${reason}. Use letters, digits, '-' or '_' (for example "item-42").`, {
      ...options,
      details: { jobId, ...options.details },
    });
    this.jobId = jobId;
  }
}

/** Why job data was refused: it is not plain JSON, or a key says it carries a credential. */
export type JobDataProblem = 'not-json' | 'secret';

/**
 * Job data that may not be queued. Data must be JSON (it is stored as JSON in Redis or in the
 * journal file) and must not carry credentials: queued data is written to Redis and journal
 * files in clear, shown by the dashboard, and read by workers on other machines. Pass the name
 * of a credential (or an id to look it up) and let the worker read it from its own environment.
 */
export class JobDataRejectedError extends TroupeError {
  readonly code = 'job_data_rejected';
  readonly fault = 'user' as const;
  readonly problem: JobDataProblem;
  /** Where in the data the problem is, as `a.b[2].c` (`$` for the whole value). */
  readonly path: string;

  constructor(jobName: string, problem: JobDataProblem, path: string, reason: string, options: TroupeErrorOptions = {}) {
    const what =
      problem === 'secret'
        ? `${reason}. Queued data is stored in clear and read by other machines: pass the name of the credential, not its value, and let the worker read it from its environment.`
        : `${reason}. Job data must be plain JSON (objects, arrays, strings, finite numbers, booleans, null).`;
    super(`Data of job "${jobName}" is refused at ${path}: ${what}`, { ...options, details: { jobName, problem, path, ...options.details } });
    this.problem = problem;
    this.path = path;
  }
}

/**
 * Thrown by a job handler to say that trying again cannot help (bad input, a missing work item):
 * the job fails at once, whatever attempts remain. On BullMQ it is turned into BullMQ's
 * `UnrecoverableError`, which has the same meaning.
 */
export class UnrecoverableJobError extends TroupeError {
  readonly code = 'job_unrecoverable';
  readonly fault = 'system' as const;
}

/** Whether a handler's error means "do not retry" (ours, or BullMQ's by name, without importing BullMQ). */
export function isUnrecoverable(error: unknown): boolean {
  if (error instanceof UnrecoverableJobError) return true;
  return error instanceof Error && (error.name === 'UnrecoverableJobError' || error.name === 'UnrecoverableError');
}

/** The queue's backing service (Redis) cannot be reached. Retryable: the service may come back. */
export class QueueUnavailableError extends TroupeError {
  readonly code = 'queue_unavailable';
  readonly fault = 'system' as const;
  override readonly retryable = true;
  /** The Redis URL with its password masked. */
  readonly url: string;

  constructor(queueName: string, url: string, doing: string, options: TroupeErrorOptions = {}) {
    const cause = options.cause instanceof Error ? ` (${options.cause.message})` : '';
    super(
      `Queue "${queueName}" could not ${doing}: Redis does not answer at ${url}${cause}. Start Redis or fix REDIS_URL; unset REDIS_URL to use the in-process queue.`,
      { ...options, details: { queueName, url, ...options.details } },
    );
    this.url = url;
  }
}

/** The queue was used after `close()`. */
export class QueueClosedError extends TroupeError {
  readonly code = 'queue_closed';
  readonly fault = 'system' as const;

  constructor(queueName: string, doing: string, options: TroupeErrorOptions = {}) {
    super(`Queue "${queueName}" is closed: cannot ${doing}. Open a new queue.`, { ...options, details: { queueName, ...options.details } });
  }
}

/** `waitUntilIdle` gave up: jobs were still waiting, active or delayed when its time ran out. */
export class QueueIdleTimeoutError extends TroupeError {
  readonly code = 'queue_idle_timeout';
  readonly fault = 'system' as const;
  override readonly retryable = true;

  constructor(queueName: string, timeoutMs: number, counts: Record<string, number>, options: TroupeErrorOptions = {}) {
    const pending = Object.entries(counts)
      .map(([state, count]) => `${count} ${state}`)
      .join(', ');
    super(`Queue "${queueName}" was not idle after ${timeoutMs} ms (${pending}). Is a worker processing it?`, {
      ...options,
      details: { queueName, timeoutMs, counts, ...options.details },
    });
  }
}

/**
 * Redis did not answer when a process that needs it started (`troupe worker`): a configuration
 * to fix before anything runs, hence exit code 2. `url` has its password masked.
 */
export class RedisUnreachableError extends TroupeError {
  readonly code = 'redis_unreachable';
  readonly fault = 'configuration' as const;
  readonly url: string;

  constructor(url: string, problem: string, options: TroupeErrorOptions = {}) {
    super(
      `Redis does not answer at ${url} (REDIS_URL): ${problem}. Start Redis there or fix REDIS_URL; unset it to use the embedded store and queue on this machine.`,
      {
        ...options,
        details: { url, ...options.details },
      },
    );
    this.url = url;
  }
}

/** Redis went away while a process used it and did not come back in time: the process stops (exit 1) instead of waiting forever. */
export class RedisLostError extends TroupeError {
  readonly code = 'redis_lost';
  readonly fault = 'system' as const;
  override readonly retryable = true;
  readonly url: string;

  constructor(url: string, downForMs: number, problem: string, options: TroupeErrorOptions = {}) {
    super(`Lost Redis at ${url} (REDIS_URL) for ${Math.round(downForMs / 1000)} s (${problem}): stopped. Start Redis again, then restart this process.`, {
      ...options,
      details: { url, downForMs, ...options.details },
    });
    this.url = url;
  }
}
