// A crew run watched in Debian's chromium while it goes on: it appears in /runs as running, its
// page updates itself (no reload) when the held model call is let go and the run finishes, a
// model call opens to the exact messages the model received, and a tool output's `<script>` is
// text. The page's screenshot is saved under test-artifacts/dashboard/ (CI keeps the folder).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, defineTool } from 'troupe';
import { startDashboard } from 'troupe/dashboard';
import { reply, scriptedModel } from 'troupe/testing';
import { sequentialCrew } from '../../src/crew/sequential.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { recordRun } from '../../src/workflow/run-record.js';
import { browserAvailable, chromiumArgs, chromiumPath } from '../support/browser.js';

const artifacts = join(process.cwd(), 'test-artifacts', 'dashboard');
const storefrontText = '<script>alert("owned")</script><p>Cat beds, 20 USD</p>';

describe('a crew run in the dashboard, live', () => {
  it.runIf(browserAvailable())(
    'appears as running, finishes on its page without a reload, and its model call opens to the messages the model received',
    async () => {
      mkdirSync(artifacts, { recursive: true });
      const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'troupe-crew-live-')), 'state.db') });
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      let heldCallStarted: () => void = () => {};
      const secondCallStarted = new Promise<void>((resolve) => (heldCallStarted = resolve));
      const storefront = defineTool({
        name: 'fetch_storefront',
        description: 'Fetches the storefront page.',
        input: z.object({ url: z.string() }),
        run: () => storefrontText,
      });
      // The second model call waits for the test: the run is in progress while the browser watches.
      const model = scriptedModel(async (_request, index) => {
        if (index === 0) return reply.toolCall('fetch_storefront', { url: 'https://shop.example' });
        heldCallStarted();
        await held;
        return reply.finish({ result: 'Cat beds cost 20 USD.' });
      });
      const shopper = new Agent({
        name: 'shopper',
        description: 'Looks up prices.',
        instructions: 'You look up prices.',
        tools: [storefront],
        model,
      });
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
      const dashboard = await startDashboard({ store, port: 0, liveIntervalMs: 250 });
      const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
      try {
        await secondCallStarted;
        const page = await browser.newPage();
        const dialogs: string[] = [];
        page.on('dialog', (dialog) => {
          dialogs.push(dialog.message());
          void dialog.dismiss();
        });

        // The runs list shows the crew run as running.
        await page.goto(`${dashboard.url}/runs`);
        const row = page.locator('main tr', { has: page.locator(`a[href="/runs/${recorder.id}"]`) });
        await expect.poll(() => row.locator('.state').innerText(), { timeout: 60_000 }).toBe('running');
        expect(await row.innerText()).toContain('prices');

        // Its page, open while the second model call is held.
        await page.click(`a[href="/runs/${recorder.id}"]`);
        await page.waitForURL(new RegExp(`/runs/${recorder.id}$`));
        await page.waitForSelector('html[data-live="connected"]');
        expect(await page.locator('main p .state').first().innerText()).toBe('running');
        // A mark on this document: it is still there after the update, so the page was not reloaded.
        await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));

        release();
        const result = await finished;
        expect(result.status).toBe('finished');
        await expect.poll(() => page.locator('main p .state').first().innerText(), { timeout: 60_000 }).toBe('finished');
        expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
        expect(Number(await page.getAttribute('html', 'data-live-updates'))).toBeGreaterThan(0);

        // Both model calls are on the timeline; the second opens to what the model was sent then.
        const calls = page.locator('main details.model-call');
        await expect.poll(() => calls.count(), { timeout: 60_000 }).toBe(2);
        const second = calls.nth(1);
        expect(await second.locator('h3', { hasText: 'Messages sent' }).isVisible()).toBe(false);
        await second.locator('summary').click();
        await expect.poll(() => second.locator('h3', { hasText: 'Messages sent' }).isVisible()).toBe(true);
        const shown = await second.innerText();
        const sent = model.calls[1]!.messages;
        const task = sent.find((message) => message.role === 'user');
        expect(task?.content).toContain('Find the price of cat beds.');
        // The messages are shown as indented JSON: each text is there exactly, JSON-quoted.
        expect(shown).toContain(JSON.stringify(task!.content));
        expect(shown).toContain(JSON.stringify(storefrontText));

        // The tool's output holds markup: it is text in the page, never a script.
        const tool = page.locator('main details.tool-call').first();
        await tool.locator('summary').click();
        expect(await tool.innerText()).toContain(storefrontText);
        expect(await page.locator('main script').count()).toBe(0);
        expect(dialogs).toEqual([]);
        await page.screenshot({ path: join(artifacts, 'crew-run.png'), fullPage: true });
        await page.close();
      } finally {
        release();
        await browser.close();
        await dashboard.close();
        await store.close();
      }
    },
    180_000,
  );
});
