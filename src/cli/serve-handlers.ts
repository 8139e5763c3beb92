import { join } from 'node:path';
import type { HandlerOutcome } from '../coordinator/handler.js';
import { queueTriggerSources, serveTriggerQueues, type ServedTriggerQueues } from '../coordinator/trigger-queues.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { StalledJobSettings } from '../queue/bullmq-queue.js';
import type { CloseOptions } from '../queue/job-queue.js';
import { openJobQueue } from '../queue/open-job-queue.js';
import type { Backend } from '../store/backend.js';
import { openStateStore } from '../store/open-state-store.js';
import { type HandlerModule, loadHandlerModule } from './handler-module.js';
import { progressPrinter } from './progress.js';

export interface HandlerServingOptions {
  backend: Backend;
  /** Messages handled at once per source. */
  concurrency: number;
  /** BullMQ stalled-job settings: how soon a killed worker's message goes to another. */
  stalled?: StalledJobSettings;
  /** Replaces every configuration's model (`--model`). */
  model?: string;
  /** No outcome lines, no progress. */
  quiet?: boolean;
  /** Whether the handlers are all this worker serves: then finding no queue trigger is an error (exit 2). */
  required: boolean;
}

/**
 * `troupe worker --handler <module>`: loads each handler module and consumes the queue of every
 * distinct queue-trigger source of its configurations (`triggerQueueName`), on the worker's
 * backend, so every worker on one Redis shares the messages. Each handler records its outcomes
 * and side effects in the backend's store (unless its module gave it a store of its own), which is
 * what keeps a redelivered message from repeating an effect. Prints what it serves at start, and
 * one line per outcome. Returns undefined when there is nothing to serve and `required` is off.
 */
export async function serveHandlerModules(
  names: readonly string[],
  options: HandlerServingOptions,
): Promise<{ sources: string[]; close(options?: CloseOptions): Promise<void> } | undefined> {
  const modules: HandlerModule[] = [];
  for (const name of names) modules.push(await loadHandlerModule(name));
  const say = (line: string) => process.stderr.write(`[troupe] worker ${process.pid}: ${line}\n`);
  const servedBy = new Map<string, string>();
  for (const { file, handler } of modules) {
    const { sources, withoutSource } = queueTriggerSources(handler.configurations);
    if (withoutSource.length > 0) say(`${withoutSource.join(', ')} in ${file}: a queue trigger without a source is not served (give trigger.source)`);
    const others = handler.configurations.filter((configuration) => configuration.trigger.kind !== 'queue').map((configuration) => configuration.name);
    if (others.length > 0) say(`${others.join(', ')} in ${file}: not queue triggers, not served by a worker`);
    if (sources.length === 0) say(`no queue triggers in ${file}`);
    for (const source of sources) {
      const first = servedBy.get(source);
      if (first) throw new ConfigurationError(`the queue source "${source}" is served by two handler modules: ${first} and ${file}`, { field: '--handler' });
      servedBy.set(source, file);
    }
  }
  if (servedBy.size === 0) {
    if (options.required)
      throw new ConfigurationError(`no queue triggers in ${modules.map((m) => m.file).join(', ')}: nothing to serve`, { field: '--handler' });
    return undefined;
  }
  const { backend } = options;
  const store = await openStateStore({ backend });
  const queue = (name: string) =>
    openJobQueue({
      name,
      backend,
      ...(backend.kind === 'embedded' ? { inProcess: { journalPath: join(backend.home, 'queues', `${name}.json`) } } : {}),
      ...(options.stalled ? { bullmq: { stalled: options.stalled } } : {}),
    });
  const onOutcome = options.quiet ? undefined : (outcome: HandlerOutcome, source: string) => process.stdout.write(`${describeOutcome(outcome, source)}\n`);
  const served: ServedTriggerQueues[] = [];
  const close = async (closing?: CloseOptions) => {
    await Promise.all(served.map((serving) => serving.close(closing)));
    await store.close();
  };
  try {
    for (const { handler } of modules) {
      const own = handler.withDefaults({ store, ...(options.quiet ? {} : { trace: progressPrinter() }) });
      served.push(
        await serveTriggerQueues(own, {
          queue,
          concurrency: options.concurrency,
          ...(options.model ? { run: { model: options.model } } : {}),
          ...(onOutcome ? { onOutcome } : {}),
        }),
      );
    }
  } catch (error) {
    await close({ graceMs: 0 }).catch(() => {});
    throw error;
  }
  const sources = [...servedBy.keys()];
  say(`serving handler queue triggers: ${sources.join(', ')}, concurrency ${options.concurrency}`);
  return { sources, close };
}

/** One line per message: where it came from, its id, what became of it and why. */
export function describeOutcome(outcome: HandlerOutcome, source: string): string {
  const by = outcome.configuration ? ` by ${outcome.configuration}` : '';
  return `trigger ${source}/${outcome.trigger}: ${outcome.status}${by} (${outcome.why}${outcome.toolCalls.length ? `; ${outcome.toolCalls.length} tool calls` : ''})`;
}
