import { TroupeError, type TroupeErrorOptions } from './troupe-error.js';

/** Work was cancelled through an AbortSignal by its caller. */
export class AbortedError extends TroupeError {
  readonly code = 'aborted';
  readonly fault = 'user' as const;

  constructor(what = 'The operation', options: TroupeErrorOptions = {}) {
    super(`${what} was aborted by its caller.`, options);
  }

  override get exitCode() {
    return 1 as const;
  }
}
