import { TroupeError, type TroupeErrorOptions } from '../../core/errors/troupe-error.js';

/** Stored data could not be read back: a file was edited or damaged outside Troupe. */
export class StoreCorruptError extends TroupeError {
  readonly code = 'store_corrupt';
  readonly fault = 'system' as const;
  readonly location: string;

  constructor(location: string, problem: string, options: TroupeErrorOptions = {}) {
    super(`Stored data at ${location} cannot be read: ${problem}. Restore it from a backup or delete it.`, {
      ...options,
      details: { location, ...options.details },
    });
    this.location = location;
  }
}
