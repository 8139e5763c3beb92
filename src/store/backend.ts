import { join } from 'node:path';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { defaultRedisUrl, maskRedisUrl } from '../core/redis-url.js';
import type { Environment } from '../observe/redact-secrets.js';

/** State under `${home}/state`, queue journals under `${home}/queues`: one machine, no services. */
export interface EmbeddedBackend {
  kind: 'embedded';
  home: string;
}

/** State and queues on one Redis, shared by every process that reaches it. */
export interface RedisBackend {
  kind: 'redis';
  /** As given, password included: never print it (`maskRedisUrl`). */
  url: string;
  /**
   * Every key of this setup starts with `<prefix>:` (records and queues alike), so that separate
   * setups on one Redis never meet. Unset: the records' own `troupe:` and BullMQ's `bull:`.
   */
  prefix?: string;
}

export type Backend = EmbeddedBackend | RedisBackend;

/** Where the embedded backend keeps its files when `TROUPE_HOME` is not set. */
export const defaultTroupeHome = '.troupe';

// A prefix becomes the first part of every Redis key and BullMQ's prefix: the store's name
// characters, so that it never holds the `:` that separates the parts of a key.
const prefixPattern = /^[A-Za-z0-9_.@+=-]{1,100}$/;

/**
 * The one reader of `REDIS_URL`, `TROUPE_HOME` and `TROUPE_REDIS_PREFIX`: with `REDIS_URL` set,
 * Redis there (keys under `TROUPE_REDIS_PREFIX` when set); otherwise the embedded backend under
 * `TROUPE_HOME` (default `.troupe`). Empty values count as unset. A bad value is a
 * `ConfigurationError` naming its variable; a bad URL's text is never repeated (it may hold a
 * password).
 */
export function resolveBackend(env: Environment = process.env): Backend {
  const home = resolveHome(env);
  const prefix = env['TROUPE_REDIS_PREFIX']?.trim();
  if (prefix) checkRedisPrefix(prefix, 'TROUPE_REDIS_PREFIX');
  const url = env['REDIS_URL']?.trim();
  if (!url) return { kind: 'embedded', home };
  maskRedisUrl(url);
  return { kind: 'redis', url, ...(prefix ? { prefix } : {}) };
}

/** `TROUPE_HOME`, else `.troupe`: where embedded state lives, whichever backend is chosen. */
export function resolveHome(env: Environment = process.env): string {
  const home = env['TROUPE_HOME']?.trim();
  if (!home) return defaultTroupeHome;
  if (home.includes('\0')) throw new ConfigurationError('TROUPE_HOME must be a directory path; it holds a NUL character.', { field: 'TROUPE_HOME' });
  return home;
}

/** Where the embedded store lives under a home: the SQLite database, and the file store earlier versions wrote. */
export function embeddedStorePaths(home: string = resolveHome()): { database: string; fileStore: string } {
  return { database: join(home, 'state.db'), fileStore: join(home, 'state') };
}

/** The Redis URL the environment names, else the local default: for Redis classes built without a `url`. */
export function redisUrlFromEnv(env: Environment = process.env): string {
  const backend = resolveBackend(env);
  return backend.kind === 'redis' ? backend.url : defaultRedisUrl;
}

/** Throws `ConfigurationError` naming `field` unless `prefix` can start every Redis key. */
export function checkRedisPrefix(prefix: string, field: string): string {
  if (!prefixPattern.test(prefix))
    throw new ConfigurationError(
      `${JSON.stringify(prefix)} is not a valid Redis key prefix: use 1–100 characters of A-Z a-z 0-9 _ . - @ + = (no ":", which separates the parts of a key).`,
      { field },
    );
  return prefix;
}
