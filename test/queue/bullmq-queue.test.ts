import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { QueueUnavailableError } from '../../src/queue/index.js';
import { BullMqQueue } from 'troupe/redis';
import { redisUrl, useRedis } from '../support/redis.js';
import { jobQueueContract, uniqueName, waitFor } from './job-queue-contract.js';

const prefix = 'troupe-test';
const redis = await useRedis();

/** Removes every key of a test queue, including jobs a forced close left active. */
async function obliterate(name: string): Promise<void> {
  const queue = new Queue(name, { connection: { url: redisUrl }, prefix });
  queue.on('error', () => {});
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

describe.skipIf(!redis)('BullMqQueue', () => {
  jobQueueContract('bullmq', {
    open: (name) => new BullMqQueue({ name, url: redisUrl, prefix }),
    cleanup: obliterate,
  });

  it('keeps the finished jobs its keep bounds allow, applied by its worker: the jobs carry no retention options', async () => {
    const name = uniqueName('keep');
    const queue = new BullMqQueue({ name, url: redisUrl, prefix, keep: { completed: { count: 2 }, failed: { count: 1 } } });
    const raw = new Queue(name, { connection: { url: redisUrl }, prefix });
    try {
      for (let n = 1; n <= 5; n++) await queue.add('step', { n }, { jobId: `ok-${n}` });
      for (let n = 1; n <= 3; n++) await queue.add('bad', { n }, { jobId: `bad-${n}` });
      const job = await raw.getJob('ok-1');
      expect(job?.opts).not.toHaveProperty('removeOnComplete');
      expect(job?.opts).not.toHaveProperty('removeOnFail');
      await queue.process(async (job) => {
        if (job.name === 'bad') throw new Error('refused');
      });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(await queue.counts()).toMatchObject({ completed: 2, failed: 1 });
    } finally {
      await raw.close();
      await queue.close({ graceMs: 500 });
      await obliterate(name);
    }
  });

  it('gives a job back to another worker after its worker process is killed mid-job', async () => {
    const name = uniqueName('stalled');
    // Short lock and stalled-check times so that the recovery takes a second or two, not a minute.
    const queue = new BullMqQueue({ name, url: redisUrl, prefix, stalled: { lockDurationMs: 1000, stalledIntervalMs: 500 } });
    const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/stalling-worker.mjs', import.meta.url)), redisUrl, name, prefix], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await queue.add('step', { item: 'a' }, { jobId: 'item-a' });
      await waitFor(() => output.includes('started item-a'), 10_000, 'the child worker to take the job');
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      expect(await queue.counts()).toMatchObject({ active: 1 });

      const runs: string[] = [];
      await queue.process(async (job) => {
        runs.push(`${job.id}:${JSON.stringify(job.data)}`);
      });
      await waitFor(async () => (await queue.counts()).completed === 1, 60_000, 'the stalled job to be completed here');
      expect(runs).toEqual(['item-a:{"item":"a"}']);
    } finally {
      child.kill('SIGKILL');
      await queue.close({ graceMs: 500 });
      await obliterate(name);
    }
  });

  it('gives a job its workers died on more than maxStalledCount times to onAbandoned, not to the handler, then fails it', async () => {
    const name = uniqueName('abandoned');
    const queue = new BullMqQueue({ name, url: redisUrl, prefix, stalled: { lockDurationMs: 1000, stalledIntervalMs: 500, maxStalledCount: 0 } });
    const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/stalling-worker.mjs', import.meta.url)), redisUrl, name, prefix], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await queue.add('step', { item: 'a' }, { jobId: 'item-a', attempts: 3 });
      await waitFor(() => output.includes('started item-a'), 10_000, 'the child worker to take the job');
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));

      const runs: string[] = [];
      const reports: string[] = [];
      await queue.process(
        async (job) => {
          runs.push(job.id);
        },
        { onAbandoned: (job, reason) => void reports.push(`${job.id} ${JSON.stringify(job.data)}: ${reason}`) },
      );
      await waitFor(async () => (await queue.counts()).failed === 1, 60_000, 'the stalled job to be given up on');
      expect(runs).toEqual([]);
      expect(reports).toEqual(['item-a {"item":"a"}: its worker stopped while running it 1 times (maxStalledCount is 0)']);
    } finally {
      child.kill('SIGKILL');
      await queue.close({ graceMs: 500 });
      await obliterate(name);
    }
  });

  it('fails fast with a typed error naming the URL without its password when Redis is down', async () => {
    const queue = new BullMqQueue({ name: uniqueName('down'), url: 'redis://:hunter22@127.0.0.1:1', connectTimeoutMs: 300, onError: () => {} });
    const started = Date.now();
    const error = await queue.add('x', {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueueUnavailableError);
    expect((error as Error).message).toContain('redis://:***@127.0.0.1:1');
    expect((error as Error).message).not.toContain('hunter22');
    expect(Date.now() - started).toBeLessThan(3000);
    await queue.close({ graceMs: 100 });
  });
});
