import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
}

/**
 * The in-process queue's unfinished jobs, rewritten whole after every change. Only pending jobs
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
      }),
    ),
  }),
});

/** Reads a journal; a missing file is an empty queue. A file that is not a journal is refused, never overwritten. */
export function readJournal(path: string, queue: string): Journal {
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
