import type { AddressInfo } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import { systemClock } from '../core/ids.js';
import { isTroupeError } from '../core/errors/troupe-error.js';
import type { JsonValue } from '../core/json.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { StateStore } from '../store/state-store.js';
import type { WorkGraph } from '../work/work-graph.js';
import { WorkItemStore, type WorkEvent } from '../work/work-item.js';
import { decideReview, listReviews } from '../workflow/review.js';
import { collections, listItems, loadRun, readTransitions, type RunRecord } from '../workflow/run-state.js';
import { escape } from './graph-svg.js';
import { page, queuesPage, reviewsPage, runPage, runsPage, workGraphPage } from './pages.js';

export interface DashboardOptions {
  /** Where runs, items, transitions, reviews and work items are read (and review decisions written). */
  store: StateStore;
  /** Work graphs to draw, with their items' dependencies. */
  workGraphs?: readonly WorkGraph[];
  /** Queues whose counts to show. */
  queues?: ReadonlyArray<{ name: string; queue: JobQueue }>;
  /** BullMQ queues on Redis to open in bull-board, by name. */
  bullBoard?: { url: string; prefix?: string; queues: readonly string[] };
  /** Who decides, when a review form does not say (default $USER or `dashboard`). */
  reviewer?: string;
}

/**
 * The web dashboard: workflow runs drawn as graphs with their items and transitions, reviews a
 * person can approve or reject, work graphs with their items' versions and what flowed, and the
 * queues (bull-board when they are on Redis). Server-rendered pages: nothing to build.
 */
export function createDashboard(options: DashboardOptions): { app: Hono; close(): Promise<void> } {
  const { store } = options;
  const app = new Hono();
  const opened: Queue[] = [];

  app.get('/', async (c) => {
    const runs: RunRecord[] = [];
    let after: string | undefined;
    do {
      const batch = await store.list(collections.runs, { limit: 500, ...(after ? { after } : {}) });
      runs.push(...batch.items.map((doc) => doc.value as unknown as RunRecord));
      after = batch.next;
    } while (after);
    return c.html(runsPage(runs, (await listReviews(store, { status: 'pending' })).length));
  });

  app.get('/runs/:id', async (c) => {
    const id = c.req.param('id');
    const run = await loadRun(store, id).catch(() => undefined);
    if (!run) return c.html(page('Not found', `<p>No run ${escape(id)}.</p>`), 404);
    const [items, transitions, reviews] = await Promise.all([listItems(store, id), readTransitions(store, id), listReviews(store, { runId: id })]);
    return c.html(runPage(run, items, transitions, reviews));
  });

  app.get('/reviews', async (c) => c.html(reviewsPage(await listReviews(store))));

  app.post('/reviews/:id/:decision{approve|reject}', async (c) => {
    const form = await c.req.parseBody();
    const note = typeof form['note'] === 'string' && form['note'].trim() ? form['note'].trim() : undefined;
    const raw = typeof form['value'] === 'string' ? form['value'].trim() : '';
    let value: JsonValue | undefined;
    if (raw) {
      try {
        value = JSON.parse(raw) as JsonValue;
      } catch {
        return c.html(page('Not saved', `<p>The corrected value is not JSON: <code>${escape(raw)}</code>. <a href="/reviews">Back</a></p>`), 400);
      }
    }
    try {
      await decideReview(store, c.req.param('id'), {
        approved: c.req.param('decision') === 'approve',
        by: options.reviewer ?? process.env.USER ?? 'dashboard',
        ...(note ? { note } : {}),
        ...(value !== undefined ? { value } : {}),
      });
    } catch (error) {
      if (!isTroupeError(error)) throw error;
      return c.html(page('Not saved', `<p>${escape(error.message)} <a href="/reviews">Back</a></p>`), 409);
    }
    return c.redirect(`/reviews#${c.req.param('id')}`, 303);
  });

  app.get('/work', (c) =>
    c.html(page('Work graphs', `<ul>${(options.workGraphs ?? []).map((g) => `<li><a href="/work/${escape(g.name)}">${escape(g.name)}</a> (${g.spec.items.size} items)</li>`).join('') || '<li class="muted">No work graph given (troupe dashboard --graph &lt;module&gt;).</li>'}</ul>`)),
  );

  app.get('/work/:graph', async (c) => {
    const graph = (options.workGraphs ?? []).find((g) => g.name === c.req.param('graph'));
    if (!graph) return c.html(page('Not found', `<p>No work graph ${escape(c.req.param('graph'))}.</p>`), 404);
    const items = new WorkItemStore(graph.store, graph.name, systemClock);
    const rows = await Promise.all(
      [...graph.spec.items.values()].map(async (definition) => {
        const found = await items.get(definition.id);
        return { id: definition.id, dependsOn: definition.dependsOn ?? [], ...(definition.description ? { description: definition.description } : {}), ...(found ? { item: found.item } : {}) };
      }),
    );
    const events = (await graph.events({ limit: 1000 })).map((e) => e.entry as WorkEvent);
    return c.html(workGraphPage({ name: graph.name, items: rows, events, pending: await graph.queue.counts() }));
  });

  if (options.bullBoard && options.bullBoard.queues.length > 0) {
    const adapter = new HonoAdapter(serveStatic);
    adapter.setBasePath('/queues/board');
    const connection = { url: options.bullBoard.url };
    const queues = options.bullBoard.queues.map((name) => {
      const queue = new Queue(name, { connection, ...(options.bullBoard!.prefix ? { prefix: options.bullBoard!.prefix } : {}) });
      queue.on('error', () => {});
      opened.push(queue);
      return new BullMQAdapter(queue, { readOnlyMode: false });
    });
    createBullBoard({ queues, serverAdapter: adapter });
    app.route('/queues/board', adapter.registerPlugin());
  }

  app.get('/queues', async (c) => {
    const counted = await Promise.all((options.queues ?? []).map(async ({ name, queue }) => ({ name, counts: await queue.counts() })));
    return c.html(queuesPage(counted, Boolean(options.bullBoard?.queues.length)));
  });

  return {
    app,
    close: async () => {
      await Promise.all(opened.map((queue) => queue.close()));
    },
  };
}

/** Serves the dashboard on `host:port` (port 0 picks a free one); resolves once it listens. */
export async function startDashboard(options: DashboardOptions & { port?: number; host?: string }): Promise<{ url: string; close(): Promise<void> }> {
  const dashboard = createDashboard(options);
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve) => {
    const server = serve({ fetch: dashboard.app.fetch, port: options.port ?? 4000, hostname: host }, (info: AddressInfo) => {
      resolve({
        url: `http://${host}:${info.port}`,
        close: async () => {
          await new Promise<void>((done) => server.close(() => done()));
          await dashboard.close();
        },
      });
    });
  });
}
