import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors/configuration-error.js';
import { StoreUnavailableError } from '../../src/store/index.js';
import { RedisStore } from 'troupe/redis';
import { deleteKeysUnder, redisUrl, useRedis } from '../support/redis.js';
import { stateStoreContract } from './state-store-contract.js';

// Every test gets its own key prefix under this one, deleted afterwards.
const filePrefix = `troupe-test:store:${process.pid}:${Date.now()}:`;
let opened = 0;

describe('RedisStore', async () => {
  const available = await useRedis();
  const admin = available ? new Redis(redisUrl) : undefined;
  const scriptCalls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await admin!.info('commandstats'))?.[1] ?? 0);
  afterAll(async () => {
    if (!admin) return;
    await deleteKeysUnder(filePrefix);
    admin.disconnect();
  });

  stateStoreContract(
    'RedisStore',
    async () => {
      const prefix = `${filePrefix}${++opened}:`;
      return {
        store: new RedisStore({ url: redisUrl, prefix }),
        sibling: () => new RedisStore({ url: redisUrl, prefix }),
        cleanup: () => deleteKeysUnder(prefix),
      };
    },
    available,
  );

  it.runIf(available)('keeps every key under its prefix, in the documented layout', async () => {
    const prefix = `${filePrefix}layout:`;
    const store = new RedisStore({ url: redisUrl, prefix });
    try {
      await store.put('runs', 'run_1', { ok: true });
      await store.append('log', 1);
      expect((await admin!.keys(`${prefix}*`)).sort()).toEqual([`${prefix}doc:runs:run_1`, `${prefix}ids:runs`, `${prefix}stream:log`]);
      expect(await admin!.hgetall(`${prefix}doc:runs:run_1`)).toEqual({ value: '{"ok":true}', version: '1' });
    } finally {
      await store.close();
    }
  });

  it.runIf(available)('holds no more than the kept entries, keys and unexpired ids: what retention frees is freed in Redis', async () => {
    const prefix = `${filePrefix}retention:`;
    const store = new RedisStore({ url: redisUrl, prefix });
    try {
      for (let n = 1; n <= 40; n++) await store.append('events', { n }, { key: `k${n}`, keepLast: 5 });
      expect(await admin!.llen(`${prefix}stream:events`)).toBe(5);
      expect(await admin!.zrange(`${prefix}streamkeys:events`, 0, -1)).toEqual(['k36', 'k37', 'k38', 'k39', 'k40']);
      expect(await admin!.get(`${prefix}streamtrim:events`)).toBe('35');
      for (let n = 1; n <= 5; n++) await store.put('outcomes', `old-${n}`, { n }, { ttlMs: 100 });
      await store.put('outcomes', 'permanent', { n: 0 });
      expect(await admin!.pttl(`${prefix}doc:outcomes:old-1`)).toBeGreaterThan(0);
      expect(await admin!.pttl(`${prefix}doc:outcomes:permanent`)).toBe(-1);
      const deadline = Date.now() + 20_000;
      while ((await admin!.exists(`${prefix}doc:outcomes:old-5`)) === 1) {
        if (Date.now() > deadline) throw new Error('the documents did not expire');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      // The next write with a TTL drops the expired ids from the indexes.
      await store.put('outcomes', 'new', { n: 6 }, { ttlMs: 60_000 });
      expect((await admin!.zrange(`${prefix}ids:outcomes`, 0, -1)).sort()).toEqual(['new', 'permanent']);
      expect(await admin!.zrange(`${prefix}exp:outcomes`, 0, -1)).toEqual(['new']);
    } finally {
      await store.close();
    }
  });

  it.runIf(available)('sends the batches issued in the same tick in one script call, and a refused command fails only its own batch', async () => {
    const prefix = `${filePrefix}group:`;
    const store = new RedisStore({ url: redisUrl, prefix });
    try {
      await store.put('docs', 'warm', 1);
      const before = await scriptCalls();
      const batches = Array.from({ length: 20 }, (_, n) =>
        store.batch([
          { kind: 'append', stream: 'events', entry: { n } },
          { kind: 'put', collection: 'outcomes', id: `n${n}`, value: { n }, options: { expectedVersion: 0, ttlMs: 60_000 } },
        ]),
      );
      expect(await Promise.all(batches)).toEqual(Array.from({ length: 20 }, (_, n) => [n + 1, 1]));
      // One call for all 20 (other clients of a shared Redis may add their own calls, never fewer).
      expect((await scriptCalls()) - before).toBeLessThan(20);
      // A key of the wrong type makes Redis refuse a command of one batch: that batch fails, the others are written.
      await admin!.set(`${prefix}stream:broken`, 'not a list');
      const mixed = await Promise.allSettled([
        store.batch([{ kind: 'put', collection: 'docs', id: 'a', value: 'a' }]),
        store.batch([{ kind: 'append', stream: 'broken', entry: 1 }]),
        store.batch([{ kind: 'put', collection: 'docs', id: 'b', value: 'b' }]),
      ]);
      expect(mixed.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((mixed[1] as PromiseRejectedResult).reason.message).toMatch(/WRONGTYPE/);
      expect((await store.get('docs', 'b'))?.value).toBe('b');
    } finally {
      await store.close();
    }
  });

  it.runIf(available)('reads the documents asked for in the same tick with one script call, each read settled on its own', async () => {
    const prefix = `${filePrefix}reads:`;
    const store = new RedisStore({ url: redisUrl, prefix });
    try {
      for (let n = 0; n < 10; n++) await store.put('docs', `d${n}`, { n });
      await admin!.hset(`${prefix}doc:docs:broken`, 'value', '{not json', 'version', '1');
      const before = await scriptCalls();
      const reads = await Promise.allSettled([
        ...Array.from({ length: 10 }, (_, n) => store.get('docs', `d${n}`)),
        store.get('docs', 'missing'),
        store.get('docs', 'broken'),
      ]);
      expect((await scriptCalls()) - before).toBeLessThan(12);
      expect(reads.slice(0, 10).map((read) => (read.status === 'fulfilled' ? read.value : read.reason))).toEqual(
        Array.from({ length: 10 }, (_, n) => ({ id: `d${n}`, version: 1, value: { n } })),
      );
      expect(reads[10]).toEqual({ status: 'fulfilled', value: undefined });
      expect(reads[11]).toMatchObject({ status: 'rejected', reason: { name: 'CorruptRecordError' } });
      // Asked for just before close: still answered.
      const last = store.get('docs', 'd1');
      await store.close();
      expect((await last)?.value).toEqual({ n: 1 });
    } finally {
      await store.close();
    }
  });

  it.runIf(available)('uses a connection it is given and leaves it open on close', async () => {
    const connection = new Redis(redisUrl);
    try {
      const store = new RedisStore({ connection, prefix: `${filePrefix}given:` });
      expect((await store.put('runs', 'run_1', 1)).version).toBe(1);
      await store.close();
      expect(await connection.ping()).toBe('PONG');
    } finally {
      connection.disconnect();
    }
  });

  it('fails fast with a typed error naming the URL, with its password masked, when Redis is unreachable', async () => {
    const store = new RedisStore({ url: 'redis://:s3cret-pass@127.0.0.1:1/0', connectTimeoutMs: 500 });
    const started = Date.now();
    const error = await store.get('runs', 'run_1').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ code: 'store_unavailable', target: 'redis://:***@127.0.0.1:1/0' });
    expect((error as Error).message).toContain('redis://:***@127.0.0.1:1/0');
    expect(JSON.stringify((error as StoreUnavailableError).toJSON())).not.toContain('s3cret');
    expect((error as Error).message).not.toContain('s3cret');
    // A second call tries again and fails the same way, rather than hanging.
    await expect(store.append('log', 1)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(3000);
    await store.close();
  });

  it('refuses a malformed Redis URL without echoing it', () => {
    expect(() => new RedisStore({ url: 'not a url :s3cret' })).toThrow(ConfigurationError);
    expect(() => new RedisStore({ url: 'not a url :s3cret' })).not.toThrow(/s3cret/);
    expect(() => new RedisStore({ url: 'http://127.0.0.1:6379' })).toThrow(/must start with redis:\/\/ or rediss:\/\//);
  });
});
