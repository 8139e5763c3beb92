// Queued runs through the library API, on the embedded parts (the SQLite store and the in-process
// queue): workflow.enqueue records the run and queues its items, serveWorkflowRuns works them,
// the run's status follows its items, and a review is applied after requeueRun. The same code on
// Redis with `troupe worker` processes is tested in test/reliability/workflow-workers.test.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { codeTask, ConfigurationError, decideReview, defineWorkflow, humanTask, listReviews, type StateStore } from 'troupe';
import { SqliteStore } from 'troupe/store';
import { InProcessQueue, requeueRun, serveWorkflowRuns, workflowRunsQueue } from 'troupe/workers';
import { scriptedModel } from 'troupe/testing';
import { listItems, loadRun, readTransitions } from '../../src/workflow/run-state.js';
import { readJournal } from '../../src/queue/queue-journal.js';

const amount = z.object({ amount: z.number() });
const check = codeTask({ name: 'check', input: amount, output: amount, run: (input) => input });
const pay = codeTask({ name: 'pay', input: amount, output: z.string(), run: ({ amount }) => `paid ${amount}` });
const payments = defineWorkflow({ name: 'payments', input: amount, tasks: [check, pay] });
const approvedPayments = defineWorkflow({
  name: 'approved-payments',
  input: amount,
  tasks: [check, humanTask({ name: 'approve', input: amount, output: amount, question: ({ amount }) => `Pay ${amount}?` }), pay],
});

let dir: string;
let store: StateStore;
let queue: InProcessQueue;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-queued-'));
  store = new SqliteStore({ path: join(dir, 'state.db') });
  queue = new InProcessQueue({ name: workflowRunsQueue });
});
afterEach(async () => {
  await queue.close({ graceMs: 0 });
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a queued workflow run (workflow.enqueue, serveWorkflowRuns)', () => {
  it('is worked by the serving side; the run is running until its items end, and every step names the worker', async () => {
    const items = [10, 20, 30].map((n, i) => ({ id: `p${i + 1}`, input: { amount: n } }));
    const started = await payments.enqueue(items, { store, queue, runId: 'run-q1' });
    expect(started).toEqual({ runId: 'run-q1', queued: 3 });
    expect((await loadRun(store, 'run-q1'))?.status).toBe('running');
    expect((await loadRun(store, 'run-q1'))?.queued).toEqual({});

    await serveWorkflowRuns(queue, { store, workflow: () => payments, worker: 'worker-a', concurrency: 2 });
    await queue.waitUntilIdle({ timeoutMs: 30_000 });
    const run = await loadRun(store, 'run-q1');
    expect(run?.status).toBe('done');
    expect(run?.counts).toEqual({ accepted: 3 });
    const transitions = await readTransitions(store, 'run-q1');
    expect(new Set(transitions.filter((transition) => transition.task).map((transition) => transition.worker))).toEqual(new Set(['worker-a']));
    expect((await listItems(store, 'run-q1')).map((item) => item.tasks['pay']?.output)).toEqual(['paid 10', 'paid 20', 'paid 30']);
  });

  it('waits for a person without holding a worker; requeueRun after each decision goes on', async () => {
    await approvedPayments.enqueue(
      [
        { id: 'small', input: { amount: 50 } },
        { id: 'large', input: { amount: 500 } },
      ],
      { store, queue, runId: 'run-q2' },
    );
    await serveWorkflowRuns(queue, { store, workflow: () => approvedPayments });
    await queue.waitUntilIdle({ timeoutMs: 30_000 });
    expect((await loadRun(store, 'run-q2'))?.status).toBe('awaiting-review');
    const reviews = await listReviews(store, { runId: 'run-q2', status: 'pending' });
    expect(reviews.map((review) => review.item).sort()).toEqual(['large', 'small']);

    // One decided: both waiting items are queued again; the undecided one keeps waiting.
    await decideReview(store, reviews.find((review) => review.item === 'small')!.id, { approved: true, by: 'cfo' });
    expect(await requeueRun(store, queue, 'run-q2')).toBe(2);
    await queue.waitUntilIdle({ timeoutMs: 30_000 });
    expect((await loadRun(store, 'run-q2'))?.counts).toEqual({ accepted: 1, 'awaiting-review': 1 });

    await decideReview(store, reviews.find((review) => review.item === 'large')!.id, { approved: true, by: 'cfo' });
    expect(await requeueRun(store, queue, 'run-q2')).toBe(1);
    await queue.waitUntilIdle({ timeoutMs: 30_000 });
    const run = await loadRun(store, 'run-q2');
    expect(run?.status).toBe('done');
    expect((await listItems(store, 'run-q2')).map((item) => `${item.id} ${item.state} ${item.tasks['pay']?.output}`).sort()).toEqual([
      'large accepted paid 500',
      'small accepted paid 50',
    ]);
  });

  it('fails the item, with the reason, when its step job fails for good, so the run ends instead of waiting forever', async () => {
    await payments.enqueue([{ id: 'p1', input: { amount: 5 } }], { store, queue, runId: 'run-q5' });
    const failing = () => {
      throw new Error('the examples file is read-only');
    };
    await serveWorkflowRuns(queue, { store, workflow: () => payments, onTaskDone: failing, maxJobAttempts: 2 });
    await queue.waitUntilIdle({ timeoutMs: 30_000 });
    const run = await loadRun(store, 'run-q5');
    expect(run?.status).toBe('failed');
    const [item] = await listItems(store, 'run-q5');
    expect(item?.state).toBe('failed');
    expect(item?.reason).toBe('a worker gave up on its step after 2 attempts: the examples file is read-only');
  });

  it('fails the item, with the reason, when the queue gives up on its step because its workers died, so the run ends', async () => {
    const journalPath = join(dir, 'first', 'queue.json');
    const first = new InProcessQueue({ name: workflowRunsQueue, journalPath });
    await payments.enqueue([{ id: 'p1', input: { amount: 5 } }], { store, queue: first, runId: 'run-q6' });
    await first.close({ graceMs: 0 });
    // What the journal says when the process running the step dies during its fifth and last attempt.
    const [job] = readJournal(journalPath, workflowRunsQueue).jobs;
    const nextJournal = join(dir, 'next', 'queue.json');
    mkdirSync(join(dir, 'next'));
    writeFileSync(
      nextJournal,
      JSON.stringify({ schemaVersion: 1, queue: workflowRunsQueue, jobs: [{ ...job, state: 'active', attemptsMade: job!.attempts - 1 }] }),
    );

    const next = new InProcessQueue({ name: workflowRunsQueue, journalPath: nextJournal });
    try {
      await serveWorkflowRuns(next, { store, workflow: () => payments });
      await next.waitUntilIdle({ timeoutMs: 30_000 });
      expect((await loadRun(store, 'run-q6'))?.status).toBe('failed');
      const [item] = await listItems(store, 'run-q6');
      expect(item?.state).toBe('failed');
      expect(item?.reason).toBe('the queue gave up on its step: its process died during its last attempt (5 of 5)');
      expect(item?.tasks['pay']?.status).toBe('pending');
    } finally {
      await next.close({ graceMs: 0 });
    }
  });

  it('is continued with requeueRun, not resume; takes its model as a string; a run id is used once', async () => {
    await payments.enqueue([{ input: { amount: 1 } }], { store, queue, runId: 'run-q3' });
    await expect(payments.resume('run-q3', { store })).rejects.toThrow(/runs on workers .*requeueRun/);
    await expect(payments.enqueue([{ input: { amount: 1 } }], { store, queue, runId: 'run-q3' })).rejects.toThrow(/already exists/);
    const error = await payments.enqueue([{ input: { amount: 1 } }], { store, queue, model: scriptedModel([]) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).message).toContain('as a string');
    await payments.run([{ input: { amount: 1 } }], { store, runId: 'run-q4' });
    await expect(requeueRun(store, queue, 'run-q4')).rejects.toThrow(/runs in one process/);
  });
});
