import { ConfigurationError } from './errors/configuration-error.js';

/** Where Redis is looked for when `REDIS_URL` is not set. */
export const defaultRedisUrl = 'redis://127.0.0.1:6379';

/**
 * Checks a Redis URL and returns it with its password replaced by `***`, for messages and logs.
 * A bad URL is a ConfigurationError that never echoes the value: it may hold a password.
 */
export function maskRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError('the Redis URL (REDIS_URL) is not a valid URL: use redis://[:password@]host[:port][/db].', { field: 'REDIS_URL' });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigurationError(`the Redis URL (REDIS_URL) must start with redis:// or rediss://, not ${parsed.protocol}//.`, { field: 'REDIS_URL' });
  }
  if (parsed.password) parsed.password = '***';
  return parsed.toString().replace(/\/$/, '');
}
