import type { Environment } from '../observe/redact-secrets.js';
import { BullMqQueue, type BullMqQueueOptions } from './bullmq-queue.js';
import { InProcessQueue, type InProcessQueueOptions } from './in-process-queue.js';
import type { JobQueue } from './job-queue.js';

export interface OpenJobQueueOptions {
  name: string;
  /** Where `REDIS_URL` is read (default `process.env`). */
  env?: Environment;
  /** Passed to `InProcessQueue` when `REDIS_URL` is not set (a journal path, history size). */
  inProcess?: Omit<InProcessQueueOptions, 'name' | 'env'>;
  /** Passed to `BullMqQueue` when `REDIS_URL` is set (a prefix, stalled-job settings). */
  bullmq?: Omit<BullMqQueueOptions, 'name' | 'url' | 'env'>;
}

/**
 * The one place that picks a queue: BullMQ on the Redis at `REDIS_URL` when it is set, so that
 * `troupe worker` processes anywhere share the work; otherwise the embedded in-process queue.
 * Nothing that uses the queue changes between the two.
 */
export function openJobQueue(options: OpenJobQueueOptions): JobQueue {
  const env = options.env ?? process.env;
  const url = env.REDIS_URL?.trim();
  if (url) return new BullMqQueue({ ...options.bullmq, name: options.name, url, env });
  return new InProcessQueue({ ...options.inProcess, name: options.name, env });
}
