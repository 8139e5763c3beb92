import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { claim, codeTask, defineWorkflow, listReviews, WorkGraph } from 'troupe';
import { FileStore, recordRun } from 'troupe/store';
import { InProcessQueue } from 'troupe/workers';
import { startDashboard } from 'troupe/dashboard';
import { browserAvailable, chromiumArgs, chromiumPath } from '../support/browser.js';
import { redisUrl, useRedis } from '../support/redis.js';

// Beside the console suite's screenshots (CI keeps the folder), named apart from them.
const shots = join(process.cwd(), 'test-artifacts', 'dashboard');
mkdirSync(shots, { recursive: true });

describe('the dashboard in a browser', { timeout: 120_000 }, async () => {
  const available = browserAvailable();
  const withRedis = await useRedis();
  let browser: Browser;
  let dashboard: { url: string; token: string; close(): Promise<void> };
  let store: FileStore;
  let runId: string;
  let agentRunId: string;

  beforeAll(async () => {
    if (!available) return;
    store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-dashboard-')) });
    const doc = z.object({ text: z.string() });
    const workflow = defineWorkflow({
      name: 'triage',
      input: doc,
      tasks: [
        codeTask({
          name: 'classify',
          input: doc,
          output: z.object({ kind: z.string(), text: z.string() }),
          run: ({ text }) => ({ kind: text.startsWith('URGENT') ? 'urgent' : 'normal', text }),
        }),
        codeTask({
          name: 'page-oncall',
          input: z.object({ kind: z.string(), text: z.string() }),
          output: z.string(),
          run: ({ text }) => claim(`paged: ${text}`, [{ source: 'alert', quote: text }]),
          policy: { risk: 'high' },
        }),
        codeTask({ name: 'file-ticket', input: z.object({ kind: z.string(), text: z.string() }), output: z.string(), run: ({ text }) => `ticket: ${text}` }),
      ],
      edges: [
        { from: 'classify', to: 'page-oncall', when: (c: { kind: string }) => c.kind === 'urgent', route: 'urgent' },
        { from: 'classify', to: 'file-ticket', when: (c: { kind: string }) => c.kind === 'normal', route: 'normal' },
      ],
    });
    runId = (
      await workflow.run(
        [
          { id: 'a', input: { text: 'URGENT: site down' } },
          { id: 'b', input: { text: 'typo on about page' } },
        ],
        { store },
      )
    ).runId;
    // An agent run recorded beside the workflow run: the first page lists runs of every kind.
    const recorder = recordRun(store, { kind: 'agent', name: 'greeter', input: 'Say hello.' });
    await recorder.finish({ status: 'finished', stopReason: 'final answer' });
    agentRunId = recorder.id;
    const queue = new InProcessQueue({ name: 'work-site' });
    const graph = new WorkGraph(
      {
        name: 'site',
        items: [
          { id: 'button', content: '<button>' },
          { id: 'page', dependsOn: ['button'], content: '<page>' },
          { id: 'styles', dependsOn: ['button', 'page'], content: 'css' },
        ],
      },
      { store, queue },
    );
    await graph.seed();
    dashboard = await startDashboard({
      store,
      port: 0,
      workGraphs: [graph],
      queues: [{ name: 'work-site', queue }],
      reviewer: 'tester',
      ...(withRedis ? { bullBoard: { url: redisUrl, prefix: 'troupe-dashboard-test', queues: ['work-site'] } } : {}),
    });
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
  });

  it.runIf(available)('opens on the recent runs of every kind and how many reviews wait', async () => {
    const page = await browser.newPage();
    await page.goto(dashboard.url);
    expect(await page.locator('main h1').innerText()).toBe('Recent runs');
    expect(await page.locator('main .reviews-waiting').innerText()).toBe('1 review waiting for a person');
    const rows = page.locator('main table.runs tbody tr');
    expect(await rows.count()).toBe(2);
    // Newest first: the agent run was recorded after the workflow run.
    expect(await rows.nth(0).innerText()).toMatch(new RegExp(`${agentRunId}\\s+agent\\s+greeter\\s+finished`));
    expect(await rows.nth(1).innerText()).toMatch(new RegExp(`${runId}\\s+workflow\\s+triage\\s+awaiting-review`));
    await page.click(`a[href="/runs/${agentRunId}"]`);
    expect(await page.locator('main h1').innerText()).toBe(`Run ${agentRunId}`);
    await page.goBack();
    await page.click('a[href="/runs"]:text("All runs")');
    expect(await page.locator('main h1').innerText()).toBe('Runs');
    // The header's name leads back to the first page from anywhere.
    await page.click('header a.home');
    expect(await page.locator('main h1').innerText()).toBe('Recent runs');
    await page.close();
  });

  it.runIf(available)('draws a run as a graph of its tasks, with its items and transitions', async () => {
    const page = await browser.newPage();
    await page.goto(dashboard.url);
    await page.click(`a[href="/runs/${runId}"]`);
    const nodes = page.locator('svg g.graph-node');
    expect(await nodes.count()).toBe(3);
    expect(await page.locator('svg g.graph-node[data-id="page-oncall"] text').allTextContents()).toEqual(['page-oncall', 'code: 1 waiting, 1 skipped']);
    expect(await page.locator('svg .edge-label').allTextContents()).toEqual(['urgent', 'normal']);
    expect(await page.locator('table').first().innerText()).toMatch(/a\s+awaiting-review review[\s\S]*b\s+accepted/);
    expect(await page.locator('body').innerText()).toContain('route urgent taken');
    await page.screenshot({ path: join(shots, 'workflow-graph.png'), fullPage: true });
    await page.close();
  });

  it.runIf(available)('a person approves a review from the page, and the decision is recorded', async () => {
    const page = await browser.newPage();
    await page.goto(`${dashboard.url}/reviews`);
    expect(await page.locator('tbody').first().innerText()).toMatch(/"page-oncall" is high-risk: approve its output before the item goes on/);
    await page.fill('form[action$="/approve"] input[name="note"]', 'on-call confirmed');
    await page.click('form[action$="/approve"] button');
    await page.waitForURL(/\/reviews#/);
    expect(await page.locator('body').innerText()).toMatch(/approved by tester: on-call confirmed/);
    const [review] = await listReviews(store, { runId });
    expect(review).toMatchObject({ status: 'approved', decision: { by: 'tester', note: 'on-call confirmed' } });
    await page.close();
  });

  it.runIf(available)('draws a work graph with its items and dependencies, and shows the queue', async () => {
    const page = await browser.newPage();
    await page.goto(`${dashboard.url}/work/site`);
    expect(await page.locator('svg g.graph-node').count()).toBe(3);
    expect(await page.locator('svg path.edge').count()).toBe(3);
    expect(await page.locator('body').innerText()).toContain('Quiet: no notification pending.');
    await page.screenshot({ path: join(shots, 'work-graph.png'), fullPage: true });
    await page.goto(`${dashboard.url}/queues`);
    expect(await page.locator('table').innerText()).toMatch(/work-site\s+work graph\s+0\s+0\s+0\s+0\s+0/);
    await page.close();
  });

  it.runIf(available && withRedis)('opens bull-board for queues on Redis, its scripts running under the Content-Security-Policy', async () => {
    const page = await browser.newPage();
    const refused: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
    });
    const response = await page.goto(`${dashboard.url}/queues/board`);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('text=work-site', { timeout: 60_000 });
    expect(await page.title()).toMatch(/Bull/i);
    // Only Google Fonts' stylesheet is refused (on purpose: no third-party calls); every script ran.
    expect(refused.filter((text) => !/fonts\.googleapis\.com/.test(text))).toEqual([]);
    await page.screenshot({ path: join(shots, 'bull-board-work-queues.png'), fullPage: true });
    await page.close();
  });

  it.runIf(available)('cannot be framed by another page', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${dashboard.url}/reviews`);
    expect(response!.headers()['x-frame-options']).toBe('DENY');
    expect(response!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.close();
  });
});
