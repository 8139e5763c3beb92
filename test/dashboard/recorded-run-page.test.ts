// The dashboard's pages of recorded runs over real HTTP: the runs list with every kind and its
// filters, and a crew run's page whose model calls open to their messages, with a tool's output
// holding markup shown as text.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, defineTool } from 'troupe';
import { startDashboard } from 'troupe/dashboard';
import { reply, scriptedModel } from 'troupe/testing';
import { sequentialCrew } from '../../src/crew/sequential.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { recordRun } from '../../src/workflow/run-record.js';
import { recentRunsPage, recentRunsShown } from '../../src/dashboard/recorded-run-page.js';

describe('the recorded run pages', { timeout: 120_000 }, () => {
  it('lists a crew run with its cost and duration, filters by kind and status, and shows its timeline with messages and escaped tool output', async () => {
    const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'troupe-recorded-page-')), 'state.db') });
    const storefront = defineTool({
      name: 'fetch_storefront',
      description: 'Fetches the storefront page.',
      input: z.object({ url: z.string() }),
      run: () => '<script>alert("owned")</script><p>Cat beds, 20 USD</p>',
    });
    const shopper = new Agent({
      name: 'shopper',
      description: 'Looks up prices.',
      instructions: 'You look up prices.',
      tools: [storefront],
      model: scriptedModel([reply.toolCall('fetch_storefront', { url: 'https://shop.example' }), reply.finish({ result: 'Cat beds cost 20 USD.' })]),
    });
    const crew = sequentialCrew({
      name: 'prices',
      agents: [shopper],
      tasks: [{ name: 'price', description: 'Find the price of cat beds.', expectedOutput: 'The price.', agent: 'shopper' }],
    });
    const recorder = recordRun(store, { kind: 'crew', name: 'prices', input: 'How much is a cat bed?' });
    const result = await crew.run('How much is a cat bed?', { trace: recorder.trace, runId: recorder.id });
    await recorder.finish({ status: result.status === 'finished' ? 'finished' : 'failed', stopReason: result.stop.reason });
    const other = recordRun(store, { kind: 'agent', name: 'greeter' });
    await other.finish({ status: 'failed', stopReason: 'no key' });

    const dashboard = await startDashboard({ store, port: 0 });
    try {
      const get = async (path: string) => {
        const response = await fetch(`${dashboard.url}${path}`);
        return { status: response.status, body: await response.text() };
      };
      const all = await get('/runs');
      expect(all.status).toBe(200);
      expect(all.body).toContain(`href="/runs/${recorder.id}"`);
      expect(all.body).toContain(`href="/runs/${other.id}"`);
      expect(all.body).toMatch(
        /<td>crew<\/td><td><a href="\/runs\?name=prices">prices<\/a><\/td><td><span class="state finished">finished<\/span><\/td><td>[\d :-]+<\/td><td>[\d.]+ s<\/td><td>\$\d+\.\d{4}<\/td>/,
      );
      const crews = await get('/runs?kind=crew');
      expect(crews.body).toContain(recorder.id);
      expect(crews.body).not.toContain(other.id);
      const failed = await get('/runs?status=failed');
      expect(failed.body).toContain(other.id);
      expect(failed.body).not.toContain(recorder.id);

      const shown = await get(`/runs/${recorder.id}`);
      expect(shown.status).toBe(200);
      expect(shown.body).toContain('<details class="model-call">');
      expect(shown.body).toContain('<h3>Messages sent</h3>');
      // The first call's messages hold the task, as sent to the model.
      expect(shown.body).toContain('Find the price of cat beds.');
      expect(shown.body).toContain('Cat beds cost 20 USD.');
      expect(shown.body).toContain('<details class="tool-call">');
      expect(shown.body).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;');
      expect(shown.body).not.toContain('<script>alert');
      expect(shown.body).toContain('https://shop.example');

      // A workflow run id still reaches the workflow run page; an unknown id is a 404.
      expect((await get('/runs/run_nope')).status).toBe(404);
    } finally {
      await dashboard.close();
      await store.close();
    }
  });

  it('the first page lists the most recent runs and links to all of them', () => {
    const rows = Array.from({ length: recentRunsShown + 5 }, (_, i) => ({
      id: `run-${String(i).padStart(3, '0')}`,
      kind: i % 2 ? 'crew' : 'workflow',
      name: 'n',
      status: 'finished',
      startedAt: 1_700_000_000_000 - i * 1000,
    }));
    const html = recentRunsPage(rows, 0);
    expect(html.match(/<tr><td><a href="\/runs\/run-/g)).toHaveLength(recentRunsShown);
    expect(html).toContain(`run-${String(recentRunsShown - 1).padStart(3, '0')}`);
    expect(html).not.toContain(`run-${String(recentRunsShown).padStart(3, '0')}`);
    expect(html).toContain(`The ${recentRunsShown} most recent of ${recentRunsShown + 5} runs. <a href="/runs">All runs</a>`);
    expect(html).toContain('No review is waiting.');
  });
});
