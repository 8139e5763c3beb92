import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors/configuration-error.js';
import { redisUrlFromEnv, resolveBackend, resolveHome } from '../../src/store/backend.js';

function configurationError(work: () => unknown): ConfigurationError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('resolveBackend', () => {
  it('chooses the embedded backend under TROUPE_HOME (default .troupe) without REDIS_URL', () => {
    expect(resolveBackend({})).toEqual({ kind: 'embedded', home: '.troupe' });
    expect(resolveBackend({ TROUPE_HOME: ' /srv/troupe ', REDIS_URL: '  ' })).toEqual({ kind: 'embedded', home: '/srv/troupe' });
    expect(resolveBackend({ TROUPE_HOME: '' })).toEqual({ kind: 'embedded', home: '.troupe' });
  });

  it('chooses Redis at REDIS_URL, with TROUPE_REDIS_PREFIX when set', () => {
    expect(resolveBackend({ REDIS_URL: ' redis://127.0.0.1:6380/2 ' })).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6380/2' });
    expect(resolveBackend({ REDIS_URL: 'rediss://cache:6379', TROUPE_REDIS_PREFIX: 'staging', TROUPE_HOME: '/unused' })).toEqual({
      kind: 'redis',
      url: 'rediss://cache:6379',
      prefix: 'staging',
    });
    expect(resolveBackend({ REDIS_URL: 'redis://cache', TROUPE_REDIS_PREFIX: ' ' })).toEqual({ kind: 'redis', url: 'redis://cache' });
  });

  it('names the variable of a bad value and never repeats a URL that may hold a password', () => {
    for (const url of ['http://:hunter22@cache:6379', 'not a url hunter22']) {
      const error = configurationError(() => resolveBackend({ REDIS_URL: url }));
      expect(error.where.field).toBe('REDIS_URL');
      expect(error.message).toContain('REDIS_URL');
      expect(error.message).not.toContain('hunter22');
    }
    const prefix = configurationError(() => resolveBackend({ REDIS_URL: 'redis://cache', TROUPE_REDIS_PREFIX: 'team:prod' }));
    expect(prefix.where.field).toBe('TROUPE_REDIS_PREFIX');
    expect(prefix.message).toMatch(/"team:prod" is not a valid Redis key prefix/);
    expect(configurationError(() => resolveBackend({ TROUPE_HOME: 'a\0b' })).where.field).toBe('TROUPE_HOME');
  });

  it('gives the home and the Redis URL to classes built without them', () => {
    expect(resolveHome({ TROUPE_HOME: 'work', REDIS_URL: 'redis://cache' })).toBe('work');
    expect(redisUrlFromEnv({})).toBe('redis://127.0.0.1:6379');
    expect(redisUrlFromEnv({ REDIS_URL: 'redis://:pw@cache:6379' })).toBe('redis://:pw@cache:6379');
  });
});
