/**
 * Who is at fault when something goes wrong. It decides what the user should do next:
 * fix their input or configuration, look at the model's behaviour, wait for the provider,
 * fix a tool, raise a budget, or review a pending action.
 */
export type Fault = 'user' | 'configuration' | 'model' | 'provider' | 'tool' | 'budget' | 'review' | 'system';

/** Exit codes of the `troupe` command (DESIGN.md): 0 done, 1 the run failed, 2 bad input or configuration, 3 waiting for review. */
export const ExitCode = { done: 0, failed: 1, badInput: 2, awaitingReview: 3 } as const;
/**
 * One of the exit codes above: 0, 1, 2 or 3.
 *
 * @useDeclaredType
 * @inline
 */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface TroupeErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * The one base class of every error Troupe throws on purpose. `code` is stable (safe to switch on
 * and to persist); the message says what went wrong and what to do next. Subclasses add typed
 * fields. Messages never contain secrets: callers pass names of variables, never their values.
 */
export abstract class TroupeError extends Error {
  abstract readonly code: string;
  abstract readonly fault: Fault;
  /** Whether repeating the same operation later may succeed (rate limits, outages, timeouts). */
  readonly retryable: boolean = false;
  readonly details: Record<string, unknown>;

  constructor(message: string, options: TroupeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }

  get exitCode(): ExitCode {
    if (this.fault === 'user' || this.fault === 'configuration') return ExitCode.badInput;
    if (this.fault === 'review') return ExitCode.awaitingReview;
    return ExitCode.failed;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, fault: this.fault, message: this.message, details: this.details };
  }
}

export function isTroupeError(error: unknown): error is TroupeError {
  return error instanceof TroupeError;
}
