import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import { maskRedisUrl } from '../../core/redis-url.js';
import { parseModelString } from '../../model/resolve-model.js';
import { RedisLostError } from '../../queue/queue-errors.js';
import { resolveBackend, type Backend } from '../../store/backend.js';
import { openStateStore } from '../../store/open-state-store.js';
import { openJobQueue } from '../../queue/open-job-queue.js';
import type { BullMqQueueOptions } from '../../queue/bullmq-queue.js';
import { serveWorkflowRuns, workflowRunsQueue } from '../../workflow/queued-run.js';
import type { RunRecord } from '../../workflow/run-state.js';
import { loadWorkflowModule, type WorkflowModule } from '../workflow-module.js';
import { progressPrinter } from '../progress.js';
import { loadWorkGraph } from '../../work/load-work-graph.js';
import { openWorkGraph } from '../../work/open-work-graph.js';
import { describeWorkEvent } from '../../work/describe-work-event.js';
import { serveHandlerModules } from '../serve-handlers.js';

interface WorkerFlags {
  graph?: string;
  handler: string[];
  concurrency: string;
  model?: string;
  lockDurationMs?: string;
  stalledIntervalMs?: string;
  redisTimeoutMs: string;
  quiet?: boolean;
}

/**
 * `troupe worker [--graph <module>] [--handler <module>]`: with `REDIS_URL`, takes the steps of
 * queued workflow runs (`troupe run --detach`); with `--graph`, a work graph's notifications; with
 * `--handler`, the handlers' queue triggers (serve-handlers.ts); until stopped (SIGINT or SIGTERM:
 * running jobs get 10 s to finish). Any number of workers on any machines share the work; runs,
 * items and conversations are in Redis, so any worker serves any of them. Each transition a
 * worker makes names it (`host/pid`).
 *
 * Redis down never leaves a worker hanging: unreachable at start, it exits at once with code 2
 * (a configuration to fix); lost later, it says so, keeps retrying for `--redis-timeout-ms`
 * (default 60 s; it says when Redis is back), then stops with code 1 for its supervisor to
 * restart it. Jobs it held go back to waiting through BullMQ's stalled-job check.
 */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      "Process queued workflow runs (troupe run --detach), a work graph's change notifications and handlers' queue triggers; share the work across machines with REDIS_URL",
    )
    .option('--graph <module>', 'also serve this work graph: a crew name (crews/<name>/graph.js) or a path to a .js module')
    .option(
      '--handler <module>',
      "also serve a handler's queue triggers: crews/<name>/handler.js or a .js module (repeatable)",
      (m: string, all: string[]) => [...all, m],
      [],
    )
    .option('--concurrency <n>', 'jobs (item steps, notifications, messages) handled at once by this process, per queue', '4')
    .option('--model <provider:model>', "use this model for every item's agent, workflow step and handler, instead of their own")
    .option('--lock-duration-ms <ms>', "BullMQ job lock: how long before a dead worker's job goes to another (default 30000)")
    .option('--stalled-interval-ms <ms>', 'how often stalled jobs are looked for (default 30000)')
    .option('--redis-timeout-ms <ms>', 'how long Redis may stay unreachable before the worker exits with code 1', '60000')
    .option('--quiet', 'do not print what flows')
    .action(async (flags: WorkerFlags) => {
      const concurrency = positive(flags.concurrency, '--concurrency');
      const redisTimeoutMs = positive(flags.redisTimeoutMs, '--redis-timeout-ms');
      if (flags.model) parseModelString(flags.model, { field: '--model' });
      const spec = flags.graph ? await loadWorkGraph(flags.graph) : undefined;
      const stalled = {
        ...(flags.lockDurationMs ? { lockDurationMs: positive(flags.lockDurationMs, '--lock-duration-ms') } : {}),
        ...(flags.stalledIntervalMs ? { stalledIntervalMs: positive(flags.stalledIntervalMs, '--stalled-interval-ms') } : {}),
      };
      const backend = resolveBackend();
      const redisUrl = backend.kind === 'redis' ? backend.url : undefined;
      if (backend.kind === 'embedded' && !spec && flags.handler.length === 0)
        throw new ConfigurationError(
          'nothing to serve: give --graph <module> or --handler <module>, or set REDIS_URL to serve queued workflow runs (workers share them through Redis)',
          { field: '--graph' },
        );
      if (backend.kind === 'embedded') {
        process.stderr.write(
          `[troupe] REDIS_URL is not set: this worker serves only the notifications queued on this machine (${backend.home}/queues). Set REDIS_URL to share the work.\n`,
        );
      }
      // Loaded only on Redis: the embedded worker never loads ioredis.
      const liveness = redisUrl ? await import('../../queue/redis-liveness.js') : undefined;
      // Before anything opens a BullMQ connection, whose reconnect loop would keep the process alive.
      if (redisUrl) await liveness?.checkRedis(redisUrl);
      const where = redisUrl ? maskRedisUrl(redisUrl) : 'the embedded store';
      const handlers = await serveHandlerModules(flags.handler, {
        backend,
        concurrency,
        stalled,
        required: !spec && backend.kind === 'embedded',
        ...(flags.model ? { model: flags.model } : {}),
        ...(flags.quiet ? { quiet: true } : {}),
      });
      const graph = spec ? await openWorkGraph(spec, { backend, stalled, ...(flags.model ? { model: flags.model } : {}) }) : undefined;
      const runs =
        backend.kind === 'redis'
          ? await serveQueuedRuns({ backend, stalled, concurrency, ...(flags.model ? { model: flags.model } : {}), ...(flags.quiet ? { quiet: true } : {}) })
          : undefined;
      let stop: (reason: string) => void = () => {};
      const stopped = new Promise<string>((resolve) => (stop = resolve));
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      let lost: RedisLostError | undefined;
      const closeAll = (graceMs: number) => Promise.all([graph?.close({ graceMs }), runs?.close(graceMs), handlers?.close({ graceMs })]);
      try {
        if (graph) {
          await graph.seed();
          if (!flags.quiet) graph.onEvent((event) => process.stdout.write(`${describeWorkEvent(event)}\n`));
          await graph.work({ concurrency });
        }
      } catch (error) {
        await closeAll(0).catch(() => {});
        throw error;
      }
      const watch = redisUrl
        ? liveness?.watchRedis(redisUrl, {
            lostAfterMs: redisTimeoutMs,
            onDown: (problem) =>
              process.stderr.write(
                `[troupe] worker ${process.pid}: Redis at ${where} does not answer (${problem}); retrying, exiting if it is not back within ${Math.round(redisTimeoutMs / 1000)} s\n`,
              ),
            onBack: (ms) => process.stderr.write(`[troupe] worker ${process.pid}: Redis at ${where} answers again after ${Math.round(ms / 1000)} s\n`),
            onLost: (ms, problem) => {
              lost = new RedisLostError(where, ms, problem);
              stop('Redis lost');
            },
          })
        : undefined;
      const served = [
        ...(graph && spec ? [`work graph "${graph.name}" (${spec.items.size} items)`] : []),
        ...(handlers ? [`handler queue triggers (${handlers.sources.join(', ')})`] : []),
        ...(runs ? ['queued workflow runs'] : []),
      ];
      process.stderr.write(`[troupe] worker ${process.pid} serving ${served.join(' and ')} on ${where}, concurrency ${concurrency}\n`);
      const reason = await stopped;
      watch?.stop();
      const now = (signal: NodeJS.Signals) => {
        process.stderr.write(`[troupe] worker ${process.pid}: ${signal} again, stopping now; its running jobs go to another worker when their lock expires\n`);
        process.exit(1);
      };
      process.on('SIGINT', now);
      process.on('SIGTERM', now);
      process.stderr.write(`[troupe] worker ${process.pid}: ${reason}, finishing running jobs\n`);
      await closeAll(lost ? 1000 : 10_000);
      if (lost) throw lost;
    });
}

/**
 * Serves queued workflow runs: each job's run names its workflow (a name under crews/, or the
 * file it was loaded from), loaded once per process; its model is the run's unless `--model` says otherwise.
 */
async function serveQueuedRuns(options: {
  backend: Extract<Backend, { kind: 'redis' }>;
  stalled: BullMqQueueOptions['stalled'];
  concurrency: number;
  model?: string;
  quiet?: boolean;
}): Promise<{ close(graceMs: number): Promise<void> }> {
  const store = await openStateStore({ backend: options.backend });
  const queue = await openJobQueue({ name: workflowRunsQueue, backend: options.backend, ...(options.stalled ? { bullmq: { stalled: options.stalled } } : {}) });
  const modules = new Map<string, Promise<WorkflowModule>>();
  const load = (run: RunRecord) => {
    const key = run.source ?? run.workflow;
    let module = modules.get(key);
    if (!module) modules.set(key, (module = loadWorkflowModule(key)));
    return module.then((loaded) => loaded.workflow);
  };
  await serveWorkflowRuns(queue, {
    store,
    workflow: load,
    concurrency: options.concurrency,
    ...(options.model ? { model: options.model } : {}),
    ...(options.quiet ? {} : { trace: progressPrinter() }),
  });
  return {
    async close(graceMs) {
      await queue.close({ graceMs });
      await store.close();
    },
  };
}

function positive(text: string, field: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new ConfigurationError(`must be a whole number of at least 1, not "${text}"`, { field });
  return value;
}
