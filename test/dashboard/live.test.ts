// Live pages without a browser: the script file the pages load, and the event stream that says
// when a page changed. The browser half is exercised in console.test.ts.
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { claim, codeTask, decideReview, defineWorkflow, listReviews } from 'troupe';
import { FileStore } from 'troupe/store';
import { InProcessQueue, serveWorkflowRuns, workflowRunsQueue } from 'troupe/workers';
import { loadRun } from '../../src/workflow/run-state.js';
import { startDashboard } from 'troupe/dashboard';
import { queueKind } from '../../src/dashboard/queue-discovery.js';

let store: FileStore;
let dashboard: { url: string; close(): Promise<void> };

beforeAll(async () => {
  store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-live-')) });
  const workflow = defineWorkflow({
    name: 'risky',
    input: z.object({ n: z.number() }),
    tasks: [
      codeTask({
        name: 'act',
        input: z.object({ n: z.number() }),
        output: z.number(),
        run: ({ n }) => claim(n, [{ source: 'test' }]),
        policy: { risk: 'high' },
      }),
    ],
  });
  await workflow.run([{ id: 'a', input: { n: 1 } }], { store, runId: 'live-1' });
  dashboard = await startDashboard({ store, port: 0, liveIntervalMs: 100 });
});

afterAll(async () => {
  await dashboard?.close();
  await store?.close();
});

describe('live pages', () => {
  it('every page loads the same-origin live script, stamped with its version', async () => {
    const page = await fetch(`${dashboard.url}/runs/live-1`);
    const html = await page.text();
    expect(html).toMatch(/<meta name="troupe-page" content="[\w-]{16}"><script src="\/assets\/live\.js" defer><\/script><\/head>/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = await fetch(`${dashboard.url}/assets/live.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await script.text()).toContain("new EventSource('/events?page='");
  });

  it('the event stream says "change" when the page it follows changes, and only then', async () => {
    const html = await (await fetch(`${dashboard.url}/reviews`)).text();
    const seen = /name="troupe-page" content="([\w-]+)"/.exec(html)![1]!;
    const received: string[] = [];
    let stop = () => {};
    const changed = new Promise<void>((resolve, reject) => {
      const req = request(`${dashboard.url}/events?page=${encodeURIComponent('/reviews')}&seen=${seen}`, (res) => {
        expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          received.push(chunk);
          if (chunk.startsWith(': live')) {
            // Open, and nothing changed yet: decide the review the page shows.
            void listReviews(store, { runId: 'live-1' }).then(([review]) => decideReview(store, review!.id, { approved: true, by: 'tester' }));
          }
          if (chunk.includes('event: change')) resolve();
        });
      });
      req.on('error', reject);
      stop = () => req.destroy();
      req.end();
    });
    await changed;
    stop();
    expect(received[0]).toBe(': live\n\n');
    expect(received.filter((chunk) => chunk.includes('event: change'))).toHaveLength(1);
  });

  it('refuses to follow what is not a dashboard page', async () => {
    for (const page of ['/events', 'http://elsewhere.example/', '//elsewhere.example/', '/queues/board/api/queues']) {
      const response = await fetch(`${dashboard.url}/events?page=${encodeURIComponent(page)}`);
      expect(response.status, page).toBe(400);
    }
  });

  it('a review approved in the page puts a run on workers back on the workflow-runs queue, and it finishes', async () => {
    const queue = new InProcessQueue({ name: workflowRunsQueue });
    const amount = z.object({ amount: z.number() });
    const pay = defineWorkflow({
      name: 'pay',
      input: amount,
      tasks: [
        codeTask({
          name: 'pay',
          input: amount,
          output: z.string(),
          run: ({ amount }) => claim(`paid ${amount}`, [{ source: 'invoice' }]),
          policy: { risk: 'high' },
        }),
      ],
    });
    const onWorkers = await startDashboard({ store, port: 0, workflowRuns: queue });
    try {
      await pay.enqueue([{ id: 'inv', input: { amount: 40 } }], { store, queue, runId: 'live-q' });
      await serveWorkflowRuns(queue, { store, workflow: () => pay });
      await queue.waitUntilIdle({ timeoutMs: 30_000 });
      expect((await loadRun(store, 'live-q'))?.status).toBe('awaiting-review');
      const [review] = await listReviews(store, { runId: 'live-q' });
      const response = await fetch(`${onWorkers.url}/reviews/${review!.id}/approve`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: onWorkers.url, 'content-type': 'application/x-www-form-urlencoded', 'x-troupe-token': onWorkers.token },
        body: 'note=ok',
      });
      expect(response.status).toBe(303);
      await queue.waitUntilIdle({ timeoutMs: 30_000 });
      expect((await loadRun(store, 'live-q'))?.status).toBe('done');
    } finally {
      await onWorkers.close();
      await queue.close({ graceMs: 0 });
    }
  });

  it('names what each Troupe queue carries', () => {
    expect(['workflow-runs', 'work-site', 'troupe-trigger-orders', 'emails'].map(queueKind)).toEqual(['workflow', 'work graph', 'handler trigger', 'other']);
  });
});
