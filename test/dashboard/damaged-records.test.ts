import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { claim, codeTask, defineWorkflow } from 'troupe';
import { FileStore } from 'troupe/store';
import { createDashboard } from 'troupe/dashboard';

// One damaged document must not take a page down, nor vanish from it without a word.
describe('the dashboard with a damaged record', () => {
  it('lists the runs and reviews it can read and names the damaged review and where it is', async () => {
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-damaged-')) });
    const doc = z.object({ text: z.string() });
    const workflow = defineWorkflow({
      name: 'damaged-check',
      input: doc,
      tasks: [
        codeTask({
          name: 'pay',
          input: doc,
          output: z.string(),
          run: ({ text }) => claim(`pay ${text}`, [{ source: 'invoice', quote: text }]),
          policy: { risk: 'high' },
        }),
      ],
      edges: [],
    });
    const { runId } = await workflow.run(
      [
        { id: 'a', input: { text: '10 USD' } },
        { id: 'b', input: { text: '20 USD' } },
      ],
      { store },
    );
    const { items } = await store.list('reviews');
    const damaged = items[0]!.id;
    writeFileSync(store.where('reviews', damaged), '{"format":1,"version":1,"value":{"id":');

    const { app } = createDashboard({ store, host: '127.0.0.1' });
    const get = async (path: string) => {
      const response = await app.request(`http://127.0.0.1${path}`, { headers: { host: '127.0.0.1' } });
      return { status: response.status, body: await response.text() };
    };
    const reviews = await get('/reviews');
    expect(reviews.status).toBe(200);
    expect(reviews.body).toContain(items[1]!.id);
    expect(reviews.body).toContain('1 stored record is damaged and not shown');
    expect(reviews.body).toContain(`The reviews record &quot;${damaged}&quot; at ${store.where('reviews', damaged)} is corrupt`);
    const runs = await get('/');
    expect(runs.status).toBe(200);
    expect(runs.body).toContain(runId);
    expect(runs.body).toContain('1 stored record is damaged and not shown');
    await store.close();
  });
});
