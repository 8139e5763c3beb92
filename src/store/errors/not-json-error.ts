import { TroupeError, type TroupeErrorOptions } from '../../core/errors/troupe-error.js';

/** A value given to the store is not JSON, so it could not be read back as it was written. */
export class NotJsonError extends TroupeError {
  readonly code = 'store_value_not_json';
  readonly fault = 'user' as const;
  /** Where in the value the problem is, as `$.a.b[2]`. */
  readonly path: string;

  constructor(what: string, path: string, problem: string, options: TroupeErrorOptions = {}) {
    super(`${what} is not JSON: at ${path}, ${problem}. Store only plain objects, arrays, strings, finite numbers, booleans and null.`, {
      ...options,
      details: { path, ...options.details },
    });
    this.path = path;
  }
}
