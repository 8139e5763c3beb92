import { describe, expect, it } from 'vitest';
import { defineConfiguration, defineTool, Handler, schedule, type HandlerOutcome } from 'troupe';
import { handleQueue, InProcessQueue } from 'troupe/workers';
import { reply, scriptedModel } from 'troupe/testing';
import { z } from 'zod';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from 'troupe/store';

const noted: string[] = [];
const note = defineTool({ name: 'note', description: 'Notes a line.', input: z.object({ line: z.string() }), run: ({ line }) => (noted.push(line), 'ok') });

describe('trigger sources', () => {
  it('queue messages become queue triggers for the configuration that matches them', async () => {
    const configuration = defineConfiguration({
      name: 'tickets',
      trigger: { kind: 'queue', source: 'tickets', match: { 'data.priority': 'high' } },
      prompt: 'Note the ticket.',
      tools: ['note'],
    });
    const model = scriptedModel((request) =>
      request.messages.length === 1
        ? reply.toolCall('note', { line: JSON.parse(String(request.messages[0]!.content).split('\n\n')[1]!).title })
        : reply.finish({ answer: 'noted' }),
    );
    const handler = new Handler({ configurations: [configuration], tools: [note], model });
    const queue = new InProcessQueue({ name: 'tickets' });
    const outcomes: HandlerOutcome[] = [];
    await handleQueue(handler, queue, { source: 'tickets', onOutcome: (outcome) => outcomes.push(outcome) });
    await queue.add('ticket', { title: 'Checkout is down', priority: 'high' });
    await queue.add('ticket', { title: 'Typo on the About page', priority: 'low' });
    await queue.waitUntilIdle({ timeoutMs: 5_000 });
    await queue.close();

    expect(outcomes.map((o) => o.status).sort()).toEqual(['done', 'no-match']);
    expect(outcomes.find((o) => o.status === 'no-match')!.why).toBe(
      'no configuration handles this queue trigger: tickets (data.priority is "low", not "high")',
    );
    expect(noted).toContain('Checkout is down');
  });

  it('a message the queue gives up on (its process died during its last attempt) gets a failed outcome instead of vanishing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-trigger-'));
    try {
      const configuration = defineConfiguration({ name: 'tickets', trigger: { kind: 'queue', source: 'tickets' }, prompt: 'Note the ticket.' });
      const journalPath = join(dir, 'queue.json');
      // What a process killed while handling message m-1 on its only attempt leaves behind.
      const job = {
        id: 'm-1',
        name: 'ticket',
        data: { title: 'Checkout is down' },
        state: 'active',
        attempts: 1,
        attemptsMade: 0,
        priority: 0,
        runAt: 0,
        addedAt: 0,
      };
      writeFileSync(journalPath, JSON.stringify({ schemaVersion: 1, queue: 'tickets', jobs: [job] }));
      const store = new SqliteStore({ path: join(dir, 'state.db') });
      const model = scriptedModel(() => {
        throw new Error('the handler must not run a message given up on');
      });
      const handler = new Handler({ configurations: [configuration], tools: [], model, store });
      const queue = new InProcessQueue({ name: 'tickets', journalPath });
      const outcomes: HandlerOutcome[] = [];
      await handleQueue(handler, queue, { source: 'tickets', onOutcome: (outcome) => outcomes.push(outcome) });
      await queue.waitUntilIdle({ timeoutMs: 5_000 });
      await queue.close();
      const why = 'the queue gave up on this message: its process died during its last attempt (1 of 1)';
      expect(outcomes).toMatchObject([{ trigger: 'm-1', status: 'failed', why, runId: 'm-1.abandoned' }]);
      expect((await store.get('handler-runs', 'm-1.abandoned'))?.value).toMatchObject({ status: 'failed', why });
      // A message id that is no store name (a space, a slash) still gets its record, under a name made from it.
      const odd = await handler.abandon({ kind: 'queue', id: 'ticket 7/b', source: 'tickets', data: {}, receivedAt: 0 }, 'gone');
      expect(odd.runId).toMatch(/^abandoned-[0-9a-f]{24}$/);
      expect((await store.get('handler-runs', odd.runId))?.value).toMatchObject({ trigger: 'ticket 7/b', status: 'failed' });
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a schedule calls the handler on every tick, never two runs at once', async () => {
    const configuration = defineConfiguration({ name: 'nightly', trigger: { kind: 'schedule', source: 'nightly' }, prompt: 'Report.' });
    const model = scriptedModel(() => reply.finish({ answer: 'report' }), { latencyMs: 30 });
    const handler = new Handler({ configurations: [configuration], tools: [], model });
    const outcomes: HandlerOutcome[] = [];
    const timer = schedule(handler, { name: 'nightly', everyMs: 10, onOutcome: (outcome) => outcomes.push(outcome) });
    for (let waited = 0; outcomes.length < 2 && waited < 10_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    await timer.stop();
    expect(outcomes.length).toBeGreaterThanOrEqual(2);
    expect(outcomes.every((o) => o.status === 'done' && o.configuration === 'nightly')).toBe(true);
    expect(timer.skipped()).toBeGreaterThan(0);
    // Each tick is keyed by its time, so a restarted process does not reuse an earlier tick's id.
    const [first, second] = outcomes.map((o) => o.trigger);
    expect(first).toMatch(/^nightly-\d+$/);
    expect(second).toMatch(/^nightly-\d+$/);
    expect(Number(second!.slice('nightly-'.length))).toBeGreaterThan(Number(first!.slice('nightly-'.length)));
  });
});
