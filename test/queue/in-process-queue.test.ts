import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/index.js';
import { InProcessQueue, openJobQueue, type Journal } from '../../src/queue/index.js';
import { BullMqQueue } from 'troupe/redis';
import { jobQueueContract, sleep, waitFor } from './job-queue-contract.js';
import { isSecretKey } from '../../src/queue/job-validation.js';
import { readJournal } from '../../src/queue/queue-journal.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-queue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

jobQueueContract('in-process', { open: (name) => new InProcessQueue({ name }) });

describe('InProcessQueue journal', () => {
  it('resumes, in a new instance, a job whose process died while running it', async () => {
    const journalPath = join(dir, 'crash', 'queue.json');
    const first = new InProcessQueue({ name: 'crash', journalPath });
    let started = false;
    // The handler never returns: the instance is then dropped without close(), as a killed process would be.
    await first.process(() => {
      started = true;
      return new Promise(() => {});
    });
    await first.add('index-file', { path: 'a.md' }, { jobId: 'file-a', attempts: 2 });
    await first.add('index-file', { path: 'b.md' }, { jobId: 'file-b' });
    await first.add('index-file', { path: 'c.md' }, { jobId: 'file-c', delayMs: 200 });
    await waitFor(() => started, 5000, 'the first run');
    // The snapshot with the changes logged since it, as a process started now reads them.
    const written = readJournal(journalPath, 'crash');
    expect(written.jobs.map((job) => `${job.id}:${job.state}`)).toEqual(['file-a:active', 'file-b:waiting', 'file-c:delayed']);

    const second = new InProcessQueue({ name: 'crash', journalPath });
    const runs: string[] = [];
    await second.process(async (job) => {
      runs.push(`${job.id}#${job.attempt}`);
    });
    await second.waitUntilIdle({ timeoutMs: 5000 });
    expect(runs).toEqual(['file-a#2', 'file-b#1', 'file-c#1']);
    expect(await second.counts()).toMatchObject({ completed: 3, failed: 0 });
    await second.close();
    expect((JSON.parse(readFileSync(journalPath, 'utf8')) as Journal).jobs).toEqual([]);
  });

  it('gives a job whose last attempt died with its process to onAbandoned instead of running it again, until that report ends', async () => {
    const journalPath = join(dir, 'abandoned', 'queue.json');
    const first = new InProcessQueue({ name: 'abandoned', journalPath });
    let started = false;
    // Killed mid-run (the instance dropped without close), on its only attempt.
    await first.process(() => {
      started = true;
      return new Promise(() => {});
    });
    await first.add('send', { to: 'a@example.com' }, { jobId: 'send-a' });
    await waitFor(() => started, 5000, 'the first run');

    // The next process dies while reporting it: the report is not lost but made again.
    const second = new InProcessQueue({ name: 'abandoned', journalPath });
    const reports: string[] = [];
    await second.process(
      () => {
        throw new Error('the handler must not run a job given up on');
      },
      {
        onAbandoned: (job) => {
          reports.push(`${job.id}#${job.attempt}`);
          return new Promise(() => {});
        },
      },
    );
    await waitFor(() => reports.length === 1, 5000, 'the first report');
    expect(readJournal(journalPath, 'abandoned').jobs.map((job) => job.abandoned)).toEqual(['its process died during its last attempt (1 of 1)']);

    const third = new InProcessQueue({ name: 'abandoned', journalPath });
    const failures: string[] = [];
    third.onJobEvent((event) => event.type === 'job-fail' && failures.push(`${event.id}: ${event.message} (retry: ${event.willRetry})`));
    let ran = 0;
    await third.process(() => void ran++, {
      onAbandoned: (job, reason) => void reports.push(`${job.id}#${job.attempt} ${JSON.stringify(job.data)}: ${reason}`),
    });
    await third.waitUntilIdle({ timeoutMs: 5000 });
    expect(ran).toBe(0);
    expect(reports).toEqual(['send-a#1', 'send-a#1 {"to":"a@example.com"}: its process died during its last attempt (1 of 1)']);
    expect(failures).toEqual(['send-a: its process died during its last attempt (1 of 1) (retry: false)']);
    expect(await third.counts()).toMatchObject({ completed: 0, failed: 1, waiting: 0 });
    await third.close();
    expect(readJournal(journalPath, 'abandoned').jobs).toEqual([]);
  });

  it('keeps a job cut short by close() for the next process, without counting the attempt', async () => {
    const journalPath = join(dir, 'graceful', 'queue.json');
    const first = new InProcessQueue({ name: 'graceful', journalPath });
    let started = false;
    await first.process(async () => {
      started = true;
      await sleep(2000);
    });
    await first.add('long', {}, { jobId: 'long-1' });
    await waitFor(() => started, 5000, 'the run');
    await first.close({ graceMs: 50 });
    const second = new InProcessQueue({ name: 'graceful', journalPath });
    const attempts: number[] = [];
    await second.process(async (job) => {
      attempts.push(job.attempt);
    });
    await second.waitUntilIdle({ timeoutMs: 5000 });
    expect(attempts).toEqual([1]);
    await second.close();
  });

  it('logs each change beside the snapshot, and a new process reads both, even with a torn last line', async () => {
    const journalPath = join(dir, 'log', 'queue.json');
    const first = new InProcessQueue({ name: 'log', journalPath });
    for (let i = 0; i < 150; i++) await first.add('step', { i }, { jobId: `job-${i}` });
    // A crash in the middle of the next change's write leaves half a line.
    appendFileSync(`${journalPath}.log`, '{"put":{"id":"job-');
    expect(readJournal(journalPath, 'log').jobs).toHaveLength(150);

    const second = new InProcessQueue({ name: 'log', journalPath });
    const runs: string[] = [];
    await second.process(async (job) => {
      runs.push(job.id);
    });
    await second.waitUntilIdle({ timeoutMs: 5000 });
    expect(runs).toEqual(Array.from({ length: 150 }, (_, i) => `job-${i}`));
    // The queue emptied: the snapshot was rewritten and the log emptied.
    expect(readFileSync(`${journalPath}.log`, 'utf8')).toBe('');
    expect((JSON.parse(readFileSync(journalPath, 'utf8')) as Journal).jobs).toEqual([]);
    await second.close();
  });

  it('refuses a log with a damaged line before its end', () => {
    const journalPath = join(dir, 'damaged', 'queue.json');
    mkdirSync(join(dir, 'damaged'));
    writeFileSync(`${journalPath}.log`, 'not json\n{"drop":"a"}\n');
    expect(() => new InProcessQueue({ name: 'damaged', journalPath })).toThrow(/line 1 is not a queue journal change/);
  });

  it('reads a version 1 journal (fixture never edited)', async () => {
    const journalPath = join(dir, 'v1.json');
    copyFileSync(new URL('./fixtures/journal-v1.json', import.meta.url), journalPath);
    const queue = new InProcessQueue({ name: 'journal-v1', journalPath });
    // item-4 was running on its only attempt when its process died: it is reported and failed, not rerun.
    expect(await queue.counts()).toEqual({ waiting: 3, active: 0, delayed: 1, completed: 0, failed: 0 });
    const runs: string[] = [];
    const abandoned: string[] = [];
    await queue.process(
      async (job) => {
        runs.push(`${job.id}#${job.attempt}`);
      },
      { onAbandoned: (job) => void abandoned.push(job.id) },
    );
    await queue.waitUntilIdle({ timeoutMs: 5000 });
    expect(runs.sort()).toEqual(['item-1#2', 'item-2#1', 'item-3#2']);
    expect(abandoned).toEqual(['item-4']);
    expect(await queue.counts()).toMatchObject({ completed: 3, failed: 1 });
    await queue.close();
  });

  it('refuses a file that is not its journal instead of overwriting it', () => {
    const path = join(dir, 'not-a-journal.json');
    writeFileSync(path, '{"hello":"world"}');
    expect(() => new InProcessQueue({ name: 'q', journalPath: path })).toThrow(ConfigurationError);
    copyFileSync(new URL('./fixtures/journal-v1.json', import.meta.url), path);
    expect(() => new InProcessQueue({ name: 'other', journalPath: path })).toThrow(/belongs to queue "journal-v1"/);
  });
});

describe('openJobQueue', () => {
  it('opens the in-process queue without REDIS_URL and BullMQ with it', async () => {
    const embedded = await openJobQueue({ name: 'factory', env: {} });
    expect(embedded).toBeInstanceOf(InProcessQueue);
    await embedded.close();
    const redis = await openJobQueue({
      name: 'factory',
      env: { REDIS_URL: 'redis://:hunter22@127.0.0.1:1' },
      bullmq: { onError: () => {}, connectTimeoutMs: 200 },
    });
    expect(redis).toBeInstanceOf(BullMqQueue);
    expect((redis as BullMqQueue).url).toBe('redis://:***@127.0.0.1:1');
    await redis.close({ graceMs: 100 });
  });
});

describe('job data and id rules', () => {
  it('recognises secret-looking keys but not token counts or cursors', () => {
    for (const key of ['apiKey', 'API_KEY', 'openaiApiKey', 'password', 'dbPassword', 'token', 'accessToken', 'authorization', 'clientSecret', 'cookie']) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of ['maxTokens', 'outputTokens', 'nextPageToken', 'author', 'keyword', 'path']) expect(isSecretKey(key), key).toBe(false);
  });

  it('refuses data holding the value of a secret environment variable', async () => {
    const queue = new InProcessQueue({ name: 'env', env: { GITHUB_TOKEN: 'ghp_0123456789abcdef' } });
    await expect(queue.add('x', { note: 'use ghp_0123456789abcdef' })).rejects.toThrow(/\$\.note.*credential/);
    await queue.close();
  });
});
