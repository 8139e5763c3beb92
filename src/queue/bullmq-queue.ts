import { maskRedisUrl } from '../core/redis-url.js';
import { redisUrlFromEnv } from '../store/backend.js';
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions, type KeepJobs } from 'bullmq';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { randomIds, systemClock, type Clock, type IdGenerator } from '../core/ids.js';
import type { JsonValue } from '../core/json.js';
import type { Environment } from '../observe/redact-secrets.js';
import type { AddJobOptions, CloseOptions, JobCounts, JobEvent, JobHandler, JobQueue, JobRef, ProcessOptions } from './job-queue.js';
import { defaultGraceMs, defaultIdleTimeoutMs, jobDataChecker, settlesWithin, sleep, validateAddOptions, validateConcurrency } from './job-validation.js';
import { QueueClosedError, QueueIdleTimeoutError, QueueUnavailableError, isUnrecoverable } from './queue-errors.js';
import { checkRedis } from './redis-liveness.js';

/**
 * Stalled-job handling (docs.bullmq.io/guide/jobs/stalled). A worker holds a lock on each job it
 * runs for `lockDurationMs` and renews it at half that; a worker whose process dies stops
 * renewing, and every `stalledIntervalMs` some worker's check moves jobs whose lock expired back
 * to waiting, up to `maxStalledCount` times before failing them. BullMQ's defaults (30 s, 30 s, 1)
 * suit agent steps: a job's event loop is never blocked for 30 s (model calls are I/O), and a job
 * that kills its worker twice is failed instead of taking down worker after worker. Tests
 * shorten the times to see a recovery within seconds.
 *
 * The limit is applied here, not by BullMQ: BullMQ fails such a job without calling the processor,
 * so nobody would record why (an item would wait forever). Here the next worker to take it gives
 * it to `ProcessOptions.onAbandoned` first, still holding its lock, and then fails it.
 */
export interface StalledJobSettings {
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
}

export interface BullMqQueueOptions {
  name: string;
  /** Default: `REDIS_URL` from `env`, else `redis://127.0.0.1:6379`. */
  url?: string;
  /** Redis key prefix (BullMQ's default is `bull`); queues with different prefixes never meet. */
  prefix?: string;
  /** How long `add` waits for Redis before failing with `QueueUnavailableError` (default 5 s). */
  connectTimeoutMs?: number;
  stalled?: StalledJobSettings;
  /**
   * Finished jobs kept in Redis. Bounded so that Redis does not grow forever; de-duplication by
   * job id only sees jobs still kept, so the bounds are the de-duplication window. Default: the
   * last 1000 completed jobs up to a day old, the last 5000 failed ones up to a week old.
   * Applied by the worker (`process`) that finishes the job: the producer's setting does not travel with the job.
   */
  keep?: { completed?: KeepJobs; failed?: KeepJobs };
  /** Connection and worker errors (Redis down, lost lock). Default: one warning per distinct message. */
  onError?: (error: Error) => void;
  clock?: Clock;
  ids?: IdGenerator;
  /** Read once, to refuse job data holding the values of secret variables (default `process.env`). */
  env?: Environment;
}

/**
 * `JobQueue` on BullMQ and Redis: any process on any machine that reaches the same Redis (and
 * uses the same name and prefix) adds to and works on the same queue. Configured the way
 * BullMQ's "going to production" guide asks: separate connections for producing and working,
 * a producer that fails fast while Redis is down, a worker connection that waits for Redis
 * forever (`maxRetriesPerRequest: null`), error listeners on both, bounded job retention, and a
 * graceful close bounded by a grace period.
 */
export class BullMqQueue implements JobQueue {
  readonly name: string;
  readonly url: string;
  private readonly redisUrl: string;
  private readonly prefix: string | undefined;
  private readonly connectTimeoutMs: number;
  private readonly stalled: StalledJobSettings;
  private readonly clock: Clock;
  private readonly ids: IdGenerator;
  private readonly checkData: (jobName: string, data: unknown) => void;
  private readonly reportError: (error: Error) => void;
  private readonly queue: Queue;
  /** How many finished jobs Redis keeps (see `keep`): set on the worker, which applies it. */
  private readonly retention: { removeOnComplete: KeepJobs; removeOnFail: KeepJobs };
  private readonly listeners = new Set<(event: JobEvent) => void>();
  private readonly running = new Set<Promise<unknown>>();
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  /** The producer connection was ready once; ioredis reconnects it by itself from then on. */
  private connected = false;
  private readyCheck: Promise<boolean> | undefined;
  private closed = false;

  constructor(options: BullMqQueueOptions) {
    this.name = options.name;
    this.redisUrl = options.url ?? redisUrlFromEnv(options.env);
    this.url = maskRedisUrl(this.redisUrl);
    this.prefix = options.prefix;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.stalled = options.stalled ?? {};
    this.clock = options.clock ?? systemClock;
    this.ids = options.ids ?? randomIds;
    this.checkData = jobDataChecker(options.env);
    this.reportError = options.onError ?? onceEachMessage((error) => console.warn(`troupe queue "${this.name}" (${this.url}): ${error.message}`));
    const keep = options.keep ?? {};
    this.retention = {
      removeOnComplete: keep.completed ?? { count: 1000, age: 24 * 3600 },
      removeOnFail: keep.failed ?? { count: 5000, age: 7 * 24 * 3600 },
    };
    this.queue = new Queue(this.name, {
      // The producer fails fast: with no offline queue and one retry, `add` while Redis is down
      // throws at once instead of hanging until Redis returns (BullMQ: "failing fast when Redis is down").
      connection: { url: this.redisUrl, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: this.connectTimeoutMs },
      ...(this.prefix ? { prefix: this.prefix } : {}),
    });
    this.queue.on('error', (error: Error) => this.reportError(error));
  }

  async add(name: string, data: JsonValue, options: AddJobOptions = {}): Promise<JobRef> {
    if (this.closed) throw new QueueClosedError(this.name, `add job "${name}"`);
    validateAddOptions(options);
    this.checkData(name, data);
    const id = options.jobId ?? this.ids('job');
    const jobOptions: JobsOptions = { jobId: id };
    if (options.delayMs) jobOptions.delay = options.delayMs;
    if (options.attempts) jobOptions.attempts = options.attempts;
    if (options.backoff) jobOptions.backoff = { type: options.backoff.type, delay: options.backoff.delayMs };
    if (options.priority) jobOptions.priority = options.priority;
    // BullMQ ignores an add whose id it already holds; that is the de-duplication.
    await this.withRedis(`add job "${name}"`, () => this.queue.add(name, data, jobOptions));
    return { id, name };
  }

  async process(handler: JobHandler, options: ProcessOptions = {}): Promise<void> {
    if (this.closed) throw new QueueClosedError(this.name, 'process jobs');
    if (this.worker) throw new ConfigurationError(`process() was already called on queue "${this.name}"; call it once per queue.`);
    const concurrency = options.concurrency ?? 1;
    validateConcurrency(concurrency);
    const worker = new Worker(this.name, (job: Job) => this.runJob(job, handler, options.onAbandoned), {
      // The worker's own connections (BullMQ adds a blocking one): they must wait for Redis to
      // come back rather than fail their commands, hence `maxRetriesPerRequest: null`.
      connection: { url: this.redisUrl, maxRetriesPerRequest: null },
      ...(this.prefix ? { prefix: this.prefix } : {}),
      concurrency,
      // Retention is the worker's, applied as it finishes each job: jobs carry no copy of it, which
      // keeps every job's options (packed by the producer, stored and parsed per job) small.
      ...this.retention,
      ...(this.stalled.lockDurationMs ? { lockDuration: this.stalled.lockDurationMs } : {}),
      ...(this.stalled.stalledIntervalMs ? { stalledInterval: this.stalled.stalledIntervalMs } : {}),
      // BullMQ never fails a stalled job itself (see StalledJobSettings): runJob does.
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    });
    worker.on('error', (error: Error) => this.reportError(error));
    worker.on('completed', (job: Job) => {
      // Most workers have no listener: the event is not even built (one object per job saved).
      if (this.listeners.size === 0) return;
      this.emit({ type: 'job-complete', id: String(job.id), name: job.name, attempt: job.attemptsMade, at: this.clock.now() });
    });
    worker.on('failed', (job: Job | undefined, error: Error) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      const willRetry = !isUnrecoverable(error) && job.attemptsMade < attempts;
      this.emit({ type: 'job-fail', id: String(job.id), name: job.name, attempt: job.attemptsMade, at: this.clock.now(), message: error.message, willRetry });
    });
    this.worker = worker;
  }

  async counts(): Promise<JobCounts> {
    if (this.closed) throw new QueueClosedError(this.name, 'count jobs');
    const raw = await this.withRedis('count jobs', () =>
      this.queue.getJobCounts('wait', 'prioritized', 'waiting-children', 'active', 'delayed', 'completed', 'failed'),
    );
    const n = (key: string) => raw[key] ?? 0;
    return {
      waiting: n('wait') + n('prioritized') + n('waiting-children'),
      active: n('active'),
      delayed: n('delayed'),
      completed: n('completed'),
      failed: n('failed'),
    };
  }

  /** Polls the counts: BullMQ has no "idle" event that covers every worker on every machine. */
  async waitUntilIdle(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? defaultIdleTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const counts = await this.counts();
      if (counts.waiting + counts.active + counts.delayed === 0) return;
      if (Date.now() >= deadline) {
        const { waiting, active, delayed } = counts;
        throw new QueueIdleTimeoutError(this.name, timeoutMs, { waiting, active, delayed });
      }
      await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
    }
  }

  onJobEvent(listener: (event: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * BullMQ's graceful-shutdown guide races `worker.close()` against a timeout and then calls
   * `worker.close(true)`. In BullMQ 6 a second `close` returns the first one's promise, so it
   * cannot force anything; instead the worker is paused (no new jobs), the jobs it runs get the
   * grace period, and only then is it closed, forced if some are still running. Those keep their
   * lock until it expires, and the stalled-job check of a worker still running moves them back to
   * waiting (see `StalledJobSettings`).
   */
  async close(options: CloseOptions = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const deadline = Date.now() + (options.graceMs ?? defaultGraceMs);
    const remaining = () => Math.max(0, deadline - Date.now());
    const worker = this.worker;
    // A gentle close lets BullMQ record the last jobs' completion, but it sends QUIT, and with
    // Redis gone that QUIT never ends (worker connections wait for Redis forever) or fails and
    // leaves its connection reconnecting with no listener (the producer's): either way the
    // process never exits. So when Redis does not answer a PING, connections are dropped
    // instead; nothing could be recorded anyway, and the jobs' locks expire so that the
    // stalled-job check hands them to another worker.
    const answering = () =>
      checkRedis(this.redisUrl, { timeoutMs: Math.min(this.connectTimeoutMs, 2000) }).then(
        () => true,
        () => false,
      );
    if (worker) {
      await settlesWithin(worker.pause(true), remaining());
      const finished = this.running.size === 0 || (await settlesWithin(Promise.allSettled([...this.running]), remaining()));
      const force = !finished || !(await answering());
      if (!(await settlesWithin(worker.close(force), this.connectTimeoutMs))) await settlesWithin(worker.disconnect(), this.connectTimeoutMs);
    }
    if (!(await answering())) {
      // Its connection is dropped at once; the promise waits for an "end" that may not come.
      await settlesWithin(this.queue.disconnect(), 1000);
      return;
    }
    // Bounded too: Redis may go away between the PING and the close.
    if (!(await settlesWithin(this.queue.close(), this.connectTimeoutMs))) await settlesWithin(this.queue.disconnect(), this.connectTimeoutMs);
  }

  private async runJob(job: Job, handler: JobHandler, onAbandoned: ProcessOptions['onAbandoned']): Promise<unknown> {
    const maxStalls = this.stalled.maxStalledCount ?? 1;
    const run = (async () => {
      const queued = { id: String(job.id), name: job.name, data: job.data as JsonValue, attempt: job.attemptsMade + 1 };
      if (job.stalledCounter > maxStalls) {
        const reason = `its worker stopped while running it ${job.stalledCounter} times (maxStalledCount is ${maxStalls})`;
        await onAbandoned?.(queued, reason);
        throw new UnrecoverableError(reason);
      }
      try {
        await handler(queued);
        return null;
      } catch (error) {
        // BullMQ recognises its own class (or its name) as "do not retry".
        if (isUnrecoverable(error)) throw new UnrecoverableError((error as Error).message);
        throw error instanceof Error ? error : new Error(String(error));
      }
    })();
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
    }
  }

  /** Waits for the producer connection (bounded), then runs `command`, turning connection failures into `QueueUnavailableError`. */
  private async withRedis<T>(doing: string, command: () => Promise<T>): Promise<T> {
    const unavailable = (cause?: unknown) => new QueueUnavailableError(this.name, this.url, doing, cause === undefined ? {} : { cause });
    // Once connected, a command goes straight to Redis: a lost connection fails it at once (no
    // offline queue), and the bounded wait below (a timer and an abort signal per call) would
    // cost more than BullMQ's own add when thousands of notifications are queued at once.
    if (!this.connected) {
      // One bounded wait shared by the calls made meanwhile (a change queues all its notifications in one tick).
      this.readyCheck ??= this.checkReady();
      if (!(await this.readyCheck)) throw unavailable();
    }
    try {
      return await command();
    } catch (error) {
      if (isConnectionError(error)) throw unavailable(error);
      throw error;
    }
  }

  /** Whether the producer connection becomes ready within the connect timeout; a failure lets the next call try again. */
  private async checkReady(): Promise<boolean> {
    this.ready ??= this.queue.waitUntilReady().then(() => undefined);
    const connected = this.ready.then(
      () => true,
      () => false,
    );
    if (!(await settlesWithin(connected, this.connectTimeoutMs)) || !(await connected)) {
      this.ready = undefined;
      this.readyCheck = undefined;
      return false;
    }
    this.connected = true;
    return true;
  }

  private emit(event: JobEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not change what happens to the job.
      }
    }
  }
}

function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE'].includes(code) ||
    /Stream isn't writeable|Connection is closed|max retries per request|enableOfflineQueue/i.test(error.message)
  );
}

/** Reports each distinct message once, so a Redis outage gives one warning, not one per reconnect. */
function onceEachMessage(report: (error: Error) => void): (error: Error) => void {
  const seen = new Set<string>();
  return (error) => {
    if (seen.has(error.message)) return;
    if (seen.size > 100) seen.clear();
    seen.add(error.message);
    report(error);
  };
}
