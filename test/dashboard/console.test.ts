// The dashboard as an operator console, in Debian's chromium, on a real Redis with real runs in
// progress: a workflow run page that updates itself (server-sent events) while the run goes on, a
// review approved in the page that lets the waiting run finish, a crew run recorded on the same
// Redis that appears as running and finishes on its page without a reload, its model call opening
// to the exact messages sent, bull-board listing the jobs of the workflow-runs queue, a dashboard
// bound beyond loopback refusing a request without its token and letting in the printed address,
// a cross-site form refused, and a storefront page's `<script>` shown as text. Each page's
// screenshot is saved under test-artifacts/dashboard/ (CI keeps the folder).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, claim, codeTask, defineTool, defineWorkflow, listReviews, openStateStore, sequentialCrew, type JobQueue, type StateStore } from 'troupe';
import { loadRecordedRun, recordRun } from 'troupe/store';
import { openJobQueue, workflowRunsQueue } from 'troupe/workers';
import { startDashboard } from 'troupe/dashboard';
import { tokenAddress } from '../../src/dashboard/guard.js';
import { reply, scriptedModel } from 'troupe/testing';
import { Redis } from 'ioredis';
import { loadRun } from '../../src/workflow/run-state.js';
import { browserAvailable, chromiumArgs, chromiumPath } from '../support/browser.js';
import { deleteKeysUnder, redisUrl, useRedis } from '../support/redis.js';

const artifacts = join(process.cwd(), 'test-artifacts', 'dashboard');
const storefront = '<script>alert("pwned")</script> Summer sale: 20% off';

describe('the dashboard as a console, on Redis with runs in progress', async () => {
  const available = browserAvailable();
  const withRedis = await useRedis();
  const runs = available && withRedis;
  const prefix = `troupe-test-console-${randomBytes(4).toString('hex')}`;
  const backend = { kind: 'redis' as const, url: redisUrl, prefix };
  let browser: Browser;
  let dashboard: { url: string; token: string; close(): Promise<void> };
  let store: StateStore;
  let queue: JobQueue;
  let other: Server;
  let release: () => void = () => {};
  let finished: Promise<{ runId: string; status: string }>;
  let crew: ReturnType<typeof startHeldCrewRun> | undefined;
  const runId = `console-${randomBytes(3).toString('hex')}`;
  const queuedRunId = `queued-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    if (!runs) return;
    mkdirSync(artifacts, { recursive: true });
    store = await openStateStore({ backend });
    queue = await openJobQueue({ name: workflowRunsQueue, backend });
    const page = z.object({ url: z.string() });
    const fetched = new Promise<void>((resolve) => (release = resolve));
    const promote = defineWorkflow({
      name: 'promote',
      input: page,
      tasks: [
        // Holds until the test lets it go: the run is in progress while the browser watches it.
        codeTask({
          name: 'read-storefront',
          input: page,
          output: z.object({ url: z.string(), text: z.string() }),
          run: async ({ url }) => {
            await fetched;
            return claim({ url, text: storefront }, [{ source: url, quote: storefront }]);
          },
        }),
        codeTask({
          name: 'post-promotion',
          input: z.object({ url: z.string(), text: z.string() }),
          output: z.string(),
          run: ({ text }) => claim(`posted: ${text}`, [{ source: 'storefront', quote: text }]),
          policy: { risk: 'high' },
        }),
      ],
    });
    // Like `troupe run --wait`: the run waits in this process for the review and goes on once it is decided.
    finished = promote.run([{ id: 'shop', input: { url: 'https://shop.example/sale' } }], { store, runId, waitForReviews: { pollMs: 200 } });
    // Run alone (vitest -t), the review is never decided and the waiting run fails once the store closes.
    finished.catch(() => {});
    // A run on workers, with no worker yet: its jobs wait in the workflow-runs queue.
    const orders = defineWorkflow({
      name: 'orders',
      input: z.object({ n: z.number() }),
      tasks: [codeTask({ name: 'count', input: z.object({ n: z.number() }), output: z.number(), run: ({ n }) => n })],
    });
    await orders.enqueue(
      [
        { id: 'o1', input: { n: 1 } },
        { id: 'o2', input: { n: 2 } },
      ],
      { store, queue, runId: queuedRunId },
    );
    dashboard = await startDashboard({
      store,
      port: 0,
      reviewer: 'tester',
      workflowRuns: queue,
      bullBoard: { url: redisUrl, prefix, queues: [] },
      liveIntervalMs: 250,
    });
    // Another site, whose page posts a form to the dashboard.
    other = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(
        `<form method="post" action="${dashboard.url}/reviews/anything/approve"><input name="note" value="from elsewhere"><button id="go">Go</button></form>`,
      );
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.2', () => resolve()));
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  }, 120_000);

  afterAll(async () => {
    if (!runs) return;
    release();
    crew?.release();
    await crew?.finished.catch(() => {});
    await browser?.close();
    await dashboard?.close();
    await new Promise<void>((resolve) => (other ? other.close(() => resolve()) : resolve()));
    await queue?.close({ graceMs: 0 });
    await store?.close();
    await deleteKeysUnder(`${prefix}:`, redisUrl);
  });

  it.runIf(runs)(
    'a run page updates live while the run goes on, and a review approved in the page lets the run finish',
    async () => {
      const page = await browser.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await page.goto(`${dashboard.url}/runs/${runId}`);
      await page.waitForSelector('html[data-live="connected"]');
      expect(await page.locator('main').innerText()).toMatch(/shop\s+(received|routed)/);
      // A mark on this document: it is still there after the update, so the page was not reloaded.
      await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
      release();
      await page.locator('main', { hasText: 'awaiting-review' }).waitFor({ timeout: 60_000 });
      expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
      expect(Number(await page.getAttribute('html', 'data-live-updates'))).toBeGreaterThan(0);
      // The storefront's <script> is text in the outputs and evidence, never a script.
      const text = await page.locator('main').innerText();
      expect(text).toContain('<script>alert("pwned")</script> Summer sale');
      expect(await page.locator('main script').count()).toBe(0);
      await page.screenshot({ path: join(artifacts, 'run.png'), fullPage: true });

      const reviews = await browser.newPage();
      reviews.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await reviews.goto(`${dashboard.url}/reviews`);
      expect(await reviews.locator('tbody').first().innerText()).toContain('<script>alert("pwned")</script>');
      await reviews.screenshot({ path: join(artifacts, 'reviews.png'), fullPage: true });
      await reviews.fill('form[action$="/approve"] input[name="note"]', 'looks right');
      await reviews.click('form[action$="/approve"] button');
      await reviews.waitForURL(/\/reviews#/);
      expect(await reviews.locator('body').innerText()).toMatch(/approved by tester: looks right/);
      // The run waited for the decision (--wait) and now finishes.
      expect((await finished).status).toBe('done');
      // And the page still open on the run shows it, again without a reload.
      await page.locator('main p', { hasText: /promote done/ }).waitFor({ timeout: 60_000 });
      expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
      expect(await page.locator('main').innerText()).toMatch(/shop\s+accepted/);
      // Its timeline shows when the review asked a person and who decided it, with the note.
      const timeline = await page.locator('main table.timeline').innerText();
      expect(timeline).toMatch(/review asked\s+high-risk/);
      expect(timeline).toMatch(/approved\s+by tester\s+review_\S+ approved by tester: “looks right”/);
      await page.screenshot({ path: join(artifacts, 'run-done.png'), fullPage: true });
      expect(dialogs).toEqual([]);
      await Promise.all([page.close(), reviews.close()]);
    },
    180_000,
  );

  it.runIf(runs)(
    'a crew run recorded on Redis appears as running, finishes on its page without a reload, and its model call opens to the messages the model received',
    async () => {
      crew = startHeldCrewRun(store);
      await crew.heldCallStarted;
      // Recorded on Redis under this suite's prefix, where the dashboard reads it.
      const keys = new Redis(redisUrl);
      try {
        expect(await keys.exists(`${prefix}:doc:recorded-runs:${crew.id}`)).toBe(1);
      } finally {
        keys.disconnect();
      }
      const page = await browser.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });

      // The first page lists it as running, beside the workflow runs.
      await page.goto(dashboard.url);
      const row = page.locator('main tr', { has: page.locator(`a[href="/runs/${crew.id}"]`) });
      await expect.poll(() => row.locator('.state').innerText(), { timeout: 60_000 }).toBe('running');
      expect(await row.innerText()).toMatch(/crew\s+prices/);
      expect(await page.locator('main table.runs').innerText()).toMatch(new RegExp(`${runId}\\s+workflow\\s+promote`));
      await page.screenshot({ path: join(artifacts, 'runs.png'), fullPage: true });

      // Its page, open while the second model call is held.
      await page.click(`a[href="/runs/${crew.id}"]`);
      await page.waitForURL(new RegExp(`/runs/${crew.id}$`));
      await page.waitForSelector('html[data-live="connected"]');
      expect(await page.locator('main p .state').first().innerText()).toBe('running');
      // A mark on this document: it is still there after the update, so the page was not reloaded.
      await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));

      crew.release();
      expect((await crew.finished).status).toBe('finished');
      expect((await loadRecordedRun(store, crew.id))?.status).toBe('finished');
      await expect.poll(() => page.locator('main p .state').first().innerText(), { timeout: 60_000 }).toBe('finished');
      expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
      expect(Number(await page.getAttribute('html', 'data-live-updates'))).toBeGreaterThan(0);

      // Both model calls are on the timeline; the second opens to exactly what the model was sent then.
      const calls = page.locator('main details.model-call');
      await expect.poll(() => calls.count(), { timeout: 60_000 }).toBe(2);
      const second = calls.nth(1);
      const messages = second.locator('h3:text-is("Messages sent") + pre');
      expect(await messages.isVisible()).toBe(false);
      await second.locator('summary').click();
      await expect.poll(() => messages.isVisible()).toBe(true);
      const sent = crew.model.calls[1]!.messages;
      expect(sent.find((message) => message.role === 'user')?.content).toContain('Find the price of cat beds.');
      expect(await messages.innerText()).toBe(JSON.stringify(sent, null, 2));

      // The tool's output holds markup: it is text in the page, never a script.
      const tool = page.locator('main details.tool-call').first();
      await tool.locator('summary').click();
      expect(await tool.innerText()).toContain(crewStorefront);
      expect(await page.locator('main script').count()).toBe(0);
      expect(dialogs).toEqual([]);
      await page.screenshot({ path: join(artifacts, 'crew-run.png'), fullPage: true });
      await page.close();
    },
    180_000,
  );

  it.runIf(runs)(
    'a review form with bad JSON comes back with what was typed and why',
    async () => {
      const page = await browser.newPage();
      const id = `console-bad-${randomBytes(3).toString('hex')}`;
      const check = defineWorkflow({
        name: 'check',
        input: z.object({ n: z.number() }),
        tasks: [
          codeTask({
            name: 'risky',
            input: z.object({ n: z.number() }),
            output: z.number(),
            run: ({ n }) => claim(n, [{ source: 'test' }]),
            policy: { risk: 'high' },
          }),
        ],
      });
      await check.run([{ id: 'x', input: { n: 1 } }], { store, runId: id });
      const [review] = await listReviews(store, { runId: id });
      await page.goto(`${dashboard.url}/reviews`);
      const form = `#${review!.id} form[action$="/approve"]`;
      await page.fill(`${form} input[name="note"]`, 'fixed the amount');
      await page.fill(`${form} input[name="value"]`, '{"amount": 12,');
      const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click(`${form} button`)]);
      expect(response.status()).toBe(400);
      expect(await page.locator(`#${review!.id}`).innerText()).toMatch(/Not saved: the corrected value is not JSON/);
      expect(await page.inputValue(`${form} input[name="note"]`)).toBe('fixed the amount');
      expect(await page.inputValue(`${form} input[name="value"]`)).toBe('{"amount": 12,');
      expect((await listReviews(store, { runId: id }))[0]!.status).toBe('pending');
      await page.screenshot({ path: join(artifacts, 'review-kept.png'), fullPage: true });
      await page.close();
    },
    120_000,
  );

  it.runIf(runs)(
    '/queues counts every Troupe queue (a handler trigger queue found on Redis too), and bull-board lists its jobs',
    async () => {
      // A handler trigger's queue the dashboard was not told about: it finds it under the prefix.
      const trigger = await openJobQueue({ name: 'troupe-trigger-orders', backend });
      await trigger.add('trigger', { order: 7 });
      await trigger.close({ graceMs: 0 });
      const page = await browser.newPage();
      await page.goto(`${dashboard.url}/queues`);
      const table = await page.locator('main table').innerText();
      expect(table).toMatch(/troupe-trigger-orders\s+handler trigger\s+1\s+0\s+0/);
      expect(table).toMatch(/workflow-runs\s+workflow\s+2\s+0\s+0/);
      await page.screenshot({ path: join(artifacts, 'queues.png'), fullPage: true });
      await page.goto(`${dashboard.url}/queues/board/queue/${workflowRunsQueue}?status=waiting`);
      await page.waitForSelector(`text=${queuedRunId}.o1.v1`, { timeout: 60_000 });
      await page.waitForSelector(`text=${queuedRunId}.o2.v1`, { timeout: 60_000 });
      await page.screenshot({ path: join(artifacts, 'bull-board.png'), fullPage: true });
      expect((await loadRun(store, queuedRunId))?.status).toBe('running');
      await page.close();
    },
    120_000,
  );

  it.runIf(runs)(
    'bound beyond loopback, it refuses a request without the token and lets in the address printed with ?token=',
    async () => {
      const exposed = await startDashboard({ store, host: '0.0.0.0', port: 0 });
      // Bound to every IPv4 address, so reached here through loopback, as on any CI machine.
      const url = exposed.url.replace('//0.0.0.0:', '//127.0.0.1:');
      const context = await browser.newContext();
      const stranger = await browser.newContext();
      try {
        const page = await context.newPage();
        const refused = await page.goto(`${url}/runs/${queuedRunId}`);
        expect(refused!.status()).toBe(401);
        expect(await page.locator('main').innerText()).toMatch(
          /refused this request: this dashboard listens beyond this machine, so every request needs its token\. Open the address with \?token= that it printed/,
        );
        expect(await page.locator('main').innerText()).not.toContain(queuedRunId);
        await page.screenshot({ path: join(artifacts, 'token-refused.png'), fullPage: true });

        // The address `troupe dashboard` prints: the token moves into a cookie and out of the URL.
        const opened = await page.goto(tokenAddress(url, exposed.token));
        const first = opened!.request().redirectedFrom();
        expect(first?.url()).toBe(tokenAddress(url, exposed.token));
        expect((await first!.response())!.status()).toBe(303);
        expect(opened!.status()).toBe(200);
        expect(page.url()).toBe(`${url}/`);
        expect(await context.cookies(url)).toEqual([expect.objectContaining({ value: exposed.token, httpOnly: true, sameSite: 'Strict' })]);

        // Later pages need no ?token: the cookie carries it.
        const later = await page.goto(`${url}/runs/${queuedRunId}`);
        expect(later!.status()).toBe(200);
        expect(await page.locator('main h1').innerText()).toBe(`Run ${queuedRunId}`);
        expect(page.url()).not.toContain('token');
        // A browser that never opened the printed address is still refused.
        expect((await (await stranger.newPage()).goto(`${url}/runs/${queuedRunId}`))!.status()).toBe(401);
      } finally {
        await Promise.all([context.close(), stranger.close()]);
        await exposed.close();
      }
    },
    120_000,
  );

  it.runIf(runs)(
    'refuses a form posted from another site',
    async () => {
      const page = await browser.newPage();
      const { port } = other.address() as AddressInfo;
      await page.goto(`http://127.0.0.2:${port}/`);
      const [response] = await Promise.all([page.waitForResponse((r) => r.url().startsWith(dashboard.url)), page.click('#go')]);
      expect(response.status()).toBe(403);
      expect(await page.locator('body').innerText()).toMatch(/refused this request: the browser says this request came from another site/);
      await page.screenshot({ path: join(artifacts, 'cross-site-refused.png'), fullPage: true });
      await page.close();
    },
    120_000,
  );
});

const crewStorefront = '<script>alert("owned")</script><p>Cat beds, 20 USD</p>';

/**
 * A crew run recorded with `recordRun` on `store`, whose second model call waits for `release`:
 * the run is in progress while the browser watches it.
 */
function startHeldCrewRun(store: StateStore) {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let started: () => void = () => {};
  const heldCallStarted = new Promise<void>((resolve) => (started = resolve));
  const storefront = defineTool({
    name: 'fetch_storefront',
    description: 'Fetches the storefront page.',
    input: z.object({ url: z.string() }),
    run: () => crewStorefront,
  });
  const model = scriptedModel(async (_request, index) => {
    if (index === 0) return reply.toolCall('fetch_storefront', { url: 'https://shop.example' });
    started();
    await held;
    return reply.finish({ result: 'Cat beds cost 20 USD.' });
  });
  const shopper = new Agent({ name: 'shopper', description: 'Looks up prices.', instructions: 'You look up prices.', tools: [storefront], model });
  const crew = sequentialCrew({
    name: 'prices',
    agents: [shopper],
    tasks: [{ name: 'price', description: 'Find the price of cat beds.', expectedOutput: 'The price.', agent: 'shopper' }],
  });
  const recorder = recordRun(store, { kind: 'crew', name: 'prices', input: 'How much is a cat bed?' });
  const finished = crew.run('How much is a cat bed?', { trace: recorder.trace, runId: recorder.id }).then(async (result) => {
    await recorder.finish({ status: result.status === 'finished' ? 'finished' : 'failed', stopReason: result.stop.reason });
    return result;
  });
  return { id: recorder.id, model, heldCallStarted, release, finished };
}
