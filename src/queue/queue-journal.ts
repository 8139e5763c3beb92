import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { JsonValue } from '../core/json.js';
import { CorruptRecordError } from '../store/errors/corrupt-record-error.js';
import { defineRecord } from '../store/record-schema.js';
import type { JobBackoff } from './job-queue.js';

/**
 * Bumped when the shape below changes (the journal's `schemaVersion`); a sample of every version
 * is kept in test/queue/fixtures and test/fixtures/records.
 */
export const journalVersion = 1;

/** One unfinished job as the journal keeps it. */
export interface JournalJob {
  id: string;
  name: string;
  data: JsonValue;
  state: 'waiting' | 'delayed' | 'active';
  attempts: number;
  attemptsMade: number;
  backoff?: JobBackoff;
  priority: number;
  /** For delayed jobs: when they may run, in ms since the epoch. */
  runAt: number;
  addedAt: number;
  /** Why the queue gave up on it (its last attempt died with its process), until that is reported. */
  abandoned?: string;
}

/**
 * The in-process queue's unfinished jobs (a snapshot, and changes logged since: `JournalLog`). Only pending jobs
 * are kept: finished ones are history, which a restart does not need (so de-duplication by id
 * covers finished jobs only within one process's life).
 */
export interface Journal {
  queue: string;
  jobs: JournalJob[];
}

/** Journals named their version `version` before every record used `schemaVersion`: read as it. */
export const journalRecords = defineRecord<Journal>({
  kind: 'queue journal',
  version: journalVersion,
  legacyVersionFields: ['version'],
  schema: z.looseObject({
    queue: z.string(),
    jobs: z.array(
      z.looseObject({
        id: z.string(),
        name: z.string(),
        state: z.enum(['waiting', 'delayed', 'active']),
        attempts: z.number(),
        attemptsMade: z.number(),
        priority: z.number(),
        runAt: z.number(),
        addedAt: z.number(),
        abandoned: z.string().optional(),
      }),
    ),
  }),
});

/**
 * Reads a journal: its snapshot (`path`), with the changes logged since (`<path>.log`, see
 * `JournalLog`) applied. A missing file is an empty queue. A file that is not a journal is
 * refused, never overwritten.
 */
export function readJournal(path: string, queue: string): Journal {
  const snapshot = readSnapshot(path, queue);
  const changes = readChanges(logPathOf(path));
  if (changes.length === 0) return snapshot;
  const jobs = new Map(snapshot.jobs.map((job) => [job.id, job]));
  for (const change of changes) {
    if ('drop' in change) jobs.delete(change.drop);
    else jobs.set(change.put.id, change.put);
  }
  try {
    return {
      queue,
      jobs: journalRecords.read(
        { schemaVersion: journalVersion, queue, jobs: [...jobs.values()] },
        { collection: 'queue journals', id: queue, location: logPathOf(path) },
      ).jobs,
    };
  } catch (error) {
    if (!(error instanceof CorruptRecordError)) throw error;
    throw new ConfigurationError(
      `holds a change that is not a queue job: ${error.problem}. Move it away to start from the snapshot.`,
      { file: logPathOf(path) },
      { cause: error },
    );
  }
}

function readSnapshot(path: string, queue: string): Journal {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { queue, jobs: [] };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError('is not a queue journal: it is not JSON. Move it away to start with an empty queue.', { file: path }, { cause: error });
  }
  let journal: Journal;
  try {
    journal = journalRecords.read(parsed, { collection: 'queue journals', id: queue, location: path });
  } catch (error) {
    // The journal is a file the caller names: one that is not a journal is a wrong path (exit 2) more often than damage.
    if (!(error instanceof CorruptRecordError)) throw error;
    throw new ConfigurationError(
      `is not a queue journal this Troupe reads: ${error.problem}. Move it away to start with an empty queue.`,
      { file: path },
      { cause: error },
    );
  }
  if (journal.queue !== queue) {
    throw new ConfigurationError(`belongs to queue "${journal.queue}", not "${queue}": give each queue its own journal.`, { file: path });
  }
  return { queue, jobs: journal.jobs };
}

let tempCounter = 0;

/**
 * Replaces the journal atomically: the text goes to a temporary file beside it, which is then
 * renamed over it, so a process that dies mid-write leaves the old journal or the new one, never
 * half of one. Synchronous on purpose: the journal must say a job is active before its handler
 * starts, and queued jobs here are agent steps, slow next to a small file write.
 */
export function writeJournal(path: string, journal: Journal): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  try {
    writeFileSync(temp, `${JSON.stringify(journalRecords.write(journal))}\n`, 'utf8');
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** The queue's unfinished jobs, as `JournalLog` asks for them. */
export interface PendingJobs {
  count(): number;
  jobs(): JournalJob[];
}

/** One change logged after the snapshot: a job as it now is, or a job that is done. */
type JournalChange = { put: JournalJob } | { drop: string };

function logPathOf(path: string): string {
  return `${path}.log`;
}

/**
 * The logged changes, in order. The last line may be cut short by a crash in the middle of its
 * write: it is left out (the change it held had not returned yet). A damaged line before it is refused.
 */
function readChanges(logPath: string): JournalChange[] {
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines = text.split('\n');
  const changes: JournalChange[] = [];
  lines.forEach((line, index) => {
    if (line === '') return;
    try {
      const change = JSON.parse(line) as JournalChange;
      if (change !== null && typeof change === 'object' && ('put' in change || typeof (change as { drop?: unknown }).drop === 'string')) {
        changes.push(change);
        return;
      }
    } catch {
      // Reported below, unless it is a torn last line.
    }
    if (index === lines.length - 1) return;
    throw new ConfigurationError(`line ${index + 1} is not a queue journal change. Move the file away to start from the snapshot.`, { file: logPath });
  });
  return changes;
}

/**
 * The journal as the in-process queue writes it: a snapshot of the unfinished jobs (`path`, the
 * format `readJournal` reads) and a log of the changes since (`<path>.log`, one JSON line per
 * change: `{"put": job}` or `{"drop": id}`). A change costs one small append instead of
 * rewriting every pending job (a queue with thousands of notifications pending rewrote them all
 * for each of them). When the log grows past a few times the pending jobs, or the queue empties,
 * the snapshot is rewritten and the log truncated, so the work stays proportional to the changes.
 *
 * Appends are synchronous, like the snapshot: a job must be logged as active before its handler
 * starts. A change is durable against a crash of the process once `write` returns (the kernel
 * holds it), as the snapshot's rename was; neither is synced to disk. A crash between a new
 * snapshot and the log's truncation leaves changes the snapshot already holds: replaying them
 * again gives the same jobs, since each change states a job whole.
 */
export class JournalLog {
  readonly #path: string;
  readonly #queue: string;
  readonly #pending: PendingJobs;
  #fd: number | undefined;
  #lines = 0;

  /** `pending` gives the queue's unfinished jobs (as they are after the change being logged) when a snapshot is due. */
  constructor(path: string, queue: string, pending: PendingJobs) {
    this.#path = path;
    this.#queue = queue;
    this.#pending = pending;
  }

  /** Logs a job as it now is. */
  put(job: JournalJob): void {
    this.#append(`${JSON.stringify({ put: job })}\n`);
  }

  /** Logs that a job is finished (done or failed for good). */
  drop(id: string): void {
    this.#append(`${JSON.stringify({ drop: id })}\n`);
  }

  /** Rewrites the snapshot with these jobs and empties the log. */
  snapshot(jobs: JournalJob[]): void {
    writeJournal(this.#path, { queue: this.#queue, jobs });
    if (this.#fd !== undefined) ftruncateSync(this.#fd, 0);
    else rmSync(logPathOf(this.#path), { force: true });
    this.#lines = 0;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #append(line: string): void {
    const count = this.#pending.count();
    if (count === 0 || this.#lines >= 64 + 2 * count) {
      this.snapshot(this.#pending.jobs());
      return;
    }
    if (this.#fd === undefined) {
      mkdirSync(dirname(this.#path), { recursive: true });
      this.#fd = openSync(logPathOf(this.#path), 'a');
    }
    writeSync(this.#fd, line);
    this.#lines += 1;
  }
}
