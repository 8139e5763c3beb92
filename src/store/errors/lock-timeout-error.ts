import { TroupeError, type TroupeErrorOptions } from '../../core/errors/troupe-error.js';

/** Who holds a file lock, as written in the lock file. */
export interface LockOwner {
  pid: number;
  host: string;
  /** Milliseconds since the epoch when the lock was taken. */
  acquiredAt: number;
}

/**
 * A file lock of the file store stayed held by another process for longer than the store waits.
 * Locks are held for milliseconds, so this means a process is stuck while holding one (a dead
 * process's lock is taken over at once, a live one's after the stale-lock age).
 */
export class LockTimeoutError extends TroupeError {
  readonly code = 'store_lock_timeout';
  readonly fault = 'system' as const;
  override readonly retryable = true;
  readonly lockPath: string;
  readonly waitedMs: number;
  readonly owner: LockOwner | undefined;

  constructor(lockPath: string, waitedMs: number, owner: LockOwner | undefined, options: TroupeErrorOptions = {}) {
    const held = owner ? `held by pid ${owner.pid} on ${owner.host} since ${new Date(owner.acquiredAt).toISOString()}` : 'held by an unknown owner';
    super(
      `Timed out after ${waitedMs} ms waiting for the lock ${lockPath} (${held}). If that process is stuck, stop it; a lock older than the stale-lock age is taken over.`,
      {
        ...options,
        details: { lockPath, waitedMs, owner, ...options.details },
      },
    );
    this.lockPath = lockPath;
    this.waitedMs = waitedMs;
    this.owner = owner;
  }
}
