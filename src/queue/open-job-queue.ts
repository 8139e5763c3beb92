import type { Environment } from '../observe/redact-secrets.js';
import { type Backend, resolveBackend } from '../store/backend.js';
import type { BullMqQueueOptions } from './bullmq-queue.js';
import { InProcessQueue, type InProcessQueueOptions } from './in-process-queue.js';
import type { JobQueue } from './job-queue.js';

export interface OpenJobQueueOptions {
  name: string;
  /** The backend to open the queue on; default the one `env` names (`resolveBackend`). */
  backend?: Backend;
  /** Where `REDIS_URL` and `TROUPE_REDIS_PREFIX` are read, and secret values looked for (default `process.env`). */
  env?: Environment;
  /** Passed to `InProcessQueue` on the embedded backend (a journal path, history size). */
  inProcess?: Omit<InProcessQueueOptions, 'name' | 'env'>;
  /** Passed to `BullMqQueue` on Redis (stalled-job settings; a prefix instead of the backend's). */
  bullmq?: Omit<BullMqQueueOptions, 'name' | 'url' | 'env'>;
}

/**
 * The one place that picks a queue: BullMQ on the backend's Redis (its keys under the backend's
 * prefix), so that `troupe worker` processes anywhere share the work; otherwise the embedded
 * in-process queue. Nothing that uses the queue changes between the two. BullMQ is loaded only
 * here, only when Redis is chosen.
 */
export async function openJobQueue(options: OpenJobQueueOptions): Promise<JobQueue> {
  const env = options.env ?? process.env;
  const backend = options.backend ?? resolveBackend(env);
  if (backend.kind === 'embedded') return new InProcessQueue({ ...options.inProcess, name: options.name, env });
  const { BullMqQueue } = await import('./bullmq-queue.js');
  return new BullMqQueue({ ...(backend.prefix ? { prefix: backend.prefix } : {}), ...options.bullmq, name: options.name, url: backend.url, env });
}
