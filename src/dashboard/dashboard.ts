import type { AddressInfo } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Hono, type Context } from 'hono';
import { systemClock } from '../core/ids.js';
import { maskRedisUrl } from '../core/redis-url.js';
import { isTroupeError } from '../core/errors/troupe-error.js';
import type { JsonValue } from '../core/json.js';
import type { JobQueue } from '../queue/job-queue.js';
import { QueueUnavailableError } from '../queue/queue-errors.js';
import type { StateStore } from '../store/state-store.js';
import type { WorkGraph } from '../work/work-graph.js';
import { WorkItemStore } from '../work/work-item.js';
import { requeueRun, workflowRunsQueue } from '../workflow/queued-run.js';
import { decideReview, listReviews, type ReviewRequest } from '../workflow/review.js';
import { listItems, loadRun, readTransitions } from '../workflow/run-state.js';
import { escapeHtml } from './graph-svg.js';
import { dashboardHeaders, newDashboardToken, requestGuard, tokenHeader } from './guard.js';
import { discoverQueueNames, queueKind } from './queue-discovery.js';
import { liveEvents, liveScript, liveScriptPath, stampPages } from './live.js';
import { registerRecordedRunPages } from './recorded-run-page.js';
import { page, queuesPage, reviewsPage, runPage, workGraphPage } from './pages.js';
import type { CorruptRecordError } from '../store/errors/corrupt-record-error.js';

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
  /**
   * The address the server listens on (default 127.0.0.1). On loopback, requests must name a
   * loopback host; anywhere else, every request must carry the token.
   */
  host?: string;
  /** The secret state-changing requests carry. Default `TROUPE_DASHBOARD_TOKEN`, else a random one per process. */
  token?: string;
  /**
   * Let bull-board retry, remove, add and promote jobs (still only from the dashboard's own
   * pages, with its token). Default false: bull-board shows the queues read-only.
   */
  allowQueueActions?: boolean;
  /**
   * The `workflow-runs` queue that `troupe worker` processes serve. With it, deciding a review of
   * a run on workers puts the run's items back on it, so the run goes on without a `--resume`.
   */
  workflowRuns?: JobQueue;
  /** How often an open live page's stream looks for a change (default 1 s). */
  liveIntervalMs?: number;
}

/**
 * The web dashboard: runs of every kind, workflow runs drawn as graphs with their items and one
 * timeline of transitions and reviews, recorded runs with their model and tool calls, reviews a
 * person can approve or reject, work graphs with their items' versions and what flowed, and the
 * queues (bull-board when they are on Redis). Server-rendered pages: nothing to build.
 */
export function createDashboard(options: DashboardOptions): { app: Hono; token: string; close(): Promise<void> } {
  const { store } = options;
  const token = options.token ?? (process.env.TROUPE_DASHBOARD_TOKEN?.trim() || newDashboardToken());
  const app = new Hono();
  const opened: Queue[] = [];
  app.use('*', dashboardHeaders());
  app.use('*', requestGuard({ token, host: options.host ?? '127.0.0.1' }));
  app.onError((error, c) => errorPage(c, error));
  app.use('*', stampPages());

  app.get(liveScriptPath, (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    return c.body(liveScript);
  });

  // Each open stream renders its page again through the app itself, with the caller's Host and
  // the dashboard's token, so it sees exactly what a reload would.
  const live = liveEvents({
    ...(options.liveIntervalMs !== undefined ? { intervalMs: options.liveIntervalMs } : {}),
    render: async (c, path) => {
      const response = await app.request(path, { headers: { host: c.req.header('host') ?? '127.0.0.1', [tokenHeader]: token } });
      return response.ok && (response.headers.get('content-type') ?? '').startsWith('text/html') ? response.text() : undefined;
    },
  });
  app.get('/events', live.handler);

  // /, /runs and recorded runs' pages, before the workflow run page: a recorded run's id is answered there, any other falls through.
  registerRecordedRunPages(app, store);

  app.get('/runs/:id', async (c) => {
    const id = c.req.param('id');
    const run = await loadRun(store, id).catch((error: unknown) => {
      // Redis down is not "no such run": let the error page say so.
      if (isTroupeError(error) && error.code === 'store_unavailable') throw error;
      return undefined;
    });
    if (!run) return c.html(page('Not found', `<p>No run ${escapeHtml(id)}.</p>`), 404);
    const [items, transitions, reviews] = await Promise.all([listItems(store, id), readTransitions(store, id), listReviews(store, { runId: id })]);
    return c.html(runPage(run, items, transitions, reviews));
  });

  app.get('/reviews', async (c) => {
    const damaged: CorruptRecordError[] = [];
    const reviews = await listReviews(store, {}, damaged);
    return c.html(reviewsPage(reviews, token, damaged));
  });

  app.post('/reviews/:id/:decision{approve|reject}', async (c) => {
    const form = await c.req.parseBody();
    const note = typeof form['note'] === 'string' && form['note'].trim() ? form['note'].trim() : undefined;
    const raw = typeof form['value'] === 'string' ? form['value'].trim() : '';
    let value: JsonValue | undefined;
    if (raw) {
      try {
        value = JSON.parse(raw) as JsonValue;
      } catch {
        // Shown again with what the person typed and why it was not saved, not a page that loses it.
        const reviews = await listReviews(store, {});
        const kept = {
          review: c.req.param('id'),
          decision: c.req.param('decision') as 'approve' | 'reject',
          note: note ?? '',
          value: raw,
          error: `Not saved: the corrected value is not JSON (${describeJsonError(raw)}). Fix it and approve again.`,
        };
        return c.html(reviewsPage(reviews, token, [], kept), 400);
      }
    }
    let decided: ReviewRequest;
    try {
      decided = await decideReview(store, c.req.param('id'), {
        approved: c.req.param('decision') === 'approve',
        by: options.reviewer ?? process.env.USER ?? 'dashboard',
        ...(note ? { note } : {}),
        ...(value !== undefined ? { value } : {}),
      });
    } catch (error) {
      if (!isTroupeError(error)) throw error;
      return c.html(page('Not saved', `<p>${escapeHtml(error.message)} <a href="/reviews">Back</a></p>`), 409);
    }
    if (decided.decision && options.workflowRuns) {
      // A run on workers goes on at once, as `troupe review approve --resume` does; a run in one
      // process that waits (--wait) sees the decision itself; any other run applies it on --resume.
      const run = await loadRun(store, decided.runId);
      if (run?.queued) await requeueRun(store, options.workflowRuns, run.id);
    }
    return c.redirect(`/reviews#${c.req.param('id')}`, 303);
  });

  app.get('/work', (c) =>
    c.html(
      page(
        'Work graphs',
        `<ul>${(options.workGraphs ?? []).map((g) => `<li><a href="/work/${escapeHtml(g.name)}">${escapeHtml(g.name)}</a> (${g.spec.items.size} items)</li>`).join('') || '<li class="muted">No work graph given (troupe dashboard --graph &lt;module&gt;).</li>'}</ul>`,
      ),
    ),
  );

  app.get('/work/:graph', async (c) => {
    const graph = (options.workGraphs ?? []).find((g) => g.name === c.req.param('graph'));
    if (!graph) return c.html(page('Not found', `<p>No work graph ${escapeHtml(c.req.param('graph'))}.</p>`), 404);
    const items = new WorkItemStore(graph.store, graph.name, systemClock);
    const rows = await Promise.all(
      [...graph.spec.items.values()].map(async (definition) => {
        const found = await items.get(definition.id);
        return {
          id: definition.id,
          dependsOn: definition.dependsOn ?? [],
          ...(definition.description ? { description: definition.description } : {}),
          ...(found ? { item: found.item } : {}),
        };
      }),
    );
    const events = (await graph.events({ limit: 1000 })).map((e) => e.entry);
    return c.html(workGraphPage({ name: graph.name, items: rows, events, pending: await graph.queue.counts() }));
  });

  // On Redis, every Troupe queue: the ones named here, `workflow-runs`, and whatever else exists
  // under the prefix (handler triggers, other work graphs), found again at most every few seconds.
  const board = options.bullBoard;
  const onRedis = new Map<string, Queue>();
  let addToBoard: ((queue: Queue) => void) | undefined;
  let lastLook = 0;
  let scanner: Redis | undefined;
  const openOnRedis = (name: string) => {
    if (!board || onRedis.has(name)) return;
    // Fails fast while Redis is down (no offline queue, one retry): bull-board then shows an
    // error at once instead of a request that waits for Redis to come back.
    const connection = { url: board.url, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 };
    const queue = new Queue(name, { connection, ...(board.prefix ? { prefix: board.prefix } : {}) });
    queue.on('error', () => {});
    opened.push(queue);
    onRedis.set(name, queue);
    addToBoard?.(queue);
  };
  const lookForQueues = async () => {
    if (!board || Date.now() - lastLook < 3000) return;
    lastLook = Date.now();
    scanner ??= new Redis(board.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 }).on('error', () => {});
    if (scanner.status === 'wait') await scanner.connect();
    const names = await discoverQueueNames(scanner, board.prefix ?? 'bull');
    for (const name of names) openOnRedis(name);
  };
  if (board) {
    for (const name of [workflowRunsQueue, ...board.queues]) openOnRedis(name);
    const adapter = new HonoAdapter(serveStatic);
    adapter.setBasePath('/queues/board');
    const readOnlyMode = !options.allowQueueActions;
    const created = createBullBoard({ queues: [...onRedis.values()].map((queue) => new BullMQAdapter(queue, { readOnlyMode })), serverAdapter: adapter });
    addToBoard = (queue) => created.addQueue(new BullMQAdapter(queue, { readOnlyMode }));
    // bull-board's queue list comes from its API: look for new queues before it answers.
    app.use('/queues/board/api/*', async (_c, next) => {
      await lookForQueues().catch(() => {});
      await next();
    });
    app.route('/queues/board', adapter.registerPlugin());
  }

  app.get('/queues', async (c) => {
    await lookForQueues().catch((error: Error) => {
      throw new QueueUnavailableError('(any)', maskRedisUrl(board!.url), 'be listed', { cause: error });
    });
    const counted = await Promise.all([
      ...(options.queues ?? [])
        .filter(({ name }) => !onRedis.has(name))
        .map(async ({ name, queue }) => ({ name, kind: queueKind(name), counts: await queue.counts() })),
      ...[...onRedis].map(async ([name, queue]) => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed').catch((error: Error) => {
          throw new QueueUnavailableError(name, maskRedisUrl(board!.url), 'count its jobs', { cause: error });
        });
        return {
          name,
          kind: queueKind(name),
          counts: {
            waiting: counts.waiting ?? 0,
            active: counts.active ?? 0,
            delayed: counts.delayed ?? 0,
            completed: counts.completed ?? 0,
            failed: counts.failed ?? 0,
          },
        };
      }),
    ]);
    return c.html(
      queuesPage(
        counted.sort((a, b) => a.name.localeCompare(b.name)),
        Boolean(board),
      ),
    );
  });

  return {
    app,
    token,
    close: async () => {
      live.close();
      scanner?.disconnect();
      // Bounded: closing a queue whose Redis is gone waits for it otherwise.
      await Promise.all(
        opened.map(async (queue) => {
          if (!(await settle(queue.close(), 3000))) await queue.disconnect().catch(() => {});
        }),
      );
    },
  };
}

/**
 * A page that says what went wrong instead of a bare 500: when Redis (the store or the queues)
 * does not answer, a 503 that names it and says what to do; the process stays up and the same
 * page works again once Redis is back.
 */
function errorPage(c: Context, error: Error): Response {
  if (isTroupeError(error) && (error.code === 'store_unavailable' || error.code === 'queue_unavailable')) {
    const writing = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    c.header('Retry-After', '5');
    return c.html(
      page(
        'Redis does not answer',
        `<p>${escapeHtml(error.message)}</p>
<p><strong>What to do:</strong> start Redis, or point REDIS_URL at one that runs, then reload this page: the dashboard keeps running and shows everything again as soon as Redis answers.${writing ? ' <strong>Nothing was saved:</strong> send the form again then.' : ''}</p>`,
      ),
      503,
    );
  }
  process.stderr.write(`[troupe] dashboard: ${c.req.method} ${c.req.path} failed: ${error.stack ?? error.message}\n`);
  const shown = isTroupeError(error) ? error.message : 'an unexpected error; its details are in the output of the dashboard process.';
  return c.html(page('Something went wrong', `<p>${escapeHtml(shown)}</p><p><a href="/">Back to the dashboard</a></p>`), 500);
}

function describeJsonError(raw: string): string {
  try {
    JSON.parse(raw);
    return 'valid';
  } catch (error) {
    return (error as Error).message;
  }
}

/** Whether `promise` settles within `ms` (its outcome is ignored). */
async function settle(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Serves the dashboard on `host:port` (port 0 picks a free one); resolves once it listens. */
export async function startDashboard(options: DashboardOptions & { port?: number }): Promise<{ url: string; token: string; close(): Promise<void> }> {
  const host = options.host ?? '127.0.0.1';
  const dashboard = createDashboard({ ...options, host });
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: dashboard.app.fetch, port: options.port ?? 4000, hostname: host }, (info: AddressInfo) => {
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
        token: dashboard.token,
        close: async () => {
          // A browser keeps idle keep-alive connections and live pages' event streams open, and
          // `close` alone waits for them: end the streams, drop every connection, so that
          // stopping takes moments, not the browser's idle timeout.
          const closed = new Promise<void>((done) => server.close(() => done()));
          const streamsEnded = dashboard.close();
          if ('closeAllConnections' in server) server.closeAllConnections();
          await settle(closed, 3000);
          await streamsEnded;
        },
      });
    });
    // The queues opened for bull-board would keep a dashboard that never listened alive.
    server.once('error', (error) => void dashboard.close().finally(() => reject(error)));
  });
}
