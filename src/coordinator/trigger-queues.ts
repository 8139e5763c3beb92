import { createHash } from 'node:crypto';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { stableStringify, type JsonValue } from '../core/json.js';
import { InProcessQueue } from '../queue/in-process-queue.js';
import type { AddJobOptions, CloseOptions, JobQueue, JobRef } from '../queue/job-queue.js';
import type { Configuration } from './configuration.js';
import type { HandleOptions, Handler, HandlerOutcome } from './handler.js';
import { handleQueue } from './trigger-sources.js';

// A source becomes part of a queue name, and on Redis of every key of that queue: the characters
// of store names, never the ':' that separates the parts of a key.
const sourcePattern = /^[A-Za-z0-9_.@+=-]{1,100}$/;

/**
 * The queue that carries the messages of a queue trigger's `source`: producers add to it
 * (`enqueueTrigger`), `troupe worker --handler` processes consume it. On Redis, every worker of
 * one backend (and `TROUPE_REDIS_PREFIX`) shares it, so each message goes to one of them.
 */
export function triggerQueueName(source: string): string {
  if (!sourcePattern.test(source))
    throw new ConfigurationError(`the queue source ${JSON.stringify(source)} cannot name a queue: use 1–100 of A-Z a-z 0-9 _ . - @ + =`, {
      field: 'trigger.source',
    });
  return `troupe-trigger-${source}`;
}

/** Which queues a handler's configurations listen to, and which queue configurations name no source (so no queue can be served for them). */
export function queueTriggerSources(configurations: readonly Configuration[]): { sources: string[]; withoutSource: string[] } {
  const queued = configurations.filter((configuration) => configuration.trigger.kind === 'queue');
  const sources = [...new Set(queued.flatMap((configuration) => (configuration.trigger.source ? [configuration.trigger.source] : [])))];
  for (const source of sources) triggerQueueName(source);
  return { sources, withoutSource: queued.filter((configuration) => !configuration.trigger.source).map((configuration) => configuration.name) };
}

/** Where a trigger message can be added: the source's queue itself, or anything that opens queues by name (a `Runtime`). */
export type TriggerTarget = JobQueue | { queue: (name: string) => Promise<JobQueue> };

export interface EnqueueTriggerOptions extends Omit<AddJobOptions, 'jobId'> {
  /**
   * The message's id: the trigger id the handler sees and what keys its side effects. Adding a
   * message whose id is still known to the queue does nothing. Default: a hash of the source and
   * the data, so a producer that retries does not add the message twice; give ids to messages
   * that may repeat on purpose. No ':' and not all digits.
   */
  id?: string;
}

/**
 * Puts a message on the queue of a queue trigger's source, for a handler served by
 * `serveTriggerQueues` (or `troupe worker --handler`). A queue opened here from a runtime is
 * closed again once the message is added; an in-process one is refused, as it would reach no handler.
 */
export async function enqueueTrigger(target: TriggerTarget, source: string, data: JsonValue, options: EnqueueTriggerOptions = {}): Promise<JobRef> {
  const name = triggerQueueName(source);
  const { id, ...add } = options;
  const jobId =
    id ??
    `msg-${createHash('sha256')
      .update(`${source}\n${stableStringify(data)}`)
      .digest('hex')
      .slice(0, 32)}`;
  if ('add' in target) {
    if (target.name !== name) throw new ConfigurationError(`messages from "${source}" go on queue ${name}, not ${target.name}`, { field: 'queue' });
    return target.add(source, data, { ...add, jobId });
  }
  const queue = await target.queue(name);
  if (queue instanceof InProcessQueue) {
    // Closed right after the add, it would drop the message: no handler is served from a queue opened here.
    await queue.close({ graceMs: 0 });
    throw new ConfigurationError(
      `an in-process queue opened for "${source}" reaches no handler: set REDIS_URL, or add to the queue the handler is served from (served.queues.get(source))`,
      { field: 'queue' },
    );
  }
  try {
    return await queue.add(source, data, { ...add, jobId });
  } finally {
    await queue.close({ graceMs: 0 });
  }
}

export interface ServeTriggerQueuesOptions {
  /** Opens a queue by name on the backend every producer and worker share (a `Runtime`'s `queue`). */
  queue: (name: string) => Promise<JobQueue>;
  /** Messages handled at once per source by this process (default 1). */
  concurrency?: number;
  /** Every trigger's run context: a model that replaces every configuration's, a trace sink. */
  run?: HandleOptions;
  /** Called with each message's outcome, after the handler recorded it. */
  onOutcome?: (outcome: HandlerOutcome, source: string) => void;
}

/** The queues a handler is being served from; `close` stops taking messages and lets running ones finish. */
export interface ServedTriggerQueues {
  sources: readonly string[];
  /** Queue configurations without a `trigger.source`: no queue is served for them. */
  withoutSource: readonly string[];
  /** The open queue of each source: in one process (the embedded backend), add messages here. */
  queues: ReadonlyMap<string, JobQueue>;
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Serves every queue trigger of a handler: for each distinct `source` of its configurations whose
 * trigger kind is `queue`, consumes `triggerQueueName(source)` through `handleQueue`. Delivery is
 * at least once; the handler keys side effects by the message id, so a redelivered message does
 * not repeat them when the handler has a store (its outbox). Configurations of other kinds are not served here.
 */
export async function serveTriggerQueues(handler: Handler, options: ServeTriggerQueuesOptions): Promise<ServedTriggerQueues> {
  const { sources, withoutSource } = queueTriggerSources(handler.configurations);
  const queues = new Map<string, JobQueue>();
  const close = async (closing?: CloseOptions) => {
    await Promise.all([...queues.values()].map((queue) => queue.close(closing)));
  };
  try {
    for (const source of sources) {
      const queue = await options.queue(triggerQueueName(source));
      queues.set(source, queue);
      await handleQueue(handler, queue, {
        source,
        concurrency: options.concurrency ?? 1,
        ...(options.run ? { run: options.run } : {}),
        ...(options.onOutcome ? { onOutcome: (outcome: HandlerOutcome) => options.onOutcome?.(outcome, source) } : {}),
      });
    }
  } catch (error) {
    await close({ graceMs: 0 }).catch(() => {});
    throw error;
  }
  return { sources, withoutSource, queues, close };
}
