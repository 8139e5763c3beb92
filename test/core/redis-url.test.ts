import { describe, expect, it } from 'vitest';
import { ConfigurationError } from 'troupe';
import { maskRedisUrl } from '../../src/core/redis-url.js';

describe('maskRedisUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(maskRedisUrl('redis://user:s3cret@redis.internal:6380/2')).toBe('redis://user:***@redis.internal:6380/2');
    expect(maskRedisUrl('rediss://:pw@example.com:6380/1')).toBe('rediss://:***@example.com:6380/1');
    expect(maskRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('refuses what is not a Redis URL without echoing it', () => {
    expect(() => maskRedisUrl('not a url :s3cret')).toThrow(ConfigurationError);
    expect(() => maskRedisUrl('not a url :s3cret')).not.toThrow(/s3cret/);
    expect(() => maskRedisUrl('http://127.0.0.1:6379')).toThrow(/field "REDIS_URL": the Redis URL \(REDIS_URL\) must start with redis:\/\/ or rediss:\/\//);
  });
});
