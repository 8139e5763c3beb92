import { TroupeError, type TroupeErrorOptions } from '../../core/errors/troupe-error.js';

/**
 * One stored record cannot be read: its JSON is damaged, or its value does not have the shape of
 * the record it should be (edited or damaged outside Troupe). It names the collection, the id and
 * where it lives (a file of the file store, a key of Redis), so the damage is reported where it is
 * and never turns into a silent loss: listings skip it and report it, readers of that record fail.
 */
export class CorruptRecordError extends TroupeError {
  readonly code = 'corrupt_record';
  readonly fault = 'system' as const;
  readonly collection: string;
  readonly id: string;
  /** The file path (file store) or key (Redis), when known. */
  readonly location: string | undefined;
  /** What is wrong, in words (the field's path, never its value). */
  readonly problem: string;

  constructor(collection: string, id: string, problem: string, location?: string, options: TroupeErrorOptions = {}) {
    super(
      `The ${collection} record "${id}"${location ? ` at ${location}` : ''} is corrupt: ${problem}. Restore it from a backup; deleting it loses what it held.`,
      { ...options, details: { collection, id, ...(location ? { location } : {}), ...options.details } },
    );
    this.collection = collection;
    this.id = id;
    this.location = location;
    this.problem = problem;
  }
}
