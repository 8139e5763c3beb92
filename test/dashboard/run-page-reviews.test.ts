// A workflow run's page shows its reviews on the timeline, from the review records: when a person
// was asked, and who decided, when and with what note, as soon as the decision is recorded (before
// the run applies it).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { claim, codeTask, decideReview, defineWorkflow, listReviews } from 'troupe';
import { FileStore } from 'troupe/store';
import { createDashboard } from 'troupe/dashboard';

const shown = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

describe("a workflow run page's timeline", () => {
  it('shows when each review asked a person and who decided it, when, with the note and corrected value', async () => {
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-run-page-reviews-')) });
    const workflow = defineWorkflow({
      name: 'refunds',
      input: z.object({ amount: z.number() }),
      tasks: [
        codeTask({
          name: 'refund',
          input: z.object({ amount: z.number() }),
          output: z.object({ amount: z.number() }),
          run: ({ amount }) => claim({ amount }, [{ source: 'ticket', quote: `${amount} USD` }]),
          policy: { risk: 'high' },
        }),
      ],
    });
    const { runId } = await workflow.run(
      [
        { id: 'a', input: { amount: 10 } },
        { id: 'b', input: { amount: 99 } },
      ],
      { store },
    );
    const reviews = await listReviews(store, { runId });
    const a = reviews.find((r) => r.item === 'a')!;
    const b = reviews.find((r) => r.item === 'b')!;
    const { app } = createDashboard({ store, host: '127.0.0.1' });
    const timeline = async () => {
      const response = await app.request(`http://127.0.0.1/runs/${runId}`, { headers: { host: '127.0.0.1' } });
      expect(response.status).toBe(200);
      const html = await response.text();
      return html.slice(html.indexOf('<h2>Timeline</h2>'));
    };

    const asked = await timeline();
    for (const review of [a, b]) {
      expect(asked).toContain(
        `<tr class="review-asked"><td>${shown(review.createdAt)}</td><td>${review.item}</td><td>refund</td><td><span class="state pending">review asked</span></td><td>${review.policy}</td><td><a href="/reviews#${review.id}">${review.id}</a> asks a person (output): `,
      );
    }
    expect(asked).not.toContain('review-decided');

    // Decided (dated after the run, so last on the timeline), not yet applied: the page shows the decisions already.
    const decidedAt = Date.UTC(2030, 0, 2, 3, 4, 5);
    await decideReview(store, a.id, { approved: true, by: 'ana', note: 'refund <b>ok</b>', value: { amount: 12 } }, decidedAt);
    await decideReview(store, b.id, { approved: false, by: 'bo' }, decidedAt + 1000);
    const decided = await timeline();
    expect(decided).toContain(
      `<tr class="review-decided"><td>2030-01-02 03:04:05</td><td>a</td><td>refund</td><td><span class="state approved">approved</span></td><td><span class="muted">by ana</span></td><td><a href="/reviews#${a.id}">${a.id}</a> approved by ana: “refund &lt;b&gt;ok&lt;/b&gt;”<div class="muted">corrected value</div><pre class="value">{\n  &quot;amount&quot;: 12\n}</pre></td></tr>`,
    );
    expect(decided).toContain(
      `<tr class="review-decided"><td>2030-01-02 03:04:06</td><td>b</td><td>refund</td><td><span class="state rejected">rejected</span></td><td><span class="muted">by bo</span></td><td><a href="/reviews#${b.id}">${b.id}</a> rejected by bo</td></tr>`,
    );
    // In time order: the decisions (dated later) come after the requests and the transitions.
    expect(decided.lastIndexOf('review-asked')).toBeLessThan(decided.indexOf('review-decided'));
    await store.close();
  });
});
