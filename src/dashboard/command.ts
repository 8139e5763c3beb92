import type { Command } from 'commander';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { startDashboard as StartDashboard } from './dashboard.js';
import { isLoopback, newDashboardToken, openableUrl, tokenAddress } from './guard.js';
import { resolveBackend } from '../store/backend.js';
import { openStateStore } from '../store/open-state-store.js';
import { loadWorkGraph } from '../work/load-work-graph.js';
import { openJobQueue } from '../queue/open-job-queue.js';
import { openWorkGraph, workQueueName } from '../work/open-work-graph.js';
import { workflowRunsQueue } from '../workflow/queued-run.js';

interface DashboardFlags {
  port: string;
  host: string;
  graph: string[];
  allowQueueActions?: boolean;
}

/** How long each part of stopping (server, queues, store) may take before it is cut off. */
const stopStepMs = 5000;

/**
 * `troupe dashboard`: the web dashboard on the store (and queues) the environment names. On
 * 127.0.0.1 by default; bound elsewhere, every request needs its token (TROUPE_DASHBOARD_TOKEN,
 * or one made up and printed at start). SIGINT or SIGTERM stops it within seconds, even with
 * browsers connected and Redis gone; a second signal stops it at once.
 */
export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description(
      'Serve the web dashboard: runs of every kind with their graphs and timelines (live), reviews to decide, work graphs, every queue (bull-board on Redis)',
    )
    .option('--port <n>', 'port to listen on', '4000')
    .option('--host <host>', 'address to listen on (beyond 127.0.0.1, every request needs the token)', '127.0.0.1')
    .option(
      '--graph <module>',
      'a work graph to show (crews/<name>/graph.js or a path); repeatable',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option('--allow-queue-actions', 'let bull-board retry, remove and add jobs (default: read-only)')
    .action(async (flags: DashboardFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new ConfigurationError(`--port must be a port number, not "${flags.port}"`, { field: '--port' });
      const fromEnv = process.env.TROUPE_DASHBOARD_TOKEN?.trim();
      const token = fromEnv || newDashboardToken();
      const backend = resolveBackend();
      const store = await openStateStore({ backend });
      const graphs = await Promise.all(flags.graph.map(async (name) => openWorkGraph(await loadWorkGraph(name), { backend })));
      // The queue `troupe worker` serves: a review decided in the page puts a run on workers back on it.
      const workflowRuns = backend.kind === 'redis' ? await openJobQueue({ name: workflowRunsQueue, backend }) : undefined;
      const release = async () => {
        await Promise.all(graphs.map((graph) => within(graph.close({ graceMs: 1000 }), stopStepMs)));
        if (workflowRuns) await within(workflowRuns.close({ graceMs: 0 }), stopStepMs);
        await within(store.close(), stopStepMs);
      };
      // Loaded here, not at start: bull-board and BullMQ are most of what every other `troupe` command would load.
      const { startDashboard }: { startDashboard: typeof StartDashboard } = await import('./dashboard.js');
      const dashboard = await startDashboard({
        store,
        port,
        host: flags.host,
        token,
        allowQueueActions: Boolean(flags.allowQueueActions),
        workGraphs: graphs,
        ...(workflowRuns ? { workflowRuns } : {}),
        queues: graphs.map((graph) => ({ name: workQueueName(graph.name), queue: graph.queue })),
        ...(backend.kind === 'redis'
          ? { bullBoard: { url: backend.url, ...(backend.prefix ? { prefix: backend.prefix } : {}), queues: graphs.map((graph) => workQueueName(graph.name)) } }
          : {}),
      }).catch(async (error: NodeJS.ErrnoException) => {
        // Open Redis connections would keep a dashboard that never started alive.
        await release();
        if (error.code === 'EADDRINUSE' || error.code === 'EADDRNOTAVAIL' || error.code === 'EACCES') {
          throw new ConfigurationError(`cannot listen on ${flags.host}:${port} (${error.code}): choose another --port or --host`, { field: '--port' });
        }
        throw error;
      });
      if (isLoopback(flags.host)) {
        process.stderr.write(`[troupe] dashboard on ${dashboard.url} (Ctrl-C to stop)\n`);
      } else {
        // Reachable from the network: the token is the only thing between it and anyone there.
        const reachable = openableUrl(dashboard.url);
        const open = fromEnv ? `${reachable}/?token=<TROUPE_DASHBOARD_TOKEN>` : tokenAddress(reachable, token);
        process.stderr.write(
          `[troupe] dashboard on ${dashboard.url}, reachable beyond this machine: every request needs the token. Open ${open} (Ctrl-C to stop)\n`,
        );
      }
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      const again = () => {
        process.stderr.write('[troupe] dashboard: second signal, stopping now\n');
        process.exit(1);
      };
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      process.stderr.write(`[troupe] dashboard: ${signal}, stopping\n`);
      // Each step bounded: the server drops its connections, queues and stores give up on a Redis that is gone.
      await dashboard.close();
      await release();
      // Whatever a library still holds open (a reconnect timer) must not keep a stopped dashboard alive.
      setTimeout(() => process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0), 2000).unref();
    });
}

async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
