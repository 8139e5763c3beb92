import { describe } from 'vitest';
import { useRedis } from '../support/redis.js';
import { embeddedSetup, redisSetup } from './support.js';
import { workGraphContract } from './work-graph-contract.js';

const redis = await useRedis();

describe('WorkGraph', () => {
  workGraphContract('embedded (FileStore, InProcessQueue)', embeddedSetup);
  workGraphContract('Redis (RedisStore, BullMQ)', redisSetup, redis);
});
