import { Redis } from 'ioredis';

export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** CI sets TROUPE_REQUIRE_REDIS=1: there a missing Redis is a failure, never a skip. */
export const redisRequired = process.env.TROUPE_REQUIRE_REDIS === '1';

/** Whether a Redis server answers PING at REDIS_URL (or 127.0.0.1:6379) within a second. */
export function redisAnswers(): Promise<boolean> {
  return redisAnswersAt(redisUrl);
}

/** Whether a Redis server answers PING at `url` within a second. */
export async function redisAnswersAt(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Decides, once per test file, whether the Redis-backed tests run. Outside CI they are skipped
 * with a notice when no Redis answers; under TROUPE_REQUIRE_REDIS=1 the absence throws.
 */
export async function useRedis(): Promise<boolean> {
  if (await redisAnswers()) return true;
  if (redisRequired) throw new Error(`TROUPE_REQUIRE_REDIS=1 but no Redis answers at ${redisUrl}.`);
  console.warn(`Redis does not answer at ${redisUrl}: skipping Redis-backed tests (set TROUPE_REQUIRE_REDIS=1 to fail instead).`);
  return false;
}

/** Deletes every key under a test's own prefix: the benches' helper, with the Redis URL to use. */
export { deleteKeys as deleteKeysUnder } from '../../bench/redis-keys.js';
