import type { Clock } from '../core/ids.js';
import { systemClock } from '../core/ids.js';
import type { JsonValue } from '../core/json.js';
import type { JobQueue, QueuedJob } from '../queue/job-queue.js';
import type { HandleOptions, Handler, HandlerOutcome } from './handler.js';

/**
 * Hands every message of a queue to the handler as a `queue` trigger (source: the queue's name,
 * data: the message). A handler failure fails the job, so the queue's retries and backoff apply;
 * `no-match` and `ambiguous` outcomes are recorded, not retried: retrying cannot change them.
 * `run` is every trigger's run context (a worker's model override and trace).
 */
export async function handleQueue(
  handler: Handler,
  queue: JobQueue,
  options: { source: string; concurrency?: number; onOutcome?: (outcome: HandlerOutcome) => void; onError?: (error: unknown) => void; run?: HandleOptions },
): Promise<void> {
  // The job id is the trigger id: a redelivered job keys its side effects as the first delivery did.
  const triggerOf = (job: QueuedJob) => ({ kind: 'queue', id: job.id, source: options.source, data: job.data, receivedAt: Date.now() }) as const;
  await queue.process(
    async (job) => {
      const trigger = triggerOf(job);
      const outcome = await handler.handle(trigger, options.run);
      options.onOutcome?.(outcome);
      if (outcome.status === 'failed') throw new Error(outcome.why);
    },
    {
      concurrency: options.concurrency ?? 1,
      // Its workers died while handling it too often: the handler never saw that end, so it records it here.
      onAbandoned: async (job, reason) => options.onOutcome?.(await handler.abandon(triggerOf(job), `the queue gave up on this message: ${reason}`)),
    },
  );
}

/**
 * Calls the handler with a `schedule` trigger every `everyMs` (source: the schedule's name), one
 * run at a time: a tick that comes while the previous run is still going is skipped and counted,
 * never stacked; a run that throws goes to `onError` and the next tick comes as usual. `run` is
 * every tick's run context (a coordinator, a model). Returns `stop()`,
 * which waits for a run in progress.
 */
export function schedule(
  handler: Handler,
  options: {
    name: string;
    everyMs: number;
    data?: JsonValue;
    clock?: Clock;
    onOutcome?: (outcome: HandlerOutcome) => void;
    onError?: (error: unknown) => void;
    run?: HandleOptions;
  },
): { stop(): Promise<void>; skipped(): number } {
  const clock = options.clock ?? systemClock;
  let running: Promise<void> | undefined;
  let skipped = 0;
  const timer = setInterval(() => {
    if (running) {
      skipped++;
      return;
    }
    const at = clock.now();
    // Keyed by the tick's time, not a count: a count starts again at 1 in a restarted process, and
    // the handler's outbox would take the new tick for a redelivery of the old one.
    running = handler
      .handle({ kind: 'schedule', id: `${options.name}-${at}`, source: options.name, data: options.data ?? { at }, receivedAt: at }, options.run)
      .then((outcome) => options.onOutcome?.(outcome))
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => (running = undefined));
  }, options.everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
    skipped: () => skipped,
  };
}
