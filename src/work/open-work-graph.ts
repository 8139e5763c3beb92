import { join } from 'node:path';
import { mergeRunOptions, type RunOptions } from '../agent/run-context.js';
import type { Environment } from '../observe/redact-secrets.js';
import { BullMqQueue, type StalledJobSettings } from '../queue/bullmq-queue.js';
import { InProcessQueue } from '../queue/in-process-queue.js';
import type { JobQueue } from '../queue/job-queue.js';
import { FileStore } from '../store/file-store.js';
import { RedisStore } from '../store/redis-store.js';
import type { StateStore } from '../store/state-store.js';
import { defineWorkGraph, isWorkGraphSpec, type WorkGraphDefinition, type WorkGraphSpec } from './work-graph-definition.js';
import { WorkGraph } from './work-graph.js';

/** Where the graph's store and queue come from, and its defaults for every agent run (any part of a `RunContext`). */
export interface OpenWorkGraphOptions extends Omit<RunOptions, 'runId'> {
  /** Where `REDIS_URL`, `TROUPE_REDIS_PREFIX` and `TROUPE_HOME` are read (default `process.env`). */
  env?: Environment;
  /** Use these instead of choosing by the environment. */
  store?: StateStore;
  queue?: JobQueue;
  /**
   * Redis key prefix for the store (`<prefix>:`) and the queue (`<prefix>`), so that separate
   * graphs or tests on one Redis never meet. Default `TROUPE_REDIS_PREFIX`, else the stores' own.
   */
  prefix?: string;
  /** BullMQ stalled-job settings: how soon a job of a killed worker goes to another. */
  stalled?: StalledJobSettings;
  jobAttempts?: number;
}

/** The queue a graph's notifications travel through; one per graph. */
export function workQueueName(graph: string): string {
  return `work-${graph}`;
}

/**
 * Opens a graph on the store and queue the environment asks for: with `REDIS_URL`, a
 * `RedisStore` and a `BullMqQueue` on it, shared by every `troupe worker`; otherwise the embedded
 * default, a `FileStore` under `${TROUPE_HOME ?? '.troupe'}/state` and an in-process queue
 * journalled under `queues/`, so notifications left pending survive a restart.
 */
export function openWorkGraph(definition: WorkGraphDefinition | WorkGraphSpec, options: OpenWorkGraphOptions = {}): WorkGraph {
  const spec = isWorkGraphSpec(definition) ? definition : defineWorkGraph(definition);
  const env = options.env ?? process.env;
  const redisUrl = env['REDIS_URL']?.trim();
  const prefix = (options.prefix ?? env['TROUPE_REDIS_PREFIX'])?.trim() || undefined;
  const home = env['TROUPE_HOME']?.trim() || '.troupe';
  const name = workQueueName(spec.name);
  const store =
    options.store ?? (redisUrl ? new RedisStore({ url: redisUrl, ...(prefix ? { prefix: `${prefix}:` } : {}) }) : new FileStore({ root: join(home, 'state') }));
  const queue =
    options.queue ??
    (redisUrl
      ? new BullMqQueue({ name, url: redisUrl, env, ...(prefix ? { prefix } : {}), ...(options.stalled ? { stalled: options.stalled } : {}) })
      : new InProcessQueue({ name, env, journalPath: join(home, 'queues', `${name}.json`) }));
  return new WorkGraph(spec, { ...mergeRunOptions(options, {}), store, queue, jobAttempts: options.jobAttempts });
}
