// The review and run records under contention and damage: many people deciding one review at once,
// a damaged document among good ones, an item whose document went missing, two prefixes on one
// Redis, and a process that lost its run to another. On the file store and on Redis.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  codeTask,
  CorruptRecordError,
  decideReview,
  defineWorkflow,
  getReview,
  humanTask,
  listReviews,
  openStateStore,
  ReviewAlreadyDecidedError,
  RunLeaseHeldError,
  RunLeaseLostError,
  type ReviewRequest,
  type StateStore,
} from 'troupe';
import { FileStore } from 'troupe/store';
import { RedisStore } from 'troupe/redis';
import { redisUrl, useRedis } from '../support/redis.js';
import { listRuns } from '../../src/workflow/run-state.js';

let redis = false;
const opened: StateStore[] = [];
const prefixes: string[] = [];
beforeAll(async () => {
  redis = await useRedis();
});
afterAll(async () => {
  for (const store of opened) await store.close();
  if (!redis) return;
  const client = new Redis(redisUrl);
  for (const prefix of prefixes) {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length) await client.del(...keys);
  }
  client.disconnect();
});

type Kind = 'file' | 'redis';

/** Two stores on the same state (two "processes"). */
function stores(kind: Kind): [StateStore, StateStore] {
  if (kind === 'file') {
    const root = mkdtempSync(join(tmpdir(), 'troupe-records-'));
    const pair: [StateStore, StateStore] = [new FileStore({ root }), new FileStore({ root })];
    return pair;
  }
  const prefix = `test-records-${Math.random().toString(36).slice(2)}:`;
  prefixes.push(prefix);
  const pair: [StateStore, StateStore] = [new RedisStore({ url: redisUrl, prefix }), new RedisStore({ url: redisUrl, prefix })];
  opened.push(...pair);
  return pair;
}

const amount = z.object({ amount: z.number() });
/** prep → approve (a person) → pay; `paid` collects pay's idempotency keys. */
function payflow(paid: string[] = []) {
  return defineWorkflow({
    name: 'payflow',
    input: amount,
    tasks: [
      codeTask({ name: 'prep', input: amount, output: amount, run: (input) => input }),
      humanTask({ name: 'approve', input: amount, output: amount, question: ({ amount }) => `Pay ${amount} USD?` }),
      codeTask({
        name: 'pay',
        sideEffects: 'external',
        input: amount,
        output: z.string(),
        run: ({ amount }, context) => (paid.push(context.idempotencyKey), `paid ${amount}`),
      }),
    ],
  });
}

async function pendingReviews(store: StateStore, items = ['inv-1', 'inv-2']): Promise<ReviewRequest[]> {
  const summary = await payflow().run(
    items.map((id, index) => ({ id, input: { amount: 100 * (index + 1) } })),
    { store },
  );
  expect(summary.status).toBe('awaiting-review');
  return listReviews(store, { status: 'pending' });
}

function skipWithoutRedis(kind: Kind, context: { skip: () => void }): boolean {
  if (kind === 'redis' && !redis) {
    context.skip();
    return true;
  }
  return false;
}

describe.each(['file', 'redis'] as const)('reviews and run records (%s store)', (kind) => {
  it('many people deciding one review at once: one wins, every other is told who decided', async (context) => {
    if (skipWithoutRedis(kind, context)) return;
    const [one, two] = stores(kind);
    const [review] = await pendingReviews(one, ['inv-1']);
    const deciders = Array.from({ length: 24 }, (_, index) =>
      decideReview(index % 2 ? one : two, review!.id, { approved: index % 3 !== 0, by: `person-${index}` }),
    );
    const results = await Promise.allSettled(deciders);

    const won = results.filter((result) => result.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const winner = (won[0] as PromiseFulfilledResult<ReviewRequest>).value.decision!.by;
    for (const result of results.filter((result) => result.status === 'rejected')) {
      const error = (result as PromiseRejectedResult).reason as Error;
      expect(error).toBeInstanceOf(ReviewAlreadyDecidedError);
      expect(error).toMatchObject({ code: 'review_already_decided', exitCode: 2 });
      expect(error.message).toContain(`by ${winner}; a decision is final`);
    }
  });

  it('a damaged review is reported with where it is, and does not hide the others', async (context) => {
    if (skipWithoutRedis(kind, context)) return;
    const [store] = stores(kind);
    const reviews = await pendingReviews(store);
    const [broken, fine] = reviews as [ReviewRequest, ReviewRequest];
    await damage(kind, store, 'reviews', broken.id);

    const corrupt: CorruptRecordError[] = [];
    expect((await listReviews(store, {}, corrupt)).map((review) => review.id)).toEqual([fine.id]);
    expect(corrupt).toHaveLength(1);
    expect(corrupt[0]).toMatchObject({ code: 'corrupt_record', collection: 'reviews', id: broken.id, location: store.where('reviews', broken.id) });
    // Without a place to put them, a listing names the damage instead of dropping it.
    await expect(listReviews(store)).rejects.toBeInstanceOf(CorruptRecordError);
    // Reading or deciding the damaged review says it is damaged and where, never "no review".
    for (const attempt of [() => getReview(store, broken.id), () => decideReview(store, broken.id, { approved: true })]) {
      const error = await attempt().then(
        () => undefined,
        (problem: unknown) => problem as CorruptRecordError,
      );
      expect(error).toBeInstanceOf(CorruptRecordError);
      expect(error!.message).toContain(`The reviews record "${broken.id}" at ${store.where('reviews', broken.id)} is corrupt`);
    }
    expect((await getReview(store, fine.id)).id).toBe(fine.id);
  });

  it('a damaged run record does not hide the other runs', async (context) => {
    if (skipWithoutRedis(kind, context)) return;
    const [store] = stores(kind);
    await pendingReviews(store, ['x']);
    const good = await payflow().run([{ id: 'y', input: { amount: 1 } }], { store });
    const broken = (await listRuns(store)).find((run) => run.id !== good.runId)!;
    await damage(kind, store, 'runs', broken.id, 'shape');
    const corrupt: CorruptRecordError[] = [];
    expect((await listRuns(store, corrupt)).map((run) => run.id)).toEqual([good.runId]);
    expect(corrupt.map((error) => error.id)).toEqual([broken.id]);
  });

  it('an item whose document is missing or damaged fails the run, named; the run never ends "done" without it', async (context) => {
    if (skipWithoutRedis(kind, context)) return;
    const [store] = stores(kind);
    const paid: string[] = [];
    const reviews = await pendingReviews(store, ['inv-1', 'inv-2', 'inv-3']);
    const runId = reviews[0]!.runId;
    for (const review of reviews) await decideReview(store, review.id, { approved: true, by: 'alice' });
    await store.delete('items', `${runId}.inv-1`);
    await damage(kind, store, 'items', `${runId}.inv-2`, 'shape');

    const summary = await payflow(paid).resume(runId, { store });
    expect(summary.status).toBe('failed');
    expect(summary.counts).toEqual({ accepted: 1, failed: 2 });
    expect(summary.items.find((item) => item.id === 'inv-1')).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('the document of item "inv-1" is missing from the store'),
    });
    expect(summary.items.find((item) => item.id === 'inv-2')).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining(`at ${store.where('items', `${runId}.inv-2`)} is corrupt`),
    });
    expect(paid).toEqual([`${runId}.inv-3.pay`]);
    expect((await listRuns(store)).find((run) => run.id === runId)!.status).toBe('failed');
  });

  it('only one process continues a run: a second resume is refused naming the holder, or waits for it', async (context) => {
    if (skipWithoutRedis(kind, context)) return;
    const [one, two] = stores(kind);
    const paid: string[] = [];
    const [review] = await pendingReviews(one, ['inv-1']);
    const stop = new AbortController();
    // The first process waits in the run for the decision, holding it.
    const waiting = payflow(paid).resume(review!.runId, { store: one, waitForReviews: { pollMs: 20 }, signal: stop.signal });
    await until(
      async () => (await two.get('leases', review!.runId))?.value && !((await two.get('leases', review!.runId))!.value as { released?: boolean }).released,
    );

    const refused = await payflow(paid)
      .resume(review!.runId, { store: two })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(RunLeaseHeldError);
    expect((refused as RunLeaseHeldError).exitCode).toBe(2);
    expect((refused as Error).message).toMatch(new RegExp(`run "${review!.runId}" is being continued by \\S+ \\(pid ${process.pid} on `));

    let told = 0;
    const patient = payflow(paid).resume(review!.runId, { store: two, waitForLease: { pollMs: 20, onWait: () => told++ } });
    await decideReview(two, review!.id, { approved: true, by: 'alice' });
    expect((await waiting).status).toBe('done');
    expect((await patient).status).toBe('done');
    expect(told).toBeGreaterThan(0);
    expect(paid).toEqual([`${review!.runId}.inv-1.pay`]);
    stop.abort();
  });

  it('a process that lost its run stops: its item writes are fenced off and it runs no step', async (context) => {
    if (skipWithoutRedis(kind, context)) return;
    const [one, two] = stores(kind);
    const paid: string[] = [];
    const [review] = await pendingReviews(one, ['inv-1']);
    const runId = review!.runId;
    const stale = payflow(paid).resume(runId, { store: one, waitForReviews: { pollMs: 20 } });
    await until(
      async () => !((await two.get('leases', runId))?.value as { released?: boolean } | undefined)?.released && (await two.get('leases', runId)) !== undefined,
    );

    // Another process takes the run over (as after the stale holder's lease expired) and writes its item.
    const lease = (await two.get('leases', runId))!;
    await two.put(
      'leases',
      runId,
      {
        ...(lease.value as object),
        holder: 'elsewhere/1/x',
        host: 'elsewhere',
        pid: 1,
        token: (lease.value as { token: number }).token + 1,
        expiresAt: Date.now() + 60_000,
      },
      { expectedVersion: lease.version },
    );
    const item = (await two.get('items', `${runId}.inv-1`))!;
    await two.put('items', `${runId}.inv-1`, item.value, { expectedVersion: item.version });
    await decideReview(two, review!.id, { approved: true, by: 'alice' });

    const error = await stale.then(
      () => undefined,
      (problem: unknown) => problem,
    );
    expect(error).toBeInstanceOf(RunLeaseLostError);
    expect(error).toMatchObject({ code: 'run_lease_lost' });
    expect(paid).toEqual([]);
    expect(((await two.get('items', `${runId}.inv-1`))!.value as { state: string }).state).toBe('awaiting-review');
  });
});

describe('TROUPE_REDIS_PREFIX', () => {
  it('keeps the runs and reviews of two prefixes on one Redis apart', async (context) => {
    if (!redis) return context.skip();
    const names = [`test-prefix-a-${Math.random().toString(36).slice(2)}`, `test-prefix-b-${Math.random().toString(36).slice(2)}`];
    prefixes.push(...names.map((name) => `${name}:`));
    const [a, b] = (await Promise.all(names.map((name) => openStateStore({ env: { REDIS_URL: redisUrl, TROUPE_REDIS_PREFIX: name } })))) as [
      StateStore,
      StateStore,
    ];
    opened.push(a, b);
    const [review] = await pendingReviews(a, ['inv-1']);
    expect((await listRuns(a)).map((run) => run.id)).toEqual([review!.runId]);
    expect(await listRuns(b)).toEqual([]);
    expect(await listReviews(b)).toEqual([]);
    const client = new Redis(redisUrl);
    try {
      expect(await client.exists(`${names[0]}:doc:runs:${review!.runId}`)).toBe(1);
      expect(await client.exists(`troupe:doc:runs:${review!.runId}`)).toBe(0);
    } finally {
      client.disconnect();
    }
  });
});

/**
 * Damages a stored document: invalid JSON (in its file, or in its Redis hash), or a value that
 * is JSON but not the shape of its record.
 */
async function damage(kind: Kind, store: StateStore, collection: string, id: string, how: 'json' | 'shape' = 'json'): Promise<void> {
  if (how === 'shape') return void (await store.put(collection, id, { id, surprise: true }));
  if (kind === 'file') return writeFileSync(store.where(collection, id), '{"format":1,"version":1,"value":{"id":');
  const client = new Redis(redisUrl);
  try {
    await client.hset(`${(store as RedisStore).prefix}doc:${collection}:${id}`, 'value', '{"id":');
  } finally {
    client.disconnect();
  }
}

async function until(probe: () => Promise<unknown>, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await probe())) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
