import { ConfigurationError } from '../core/errors/configuration-error.js';
import { randomIds, systemClock, type Clock, type IdGenerator } from '../core/ids.js';
import type { JsonValue } from '../core/json.js';
import type { Environment } from '../observe/redact-secrets.js';
import type { AddJobOptions, CloseOptions, JobCounts, JobEvent, JobHandler, JobQueue, JobRef, ProcessOptions } from './job-queue.js';
import {
  backoffDelay,
  copyJson,
  defaultGraceMs,
  defaultIdleTimeoutMs,
  jobDataChecker,
  settlesWithin,
  validateAddOptions,
  validateConcurrency,
} from './job-validation.js';
import { QueueClosedError, QueueIdleTimeoutError, UnrecoverableJobError, isUnrecoverable } from './queue-errors.js';
import { JournalLog, readJournal, type JournalJob } from './queue-journal.js';

export interface InProcessQueueOptions {
  name: string;
  /**
   * A JSON file where unfinished jobs are kept, so that a process started again resumes the jobs
   * that were waiting, delayed or running when the last one died. A job that was running counts
   * that run as an attempt (a job that kills its process must not loop forever), so give jobs that
   * must survive a crash `attempts` of 2 or more. One process per journal file.
   */
  journalPath?: string;
  /** Finished jobs kept per outcome, for counts and de-duplication (default 1000 each). */
  historyLimit?: number;
  /** Stamps events and delays. Timers are real, so a manual clock only suits code that never delays. */
  clock?: Clock;
  ids?: IdGenerator;
  /** Read once, to refuse job data holding the values of secret variables (default `process.env`). */
  env?: Environment;
}

interface Entry extends JournalJob {
  seq: number;
  timer?: NodeJS.Timeout;
  /** Set while a run is in flight; a settled run whose token no longer matches was given up on. */
  runToken?: number;
}

/**
 * The embedded default `JobQueue`: jobs live in this process, delays and backoff are timers,
 * and with `journalPath` the unfinished jobs survive a restart. Workers on other machines need
 * `BullMqQueue`.
 */
export class InProcessQueue implements JobQueue {
  readonly name: string;
  private readonly journal: JournalLog | undefined;
  private readonly historyLimit: number;
  private readonly clock: Clock;
  private readonly ids: IdGenerator;
  private readonly checkData: (jobName: string, data: unknown) => void;
  private readonly pending = new Map<string, Entry>();
  private readonly completed = new Map<string, number>();
  private readonly failed = new Map<string, number>();
  private readonly listeners = new Set<(event: JobEvent) => void>();
  private readonly idleWaiters = new Set<{ resolve: () => void; reject: (error: Error) => void }>();
  private readonly running = new Set<Promise<void>>();
  private handler: JobHandler | undefined;
  private onAbandoned: ProcessOptions['onAbandoned'];
  private concurrency = 1;
  private active = 0;
  private seq = 0;
  private runTokens = 0;
  private closed = false;

  constructor(options: InProcessQueueOptions) {
    this.name = options.name;
    this.journal = options.journalPath
      ? new JournalLog(options.journalPath, options.name, { count: () => this.pending.size, jobs: () => [...this.pending.values()].map(journalJob) })
      : undefined;
    this.historyLimit = options.historyLimit ?? 1000;
    this.clock = options.clock ?? systemClock;
    this.ids = options.ids ?? randomIds;
    this.checkData = jobDataChecker(options.env);
    if (options.journalPath) this.resume(options.journalPath);
  }

  async add(name: string, data: JsonValue, options: AddJobOptions = {}): Promise<JobRef> {
    if (this.closed) throw new QueueClosedError(this.name, `add job "${name}"`);
    validateAddOptions(options);
    this.checkData(name, data);
    const id = options.jobId ?? this.ids('job');
    const existing = this.pending.get(id);
    if (existing) return { id, name: existing.name };
    if (this.completed.has(id) || this.failed.has(id)) return { id, name };
    const now = this.clock.now();
    const delayMs = options.delayMs ?? 0;
    const entry: Entry = {
      id,
      name,
      data: copyJson(data),
      state: delayMs > 0 ? 'delayed' : 'waiting',
      attempts: options.attempts ?? 1,
      attemptsMade: 0,
      priority: options.priority ?? 0,
      runAt: now + delayMs,
      addedAt: now,
      seq: ++this.seq,
      ...(options.backoff ? { backoff: { ...options.backoff } } : {}),
    };
    this.pending.set(id, entry);
    if (entry.state === 'delayed') this.schedule(entry);
    this.logPut(entry);
    this.pump();
    return { id, name };
  }

  async process(handler: JobHandler, options: ProcessOptions = {}): Promise<void> {
    if (this.closed) throw new QueueClosedError(this.name, 'process jobs');
    if (this.handler) throw new ConfigurationError(`process() was already called on queue "${this.name}"; call it once per queue.`);
    const concurrency = options.concurrency ?? 1;
    validateConcurrency(concurrency);
    this.handler = handler;
    this.onAbandoned = options.onAbandoned;
    this.concurrency = concurrency;
    this.pump();
  }

  async counts(): Promise<JobCounts> {
    const counts: JobCounts = { waiting: 0, active: 0, delayed: 0, completed: this.completed.size, failed: this.failed.size };
    for (const entry of this.pending.values()) counts[entry.state] += 1;
    return counts;
  }

  async waitUntilIdle(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.pending.size === 0) return;
    if (this.closed) throw new QueueClosedError(this.name, 'wait until idle');
    const timeoutMs = options.timeoutMs ?? defaultIdleTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.idleWaiters.delete(waiter);
        void this.counts().then(({ waiting, active, delayed }) => reject(new QueueIdleTimeoutError(this.name, timeoutMs, { waiting, active, delayed })));
      }, timeoutMs);
      this.idleWaiters.add(waiter);
    });
  }

  onJobEvent(listener: (event: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(options: CloseOptions = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.pending.values()) if (entry.timer) clearTimeout(entry.timer);
    if (this.running.size > 0) await settlesWithin(Promise.allSettled([...this.running]), options.graceMs ?? defaultGraceMs);
    // Runs that outlived the grace period go back to waiting: in the journal for the next
    // process, without counting an attempt, since it was this shutdown that cut them short.
    for (const entry of this.pending.values()) {
      if (entry.state !== 'active') continue;
      entry.state = 'waiting';
      delete entry.runToken;
    }
    this.active = 0;
    this.journal?.snapshot([...this.pending.values()].map(journalJob));
    this.journal?.close();
    for (const waiter of this.idleWaiters) waiter.reject(new QueueClosedError(this.name, 'wait until idle'));
    this.idleWaiters.clear();
  }

  private pump(): void {
    while (!this.closed && this.handler && this.active < this.concurrency) {
      const next = this.nextWaiting();
      if (!next) return;
      this.run(next, this.handler);
    }
  }

  /** Jobs without a priority first, then by priority number, then in the order they were added. */
  private nextWaiting(): Entry | undefined {
    let best: Entry | undefined;
    for (const entry of this.pending.values()) {
      if (entry.state !== 'waiting') continue;
      if (!best || entry.priority < best.priority || (entry.priority === best.priority && entry.seq < best.seq)) best = entry;
    }
    return best;
  }

  private run(entry: Entry, handler: JobHandler): void {
    const token = ++this.runTokens;
    entry.state = 'active';
    entry.runToken = token;
    this.active += 1;
    this.logPut(entry);
    const { abandoned } = entry;
    const attempt = abandoned ? entry.attemptsMade : entry.attemptsMade + 1;
    const job = { id: entry.id, name: entry.name, data: copyJson(entry.data), attempt };
    // A job given up on is reported, not run again; it then fails for good either way.
    const work = abandoned
      ? async () => {
          await this.onAbandoned?.(job, abandoned);
          throw new UnrecoverableJobError(abandoned);
        }
      : () => handler(job);
    const run = new Promise<unknown>((resolve) => resolve(work())).then(
      () => this.settle(entry, token, attempt, undefined),
      (error: unknown) => this.settle(entry, token, attempt, error instanceof Error ? error : new Error(String(error))),
    );
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private settle(entry: Entry, token: number, attempt: number, error: Error | undefined): void {
    if (entry.runToken !== token || this.pending.get(entry.id) !== entry) return;
    delete entry.runToken;
    this.active -= 1;
    const at = this.clock.now();
    let event: JobEvent;
    if (!error) {
      this.finish(entry, this.completed);
      event = { type: 'job-complete', id: entry.id, name: entry.name, attempt, at };
    } else {
      if (!entry.abandoned) entry.attemptsMade += 1;
      const willRetry = !isUnrecoverable(error) && entry.attemptsMade < entry.attempts;
      if (!willRetry) {
        this.finish(entry, this.failed);
      } else {
        const delay = backoffDelay(entry.backoff, entry.attemptsMade);
        entry.state = delay > 0 ? 'delayed' : 'waiting';
        entry.runAt = at + delay;
        if (delay > 0) this.schedule(entry);
      }
      event = { type: 'job-fail', id: entry.id, name: entry.name, attempt, at, message: error.message, willRetry };
    }
    if (this.pending.get(entry.id) === entry) this.logPut(entry);
    else this.journal?.drop(entry.id);
    this.emit(event);
    this.pump();
    this.checkIdle();
  }

  private finish(entry: Entry, history: Map<string, number>): void {
    this.pending.delete(entry.id);
    history.set(entry.id, this.clock.now());
    // Maps keep insertion order, so the first key is the oldest.
    while (history.size > this.historyLimit) history.delete(history.keys().next().value as string);
  }

  private schedule(entry: Entry): void {
    if (this.closed) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(
      () => {
        delete entry.timer;
        if (this.closed || this.pending.get(entry.id) !== entry || entry.state !== 'delayed') return;
        entry.state = 'waiting';
        this.logPut(entry);
        this.pump();
      },
      Math.max(0, entry.runAt - this.clock.now()),
    );
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

  private checkIdle(): void {
    if (this.pending.size > 0) return;
    for (const waiter of this.idleWaiters) waiter.resolve();
    this.idleWaiters.clear();
  }

  private resume(path: string): void {
    const journal = readJournal(path, this.name);
    for (const job of journal.jobs) {
      const entry: Entry = { ...job, seq: ++this.seq };
      if (entry.state === 'active') {
        // It was running when its process died: that run counts, and may have been the last. The
        // last one is not run again (a job that kills its process must not loop forever) but
        // reported to `onAbandoned` first; one that died while being reported is reported again.
        if (!entry.abandoned) entry.attemptsMade += 1;
        if (entry.attemptsMade >= entry.attempts && !entry.abandoned) {
          entry.abandoned = `its process died during its last attempt (${entry.attemptsMade} of ${entry.attempts})`;
        }
        entry.state = 'waiting';
      }
      this.pending.set(entry.id, entry);
      if (entry.state === 'delayed') this.schedule(entry);
    }
    // The changes replayed become the new snapshot.
    this.journal?.snapshot([...this.pending.values()].map(journalJob));
  }

  private logPut(entry: Entry): void {
    this.journal?.put(journalJob(entry));
  }
}

/** The part of an entry the journal keeps. */
function journalJob({ seq: _seq, timer: _timer, runToken: _runToken, ...job }: Entry): JournalJob {
  return job;
}
