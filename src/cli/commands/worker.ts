import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import { maskRedisUrl } from '../../core/redis-url.js';
import { parseModelString } from '../../model/resolve-model.js';
import { loadWorkGraph } from '../../work/load-work-graph.js';
import { openWorkGraph } from '../../work/open-work-graph.js';
import { describeWorkEvent } from '../../work/describe-work-event.js';

interface WorkerFlags {
  graph: string;
  concurrency: string;
  model?: string;
  lockDurationMs?: string;
  stalledIntervalMs?: string;
  quiet?: boolean;
}

/**
 * `troupe worker --graph <module>`: takes the graph's notifications from the queue until stopped
 * (SIGINT or SIGTERM: running jobs get 10 s to finish). With `REDIS_URL`, any number of workers
 * on any machines share the work; items and conversations are in Redis, so any worker serves any item.
 */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description("Process a work graph's change notifications (share the work across machines with REDIS_URL)")
    .requiredOption('--graph <module>', 'the graph module: a crew name (crews/<name>/graph.js) or a path to a .js module')
    .option('--concurrency <n>', 'notifications handled at once by this process', '4')
    .option('--model <provider:model>', "use this model for every item's agent")
    .option('--lock-duration-ms <ms>', 'BullMQ job lock: how long before a dead worker\'s job goes to another (default 30000)')
    .option('--stalled-interval-ms <ms>', 'how often stalled jobs are looked for (default 30000)')
    .option('--quiet', 'do not print what flows')
    .action(async (flags: WorkerFlags) => {
      const concurrency = positive(flags.concurrency, '--concurrency');
      if (flags.model) parseModelString(flags.model, { field: '--model' });
      const spec = await loadWorkGraph(flags.graph);
      const stalled = {
        ...(flags.lockDurationMs ? { lockDurationMs: positive(flags.lockDurationMs, '--lock-duration-ms') } : {}),
        ...(flags.stalledIntervalMs ? { stalledIntervalMs: positive(flags.stalledIntervalMs, '--stalled-interval-ms') } : {}),
      };
      const graph = openWorkGraph(spec, { stalled, ...(flags.model ? { model: flags.model } : {}) });
      const redisUrl = process.env.REDIS_URL?.trim();
      if (!redisUrl) {
        process.stderr.write('[troupe] REDIS_URL is not set: this worker serves only the notifications queued on this machine (.troupe/queues). Set REDIS_URL to share the work.\n');
      }
      await graph.seed();
      if (!flags.quiet) graph.onEvent((event) => process.stdout.write(`${describeWorkEvent(event)}\n`));
      const stopped = new Promise<string>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      await graph.work({ concurrency });
      process.stderr.write(`[troupe] worker ${process.pid} serving work graph "${graph.name}" (${spec.items.size} items) on ${redisUrl ? maskRedisUrl(redisUrl) : 'the embedded store'}, concurrency ${concurrency}\n`);
      const signal = await stopped;
      process.stderr.write(`[troupe] worker ${process.pid}: ${signal}, finishing running jobs\n`);
      await graph.close({ graceMs: 10_000 });
    });
}

function positive(text: string, field: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new ConfigurationError(`must be a whole number of at least 1, not "${text}"`, { field });
  return value;
}
