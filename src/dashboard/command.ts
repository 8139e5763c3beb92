import type { Command } from 'commander';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { startDashboard } from './dashboard.js';
import { openStateStore } from '../store/open-state-store.js';
import { loadWorkGraph } from '../work/load-work-graph.js';
import { openWorkGraph, workQueueName } from '../work/open-work-graph.js';

/** `troupe dashboard`: the web dashboard on the store (and queues) the environment names. */
export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('Serve the web dashboard: workflow runs as graphs, reviews to decide, work graphs, queues (bull-board on Redis)')
    .option('--port <n>', 'port to listen on', '4000')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--graph <module>', 'a work graph to show (crews/<name>/graph.js or a path); repeatable', (value: string, all: string[]) => [...all, value], [] as string[])
    .action(async (flags: { port: string; host: string; graph: string[] }) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigurationError(`--port must be a port number, not "${flags.port}"`, { field: '--port' });
      const store = openStateStore();
      const graphs = await Promise.all(flags.graph.map(async (name) => openWorkGraph(await loadWorkGraph(name))));
      const redisUrl = process.env.REDIS_URL?.trim();
      const prefix = process.env.TROUPE_REDIS_PREFIX?.trim();
      const dashboard = await startDashboard({
        store,
        port,
        host: flags.host,
        workGraphs: graphs,
        queues: graphs.map((graph) => ({ name: workQueueName(graph.name), queue: graph.queue })),
        ...(redisUrl ? { bullBoard: { url: redisUrl, ...(prefix ? { prefix } : {}), queues: graphs.map((graph) => workQueueName(graph.name)) } } : {}),
      });
      process.stderr.write(`[troupe] dashboard on ${dashboard.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await dashboard.close();
      await Promise.all(graphs.map((graph) => graph.close()));
    });
}
