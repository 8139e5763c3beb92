import type { ModelResolver, RunServices } from '../agent/run-context.js';
import { randomIds, systemClock } from '../core/ids.js';
import { resolveModel } from '../model/resolve-model.js';
import type { Environment } from '../observe/redact-secrets.js';
import { resolveBackend } from '../store/backend.js';
import { openStateStore } from '../store/open-state-store.js';
import type { StateStore } from '../store/state-store.js';
import type { JobQueue } from './job-queue.js';
import { openJobQueue } from './open-job-queue.js';

/**
 * What a process opens once and every run in it shares: the run-wide services of a `RunContext`
 * (clock, ids, trace and logger, model resolver) plus the store and the queue factory. A run
 * takes it as its context's defaults: `workflow run(items, { ...runtime, runId })`,
 * `agent.run(input, runtime)`; what is not a context field (the store, the queues) is read only
 * by the entry points that need it.
 */
export interface Runtime extends RunServices {
  store: StateStore;
  /** Opens the named queue on the runtime's backend (one per work graph or worker). */
  queue: (name: string) => Promise<JobQueue>;
}

export interface OpenRuntimeOptions extends Partial<Runtime> {
  /** Where `REDIS_URL`, `TROUPE_HOME`, `TROUPE_MODEL` and the model keys are read (default `process.env`). */
  env?: Environment;
}

/**
 * The runtime from the environment, with any given part used instead: the store and queues that
 * `openStateStore` and `openJobQueue` choose, the system clock, random ids, models by string.
 */
export async function openRuntime(options: OpenRuntimeOptions = {}): Promise<Runtime> {
  const { env = process.env, ...given } = options;
  // Resolved once: every part of the runtime uses the same backend (and its TROUPE_REDIS_PREFIX).
  const backend = resolveBackend(env);
  const models: ModelResolver = (model, resolve = {}) => resolveModel(model, { env, ...resolve });
  return {
    clock: systemClock,
    ids: randomIds,
    models,
    store: given.store ?? (await openStateStore({ backend })),
    queue: (name) => openJobQueue({ name, backend, env }),
    ...given,
  };
}
