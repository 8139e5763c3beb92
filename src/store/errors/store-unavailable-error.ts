import { TroupeError, type TroupeErrorOptions } from '../../core/errors/troupe-error.js';

/** The store's backing service cannot be reached. `target` is safe to show: passwords are masked. */
export class StoreUnavailableError extends TroupeError {
  readonly code = 'store_unavailable';
  readonly fault = 'system' as const;
  override readonly retryable = true;
  readonly target: string;

  constructor(target: string, problem: string, options: TroupeErrorOptions = {}) {
    super(
      `The state store at ${target} is unavailable: ${problem.replace(/\.+$/, '')}. Check that it is running and reachable, or unset REDIS_URL to use the local file store.`,
      {
        ...options,
        details: { target, ...options.details },
      },
    );
    this.target = target;
  }
}
