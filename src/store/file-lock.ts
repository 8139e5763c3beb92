import { randomBytes } from 'node:crypto';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { LockTimeoutError, type LockOwner } from './errors/lock-timeout-error.js';

export interface FileLockOptions {
  /** Give up with `LockTimeoutError` after waiting this long. */
  timeoutMs: number;
  /** A lock older than this is taken over even when its owner seems alive (pid reuse, another host). */
  staleMs: number;
}

interface LockRecord extends LockOwner {
  token: string;
}

const host = hostname();

/**
 * Holds `lockPath` while `section` runs, against other processes (and other hosts sharing the
 * directory). The lock file is written whole under a temporary name and hard-linked into place:
 * `link` fails when the name exists, atomically, also on NFS, and readers never see a
 * half-written owner. A lock whose owner process is dead (same host) is taken over at once; any
 * lock older than `staleMs` is taken over too, since sections last milliseconds.
 */
export async function withFileLock<R>(lockPath: string, options: FileLockOptions, section: () => Promise<R>): Promise<R> {
  const record = await acquire(lockPath, options);
  try {
    return await section();
  } finally {
    await release(lockPath, record.token);
  }
}

async function acquire(lockPath: string, options: FileLockOptions): Promise<LockRecord> {
  const started = Date.now();
  const record: LockRecord = { pid: process.pid, host, acquiredAt: 0, token: randomBytes(8).toString('hex') };
  const temporary = `${lockPath}.${record.token}.tmp`;
  let wait = 1;
  try {
    for (;;) {
      // Rewritten when it has aged, so a lock taken after a long wait does not start out stale.
      if (Date.now() - record.acquiredAt > 1000) {
        record.acquiredAt = Date.now();
        await writeFile(temporary, JSON.stringify(record));
      }
      try {
        await link(temporary, lockPath);
        return record;
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      const owner = await readOwner(lockPath);
      if (owner === 'gone') continue;
      if (isStale(owner, options.staleMs)) {
        await breakStale(lockPath, owner, options.staleMs);
        continue;
      }
      const waited = Date.now() - started;
      if (waited >= options.timeoutMs) throw new LockTimeoutError(lockPath, waited, owner.pid ? owner : undefined);
      await sleep(wait * (0.5 + Math.random()));
      wait = Math.min(wait * 2, 10);
    }
  } finally {
    await unlink(temporary).catch(() => {});
  }
}

async function release(lockPath: string, token: string): Promise<void> {
  // Only remove our own lock: if it was taken over as stale, the file is someone else's now.
  const owner = await readOwner(lockPath);
  if (owner !== 'gone' && owner.token === token) await unlink(lockPath).catch(ignoreMissing);
}

/**
 * Removes a stale lock, guarded by a second lock so that two waiters who both saw the same stale
 * owner cannot have the slower one remove the lock the faster one took meanwhile: under the
 * guard the owner is read again and removed only if it is still the stale one.
 */
async function breakStale(lockPath: string, stale: LockRecord, staleMs: number): Promise<void> {
  const guard = `${lockPath}.break`;
  try {
    await writeFile(guard, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    // A breaker that died inside this short section leaves the guard behind; it is held for
    // milliseconds, so it is stale sooner than a lock.
    const age = await stat(guard).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    );
    if (age > Math.min(staleMs, 5000)) await unlink(guard).catch(ignoreMissing);
    else await sleep(2);
    return;
  }
  try {
    const current = await readOwner(lockPath);
    if (current !== 'gone' && current.token === stale.token) await unlink(lockPath).catch(ignoreMissing);
  } finally {
    await unlink(guard).catch(ignoreMissing);
  }
}

/** The lock's owner; an unreadable lock file counts as owned by nobody alive, aged by its mtime. */
async function readOwner(lockPath: string): Promise<LockRecord | 'gone'> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, mtimeMs] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath).then((info) => info.mtimeMs)]);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockRecord>;
    if (typeof parsed.pid === 'number' && typeof parsed.token === 'string' && typeof parsed.acquiredAt === 'number' && typeof parsed.host === 'string')
      return parsed as LockRecord;
  } catch {
    // fall through: a lock file written by something else
  }
  return { pid: 0, host: '', acquiredAt: mtimeMs, token: `unreadable:${mtimeMs}` };
}

function isStale(owner: LockRecord, staleMs: number): boolean {
  if (Date.now() - owner.acquiredAt > staleMs) return true;
  return owner.host === host && owner.pid > 0 && !processIsAlive(owner.pid);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return errorCode(error) === 'EPERM';
  }
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
