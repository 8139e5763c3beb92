import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobEvent, JobQueue } from '../../src/queue/index.js';
import { InvalidJobIdError, JobDataRejectedError, QueueIdleTimeoutError, UnrecoverableJobError } from '../../src/queue/index.js';

/** How each implementation makes a queue for one test, and removes what it left behind. */
export interface ContractTarget {
  open(name: string): JobQueue;
  cleanup?(name: string): Promise<void>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true; generous bounds, so slow machines do not fail the suite. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export const uniqueName = (label: string) => `test-${label}-${randomBytes(4).toString('hex')}`;

/**
 * The shared contract of `JobQueue`: every implementation runs these same cases (STYLE.md §3).
 * Timings are lower bounds only (a delay is never early); upper bounds are generous.
 */
export function jobQueueContract(label: string, target: ContractTarget): void {
  describe(`JobQueue contract: ${label}`, () => {
    const opened: { name: string; queue: JobQueue }[] = [];

    function open(): { queue: JobQueue; events: JobEvent[] } {
      const name = uniqueName(label);
      const queue = target.open(name);
      opened.push({ name, queue });
      const events: JobEvent[] = [];
      queue.onJobEvent((event) => events.push(event));
      return { queue, events };
    }

    afterEach(async () => {
      for (const { name, queue } of opened.splice(0)) {
        await queue.close({ graceMs: 500 });
        await target.cleanup?.(name);
      }
    });

    it('runs jobs with at most `concurrency` at once, and reaches it', async () => {
      const { queue } = open();
      for (let i = 0; i < 6; i++) await queue.add('work', { i });
      let current = 0;
      let max = 0;
      const done: number[] = [];
      await queue.process(
        async (job) => {
          current += 1;
          max = Math.max(max, current);
          await sleep(200);
          current -= 1;
          done.push((job.data as { i: number }).i);
        },
        { concurrency: 3 },
      );
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(done.sort()).toEqual([0, 1, 2, 3, 4, 5]);
      expect(max).toBe(3);
    });

    it('retries a failing job with backoff until it succeeds', async () => {
      const { queue, events } = open();
      const runs: { attempt: number; at: number }[] = [];
      await queue.process(async (job) => {
        runs.push({ attempt: job.attempt, at: Date.now() });
        if (job.attempt < 3) throw new Error(`flaky ${job.attempt}`);
      });
      await queue.add('flaky', { x: 1 }, { attempts: 3, backoff: { type: 'fixed', delayMs: 150 } });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(runs.map((run) => run.attempt)).toEqual([1, 2, 3]);
      for (let i = 1; i < runs.length; i++) expect(runs[i]!.at - runs[i - 1]!.at).toBeGreaterThanOrEqual(120);
      await waitFor(() => events.length === 3, 5000, 'three events');
      expect(events.map((event) => (event.type === 'job-fail' ? `fail:${event.attempt}:${event.willRetry}` : `complete:${event.attempt}`))).toEqual([
        'fail:1:true',
        'fail:2:true',
        'complete:3',
      ]);
      expect(await queue.counts()).toMatchObject({ completed: 1, failed: 0 });
    });

    it('fails a job for good once its attempts are used up', async () => {
      const { queue, events } = open();
      let calls = 0;
      await queue.process(async () => {
        calls += 1;
        throw new Error('always broken');
      });
      await queue.add('broken', {}, { attempts: 2, backoff: { type: 'exponential', delayMs: 50 } });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(calls).toBe(2);
      await waitFor(() => events.length === 2, 5000, 'two events');
      expect(events.at(-1)).toMatchObject({ type: 'job-fail', willRetry: false, message: 'always broken' });
      expect(await queue.counts()).toMatchObject({ completed: 0, failed: 1 });
    });

    it('does not retry a job whose handler throws UnrecoverableJobError', async () => {
      const { queue, events } = open();
      let calls = 0;
      await queue.process(async () => {
        calls += 1;
        throw new UnrecoverableJobError('the work item is gone');
      });
      await queue.add('doomed', {}, { attempts: 5 });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(calls).toBe(1);
      await waitFor(() => events.length === 1, 5000, 'one event');
      expect(events[0]).toMatchObject({ type: 'job-fail', willRetry: false, message: 'the work item is gone' });
      expect(await queue.counts()).toMatchObject({ failed: 1 });
    });

    it('does not run a delayed job before its delay', async () => {
      const { queue } = open();
      const addedAt = Date.now();
      await queue.add('later', {}, { delayMs: 500 });
      expect(await queue.counts()).toMatchObject({ delayed: 1, waiting: 0 });
      let ranAt = 0;
      await queue.process(async () => {
        ranAt = Date.now();
      });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(ranAt - addedAt).toBeGreaterThanOrEqual(450);
    });

    it('adds a job id only once while it is pending or kept', async () => {
      const { queue } = open();
      const first = await queue.add('notify', { n: 1 }, { jobId: 'item-42' });
      const second = await queue.add('notify', { n: 2 }, { jobId: 'item-42' });
      expect(first.id).toBe('item-42');
      expect(second.id).toBe('item-42');
      expect(await queue.counts()).toMatchObject({ waiting: 1 });
      const seen: unknown[] = [];
      await queue.process(async (job) => {
        seen.push(job.data);
      });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      await queue.add('notify', { n: 3 }, { jobId: 'item-42' });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(seen).toEqual([{ n: 1 }]);
    });

    it('runs jobs without a priority first, then by priority number', async () => {
      const { queue } = open();
      await queue.add('low', {}, { priority: 20 });
      await queue.add('high', {}, { priority: 1 });
      await queue.add('plain', {});
      const order: string[] = [];
      await queue.process(async (job) => {
        order.push(job.name);
      });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(order).toEqual(['plain', 'high', 'low']);
    });

    it('refuses invalid job ids and data with typed errors', async () => {
      const { queue } = open();
      await expect(queue.add('x', {}, { jobId: 'item:1' })).rejects.toThrow(InvalidJobIdError);
      await expect(queue.add('x', {}, { jobId: 'item:1' })).rejects.toThrow(/"item:1".*':'/);
      await expect(queue.add('x', {}, { jobId: '12345' })).rejects.toThrow(/"12345".*all digits/);
      await expect(queue.add('x', { apiKey: 'abc' })).rejects.toThrow(JobDataRejectedError);
      await expect(queue.add('x', { config: { db_password: 'p' } })).rejects.toThrow(/\$\.config\.db_password.*credential/);
      await expect(queue.add('x', { headers: [{ Authorization: 'Bearer x' }] })).rejects.toThrow(/\$\.headers\[0\]\.Authorization/);
      await expect(queue.add('x', { note: 'key sk-ant-abcdefghijklmnopqrstuvwx' })).rejects.toThrow(/\$\.note.*credential/);
      await expect(queue.add('x', { when: new Date() as never })).rejects.toMatchObject({ code: 'job_data_rejected', problem: 'not-json' });
      await expect(queue.add('x', { n: Number.NaN })).rejects.toMatchObject({ problem: 'not-json', path: '$.n' });
      // Token counts and pagination cursors are not credentials.
      await expect(queue.add('x', { maxTokens: 5, usage: { outputTokens: 3 }, nextPageToken: 'abc' })).resolves.toMatchObject({ name: 'x' });
      expect(await queue.counts()).toMatchObject({ waiting: 1 });
    });

    it('counts waiting, delayed, completed and failed jobs', async () => {
      const { queue } = open();
      await queue.add('ok', { ok: true });
      await queue.add('bad', { ok: false });
      await queue.add('later', { ok: true }, { delayMs: 60_000 });
      expect(await queue.counts()).toEqual({ waiting: 2, active: 0, delayed: 1, completed: 0, failed: 0 });
      await queue.process(async (job) => {
        if (!(job.data as { ok: boolean }).ok) throw new Error('no');
      });
      await waitFor(async () => (await queue.counts()).failed === 1 && (await queue.counts()).completed === 1, 8000, 'two finished jobs');
      expect(await queue.counts()).toEqual({ waiting: 0, active: 0, delayed: 1, completed: 1, failed: 1 });
    });

    it('waitUntilIdle gives up with a typed error when nothing processes the queue', async () => {
      const { queue } = open();
      await queue.add('stuck', {});
      await expect(queue.waitUntilIdle({ timeoutMs: 200 })).rejects.toThrow(QueueIdleTimeoutError);
    });

    it('close lets a running job finish within the grace period', async () => {
      const { queue, events } = open();
      let started = false;
      let finished = false;
      await queue.process(async () => {
        started = true;
        await sleep(300);
        finished = true;
      });
      await queue.add('slow', {});
      await waitFor(() => started, 8000, 'the job to start');
      await queue.close({ graceMs: 5000 });
      expect(finished).toBe(true);
      expect(events).toMatchObject([{ type: 'job-complete', name: 'slow' }]);
    });

    it('close stops waiting for a running job once the grace period is over', async () => {
      const { queue } = open();
      let started = false;
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      await queue.process(async () => {
        started = true;
        await released;
      });
      await queue.add('endless', {});
      await waitFor(() => started, 8000, 'the job to start');
      const before = Date.now();
      await queue.close({ graceMs: 200 });
      expect(Date.now() - before).toBeLessThan(4000);
      release();
    });
  });
}
