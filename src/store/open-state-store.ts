import { join } from 'node:path';
import { FileStore } from './file-store.js';
import { RedisStore } from './redis-store.js';
import type { StateStore } from './state-store.js';

export interface OpenStateStoreOptions {
  /** Where to read REDIS_URL, TROUPE_REDIS_PREFIX and TROUPE_HOME. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * The one place the embedded default is chosen: with `REDIS_URL` set, a `RedisStore` on it, its
 * keys under `${TROUPE_REDIS_PREFIX}:` when that is set (so that runs, reviews and work items of
 * separate setups on one Redis never meet; the stores' own `troupe:` otherwise); otherwise a
 * `FileStore` under `${TROUPE_HOME ?? '.troupe'}/state`. A Redis store connects on first use, so
 * an unreachable Redis surfaces there as `StoreUnavailableError`.
 */
export function openStateStore(options: OpenStateStoreOptions = {}): StateStore {
  const env = options.env ?? process.env;
  const redisUrl = env.REDIS_URL?.trim();
  const prefix = env.TROUPE_REDIS_PREFIX?.trim();
  if (redisUrl) return new RedisStore({ url: redisUrl, ...(prefix ? { prefix: `${prefix}:` } : {}) });
  return new FileStore({ root: join(env.TROUPE_HOME?.trim() || '.troupe', 'state') });
}
