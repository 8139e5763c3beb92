// The Redis backend (`troupe/redis`): kept out of `troupe` so that importing it loads neither
// ioredis nor BullMQ. `openStateStore`, `openJobQueue` and `openWorkGraph` load these on their
// own when REDIS_URL chooses Redis; import them here to build a store or queue by hand.
export { RedisStore, type RedisStoreOptions } from './store/redis-store.js';
export { BullMqQueue, type BullMqQueueOptions, type StalledJobSettings } from './queue/bullmq-queue.js';
export { checkRedis, watchRedis, type RedisWatchOptions } from './queue/redis-liveness.js';
export { RedisUnreachableError, RedisLostError } from './queue/queue-errors.js';
