import { join } from 'node:path';
import { mergeRunOptions, type RunOptions } from '../agent/run-context.js';
import type { Environment } from '../observe/redact-secrets.js';
import type { StalledJobSettings } from '../queue/bullmq-queue.js';
import type { JobQueue } from '../queue/job-queue.js';
import { openJobQueue } from '../queue/open-job-queue.js';
import { type Backend, checkRedisPrefix, resolveBackend } from '../store/backend.js';
import { openStateStore } from '../store/open-state-store.js';
import type { StateStore } from '../store/state-store.js';
import { defineWorkGraph, isWorkGraphSpec, type WorkGraphDefinition, type WorkGraphSpec } from './work-graph-definition.js';
import { WorkGraph } from './work-graph.js';

/** Where the graph's store and queue come from, and its defaults for every agent run (any part of a `RunContext`). */
export interface OpenWorkGraphOptions extends Omit<RunOptions, 'runId'> {
  /** The backend to open the graph on; default the one `env` names (`resolveBackend`). */
  backend?: Backend;
  /** Where `REDIS_URL`, `TROUPE_REDIS_PREFIX` and `TROUPE_HOME` are read (default `process.env`). */
  env?: Environment;
  /** Use these instead of choosing by the environment. */
  store?: StateStore;
  queue?: JobQueue;
  /**
   * Redis key prefix for the store (`<prefix>:`) and the queue (`<prefix>`), so that separate
   * graphs or tests on one Redis never meet. Default the backend's (`TROUPE_REDIS_PREFIX`).
   */
  prefix?: string;
  /** BullMQ stalled-job settings: how soon a job of a killed worker goes to another. */
  stalled?: StalledJobSettings;
  maxJobAttempts?: number;
}

/** The queue a graph's notifications travel through; one per graph. */
export function workQueueName(graph: string): string {
  return `work-${graph}`;
}

/**
 * Opens a graph on the store and queue the backend names: on Redis, a `RedisStore` and a
 * `BullMqQueue` there, shared by every `troupe worker`; otherwise the embedded default, a
 * SQLite store in `${TROUPE_HOME ?? '.troupe'}/state.db` and an in-process queue journalled
 * under `queues/`, so notifications left pending survive a restart.
 */
export async function openWorkGraph(definition: WorkGraphDefinition | WorkGraphSpec, options: OpenWorkGraphOptions = {}): Promise<WorkGraph> {
  const spec = isWorkGraphSpec(definition) ? definition : defineWorkGraph(definition);
  const env = options.env ?? process.env;
  const resolved = options.backend ?? resolveBackend(env);
  const prefix = options.prefix?.trim();
  const backend = resolved.kind === 'redis' && prefix ? { ...resolved, prefix: checkRedisPrefix(prefix, 'prefix') } : resolved;
  const name = workQueueName(spec.name);
  const store = options.store ?? (await openStateStore({ backend }));
  const queue =
    options.queue ??
    (await openJobQueue({
      name,
      backend,
      env,
      ...(backend.kind === 'embedded' ? { inProcess: { journalPath: join(backend.home, 'queues', `${name}.json`) } } : {}),
      ...(options.stalled ? { bullmq: { stalled: options.stalled } } : {}),
    }));
  return new WorkGraph(spec, { ...mergeRunOptions(options, {}), store, queue, maxJobAttempts: options.maxJobAttempts });
}
