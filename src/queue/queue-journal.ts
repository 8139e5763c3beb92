import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { JsonValue } from '../core/json.js';
import type { JobBackoff } from './job-queue.js';

/** Bumped when the shape below changes; a sample of every version is kept in test/queue/fixtures. */
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
}

/**
 * The in-process queue's unfinished jobs, rewritten whole after every change. Only pending jobs
 * are kept: finished ones are history, which a restart does not need (so de-duplication by id
 * covers finished jobs only within one process's life).
 */
export interface Journal {
  version: typeof journalVersion;
  queue: string;
  jobs: JournalJob[];
}

/** Reads a journal; a missing file is an empty queue. A file that is not a journal is refused, never overwritten. */
export function readJournal(path: string, queue: string): Journal {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: journalVersion, queue, jobs: [] };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError('is not a queue journal: it is not JSON. Move it away to start with an empty queue.', { file: path }, { cause: error });
  }
  const journal = parsed as Partial<Journal>;
  if (journal.version !== journalVersion || !Array.isArray(journal.jobs)) {
    throw new ConfigurationError(`is not a version ${journalVersion} queue journal (version ${String(journal.version)}).`, { file: path });
  }
  if (journal.queue !== queue) {
    throw new ConfigurationError(`belongs to queue "${String(journal.queue)}", not "${queue}": give each queue its own journal.`, { file: path });
  }
  return { version: journalVersion, queue, jobs: journal.jobs };
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
    writeFileSync(temp, `${JSON.stringify(journal)}\n`, 'utf8');
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
