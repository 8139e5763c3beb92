import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { TroupeError, type TroupeErrorOptions } from '../core/errors/troupe-error.js';
import type { Clock } from '../core/ids.js';
import { z } from 'zod';
import { VersionConflictError } from '../store/errors/version-conflict-error.js';
import { defineRecord } from '../store/record-schema.js';
import type { StateStore } from '../store/state-store.js';

export const leaseCollection = 'leases';

/** This host's name, read once: a worker takes a lease for every step. */
const thisHost = hostname();

/** The lease document of a run: who continues it, until when, and a token that grows with every new holder. */
export interface LeaseRecord {
  holder: string;
  host: string;
  pid: number;
  /** Fencing token: +1 each time another holder takes the lease. */
  token: number;
  acquiredAt: number;
  expiresAt: number;
  released?: boolean;
}

/** Leases carried no version field before it was written on every record: those read as version 1. */
export const leaseRecords = defineRecord<LeaseRecord>({
  kind: 'lease',
  version: 1,
  unversioned: 1,
  schema: z.looseObject({
    holder: z.string(),
    host: z.string(),
    pid: z.number(),
    token: z.number(),
    acquiredAt: z.number(),
    expiresAt: z.number(),
    released: z.boolean().optional(),
  }),
});

/** Another process continues this run (runs it, resumes it, or waits in it for reviews). */
export class RunLeaseHeldError extends TroupeError {
  readonly code = 'run_lease_held';
  readonly fault = 'user' as const;
  readonly runId: string;
  readonly holder: string;
  readonly expiresAt: number;

  constructor(runId: string, lease: LeaseRecord, options: TroupeErrorOptions = {}) {
    super(
      `run "${runId}" is being continued by ${lease.holder} (pid ${lease.pid} on ${lease.host}; its lease runs until ${new Date(lease.expiresAt).toISOString()} and is renewed while it works). Only one process continues a run: let it finish, or wait for it (troupe run --resume ${runId} --wait).`,
      {
        ...options,
        details: { runId, holder: lease.holder, expiresAt: lease.expiresAt, ...options.details },
      },
    );
    this.runId = runId;
    this.holder = lease.holder;
    this.expiresAt = lease.expiresAt;
  }
}

/**
 * This process no longer holds the lease of the run it was continuing (it expired while the
 * process stalled and another took over, or another process wrote the run's state): it stops
 * without writing anything more, so the new holder's work is never overwritten or repeated.
 */
export class RunLeaseLostError extends TroupeError {
  readonly code = 'run_lease_lost';
  readonly fault = 'system' as const;

  constructor(runId: string, problem: string, options: TroupeErrorOptions = {}) {
    super(`this process lost the lease of run "${runId}": ${problem}. It stopped; the process that holds the lease now continues the run.`, {
      ...options,
      details: { runId, ...options.details },
    });
  }
}

export interface RunLeaseOptions {
  /** How long the lease lasts without renewal. Default 30 s; it is renewed every third of that. */
  ttlMs?: number;
  clock: Clock;
  /** The lease document's id: the run id (the whole run), or an item's key when workers continue a run's items one by one. */
  key?: string;
}

export interface AcquireOptions {
  /** Wait for a held lease instead of failing with `RunLeaseHeldError`. */
  wait?: { pollMs?: number; onWait?: (error: RunLeaseHeldError) => void };
  signal?: AbortSignal;
}

/**
 * Who may continue a run. Taking it is a compare-and-set on the lease document, so of two
 * processes exactly one wins; it lasts `ttlMs` and is renewed while the holder works, so a holder
 * that dies frees the run after that time (at once when the dead holder ran on this host). Losing
 * it (a failed renewal) aborts `signal`, so the holder stops; item writes are compare-and-set too,
 * so a stale holder's write fails instead of overwriting the new holder's state.
 */
export class RunLease {
  // randomUUID draws from a cached pool of random bytes; its first 8 hex digits are random. A worker takes a lease per step.
  readonly holder = `${thisHost}/${process.pid}/${randomUUID().slice(0, 8)}`;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #key: string;
  readonly #lost = new AbortController();
  /** The lease as this holder last wrote it, with its store version (for compare-and-set). */
  #doc: { value: LeaseRecord; version: number } | undefined;
  /** Until when this holder may act: the expiry of its last write of the lease, timed from before that write. */
  #validUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;

  constructor(
    readonly store: StateStore,
    readonly runId: string,
    options: RunLeaseOptions,
  ) {
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#clock = options.clock;
    this.#key = options.key ?? runId;
  }

  /** Aborted when the lease is lost; its reason is the `RunLeaseLostError`. */
  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  get token(): number {
    return this.#doc?.value.token ?? 0;
  }

  async acquire(options: AcquireOptions = {}): Promise<void> {
    for (;;) {
      try {
        await this.#tryAcquire();
        this.#timer = setInterval(() => void this.#renewInBackground(), Math.max(50, Math.floor(this.#ttlMs / 3)));
        this.#timer.unref();
        return;
      } catch (error) {
        if (!(error instanceof RunLeaseHeldError) || !options.wait || options.signal?.aborted) throw error;
        options.wait.onWait?.(error);
        await sleep(options.wait.pollMs ?? 1000, options.signal);
      }
    }
  }

  /** Throws `RunLeaseLostError` once the lease is lost: call before every write of the run's state. */
  check(): void {
    if (this.#lost.signal.aborted) throw this.#lost.signal.reason as Error;
  }

  /** Extends the lease; a lost lease aborts `signal` and throws. */
  async renew(): Promise<void> {
    this.check();
    const doc = this.#doc!;
    const next: LeaseRecord = { ...doc.value, expiresAt: this.#clock.now() + this.#ttlMs };
    try {
      this.#doc = await this.#put(next, doc.version);
      this.#validUntil = next.expiresAt;
    } catch (error) {
      if (error instanceof VersionConflictError) this.lose('another process took the lease over', error);
      throw error;
    }
  }

  /** Marks the lease lost (a write was fenced off, a renewal failed): the holder stops. */
  lose(problem: string, cause?: unknown): never {
    if (!this.#lost.signal.aborted) this.#lost.abort(new RunLeaseLostError(this.runId, problem, cause === undefined ? {} : { cause }));
    this.stopRenewing();
    throw this.#lost.signal.reason as Error;
  }

  stopRenewing(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Frees the run for the next process. The token stays, so the next holder's is higher. */
  async release(): Promise<void> {
    this.stopRenewing();
    await this.#renewing?.catch(() => {});
    if (!this.#doc || this.#lost.signal.aborted) return;
    await this.#put({ ...this.#doc.value, expiresAt: this.#clock.now(), released: true }, this.#doc.version).catch(() => {});
    this.#doc = undefined;
  }

  async #tryAcquire(): Promise<void> {
    const doc = await leaseRecords.get(this.store, leaseCollection, this.#key);
    const current = doc?.value;
    if (current && isHeld(current, this.#clock.now())) throw new RunLeaseHeldError(this.runId, current);
    const now = this.#clock.now();
    const next: LeaseRecord = {
      holder: this.holder,
      host: thisHost,
      pid: process.pid,
      token: (current?.token ?? 0) + 1,
      acquiredAt: now,
      expiresAt: now + this.#ttlMs,
    };
    try {
      this.#doc = await this.#put(next, doc?.version ?? 0);
      this.#validUntil = next.expiresAt;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      // Another process took it between our read and our write: it holds the lease now.
      const winner = (await leaseRecords.get(this.store, leaseCollection, this.#key))?.value;
      throw new RunLeaseHeldError(this.runId, winner ?? next, { cause: error });
    }
  }

  async #put(value: LeaseRecord, expectedVersion: number): Promise<{ value: LeaseRecord; version: number }> {
    return { value, version: await leaseRecords.put(this.store, leaseCollection, this.#key, value, { expectedVersion }) };
  }

  async #renewInBackground(): Promise<void> {
    if (this.#renewing || !this.#doc) return;
    this.#renewing = this.renew()
      .catch((error: unknown) => {
        // A failed renewal that is not a takeover (the store briefly unreachable) is retried at
        // the next tick. Once the lease has run out without one succeeding, another process may
        // take the run over: this holder stops now rather than act alongside it.
        if (this.#lost.signal.aborted || this.#clock.now() < this.#validUntil) return;
        try {
          this.lose(`its lease ran out at ${new Date(this.#validUntil).toISOString()} while it could not renew it (${(error as Error).message})`, error);
        } catch {
          // lose() throws for its callers in the foreground; here the aborted signal says it.
        }
      })
      .finally(() => (this.#renewing = undefined));
  }
}

/**
 * Who continues a run now, by its lease: `held` while a live holder's lease runs, `free` when
 * nobody holds it (never taken, released, run out, or its holder's process is gone), with the
 * last lease when there was one. For `troupe runs show` to tell a run that is being worked on from
 * one whose process died.
 */
export async function runHolder(
  store: StateStore,
  runId: string,
  now = Date.now(),
): Promise<{ state: 'held'; lease: LeaseRecord } | { state: 'free'; lease?: LeaseRecord }> {
  const lease = (await leaseRecords.get(store, leaseCollection, runId))?.value;
  if (!lease) return { state: 'free' };
  return isHeld(lease, now) ? { state: 'held', lease } : { state: 'free', lease };
}

/** Whether a lease still binds others: not released, not run out, and its holder's process is not known to be gone. */
function isHeld(lease: LeaseRecord, now: number): boolean {
  return !lease.released && lease.expiresAt > now && !holderIsDead(lease);
}

/** A holder on this host whose process is gone: its lease is free at once, without waiting for it to expire. */
function holderIsDead(lease: LeaseRecord): boolean {
  if (lease.host !== thisHost || !(lease.pid > 0) || lease.pid === process.pid) return false;
  try {
    process.kill(lease.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // The listener goes when the time is up: a run polling for reviews for hours must not pile them up on its signal.
    const onAbort = () => (clearTimeout(timer), resolve());
    const timer = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
