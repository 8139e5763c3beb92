import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { InProcessQueue, type JobQueue } from '../../src/queue/index.js';
import { FileStore, type StateStore } from '../../src/store/index.js';
import { BullMqQueue, RedisStore } from 'troupe/redis';
import { deleteKeysUnder, redisUrl } from '../support/redis.js';
import { uniqueName } from '../queue/job-queue-contract.js';

export * from './tracking-model.js';

/** A store and a queue for one test, and how to remove what they left. */
export interface WorkSetup {
  store: StateStore;
  queue: JobQueue;
  cleanup(): Promise<void>;
}

export type OpenSetup = () => WorkSetup;

export const embeddedSetup: OpenSetup = () => {
  const root = mkdtempSync(join(tmpdir(), 'troupe-work-'));
  const store = new FileStore({ root: join(root, 'state') });
  const queue = new InProcessQueue({ name: uniqueName('work') });
  return { store, queue, cleanup: async () => {} };
};

export const queuePrefix = 'troupe-test';

export function redisSetup(): WorkSetup {
  const name = uniqueName('work');
  const prefix = `troupe-test:work:${name}:`;
  const store = new RedisStore({ url: redisUrl, prefix });
  const queue = new BullMqQueue({ name, url: redisUrl, prefix: queuePrefix });
  return { store, queue, cleanup: () => cleanupRedis(name, prefix) };
}

export async function cleanupRedis(queueName: string, storePrefix: string, bullPrefix = queuePrefix): Promise<void> {
  const queue = new Queue(queueName, { connection: { url: redisUrl }, prefix: bullPrefix });
  queue.on('error', () => {});
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
  await deleteKeysUnder(storePrefix);
}
