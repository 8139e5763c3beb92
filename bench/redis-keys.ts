// Benches (and tests) on Redis write under a prefix of their own and remove it afterwards.

/** Deletes every key under `prefix` in the Redis at `url` (default REDIS_URL); nothing to do when Redis is not there. */
export async function deleteKeys(prefix: string, url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // nothing to clean when Redis was not there
  } finally {
    client.disconnect();
  }
}
