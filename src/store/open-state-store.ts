import { existsSync } from 'node:fs';
import type { Environment } from '../observe/redact-secrets.js';
import { type Backend, embeddedStorePaths, resolveBackend } from './backend.js';
import { FileStore } from './file-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { StateStore } from './state-store.js';

export interface OpenStateStoreOptions {
  /** The backend to open; default the one `env` names (`resolveBackend`). */
  backend?: Backend;
  /** Where to read REDIS_URL, TROUPE_REDIS_PREFIX and TROUPE_HOME. Default `process.env`. */
  env?: Environment;
}

/**
 * The one place the embedded default is chosen: on Redis, a `RedisStore` whose keys start with
 * `<prefix>:` when the backend has a prefix (so that runs, reviews, leases, outbox effects and
 * work items of separate setups on one Redis never meet; the store's own `troupe:` otherwise);
 * otherwise a `SqliteStore` in `<home>/state.db` (embeddedStorePaths). A home that still holds
 * only a file store from an earlier Troupe (`<home>/state/`) keeps using it, so nothing written
 * there is hidden, until `troupe store import` copies it into SQLite. The Redis store's module (and ioredis) is loaded
 * only here, only when Redis is chosen. A Redis store connects on first use, so an unreachable
 * Redis surfaces there as `StoreUnavailableError`.
 */
export async function openStateStore(options: OpenStateStoreOptions = {}): Promise<StateStore> {
  const backend = options.backend ?? resolveBackend(options.env);
  if (backend.kind === 'embedded') {
    const paths = embeddedStorePaths(backend.home);
    if (!existsSync(paths.database) && existsSync(paths.fileStore)) return new FileStore({ root: paths.fileStore });
    return new SqliteStore({ path: paths.database });
  }
  const { RedisStore } = await import('./redis-store.js');
  return new RedisStore({ url: backend.url, ...(backend.prefix ? { prefix: `${backend.prefix}:` } : {}) });
}
