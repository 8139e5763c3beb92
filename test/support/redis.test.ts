import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisRequired, redisUrl, useRedis } from './redis.js';

// The harness every Redis-backed test uses: under CI (TROUPE_REQUIRE_REDIS=1) it must find Redis.
describe('Redis test harness', async () => {
  const available = await useRedis();

  it('finds Redis when CI requires it', () => {
    if (redisRequired) expect(available).toBe(true);
  });

  it.runIf(available)('round-trips a value through the Redis at REDIS_URL', async () => {
    const client = new Redis(redisUrl);
    try {
      const key = `troupe-test:${process.pid}:${Date.now()}`;
      await client.set(key, 'ok', 'EX', 10);
      expect(await client.get(key)).toBe('ok');
      await client.del(key);
    } finally {
      client.disconnect();
    }
  });
});
