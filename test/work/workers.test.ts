import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkGraph, type WorkGraph, type WorkItem } from '../../src/work/index.js';
import { redisUrl, useRedis } from '../support/redis.js';
import { mids, workerGraph } from './fixtures/worker-graph.js';
import { transpileForChildren } from '../support/transpile.js';
import { runCommand } from '../support/run-command.js';

const redis = await useRedis();

interface Worker {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let build: string;

// The child processes run the sources transpiled into a private directory (see transpile.ts).
beforeAll(async () => {
  build = await transpileForChildren(['src', 'test/work/tracking-model.ts', 'test/work/fixtures/worker-graph.ts']);
}, 60_000);

const cli = () => join(build, 'src/cli/main.js');
const fixtureGraph = () => join(build, 'test/work/fixtures/worker-graph.js');

describe('troupe chat', () => {
  const chat = (args: string[], input: string, home: string) =>
    runCommand(process.execPath, [cli(), 'chat', ...args, '--graph', fixtureGraph()], {
      input,
      env: { ...process.env, REDIS_URL: '', TROUPE_HOME: home, WORK_TEST_MODEL: '1', WORK_TEST_LATENCY_MS: '0', WORK_TEST_GRAPH: 'chat-test' },
    });

  it('reads messages from stdin, prints the answers, and what flowed until quiet', async () => {
    const home = mkdtempSync(join(tmpdir(), 'troupe-chat-'));
    const result = await chat(['mid-3'], 'What do you hold?\nset {"root":1}\n', home);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('mid-3> mid-3 is fine as it is\n');
    expect(result.stdout).toContain('mid-3> set to {"root":1}\n  mid-3 is now version 2; notified leaf-3, sink\n');
    expect(result.stdout).toMatch(/mid-3 v2 → leaf-3: updated to v2/);
    expect(result.stdout).toMatch(/mid-3 v2 → sink: updated to v2/);
    expect(result.stdout).toMatch(/ {2}quiet\n$/);
    // The item, its conversation and the events are in the embedded store: a second chat continues.
    const again = await chat(['mid-3', '--message', 'Anything else?'], '', home);
    // (The fixture's model prints a line per call, which is how the worker test knows a job is under way.)
    expect(again.stdout.replace(/^model-call .*\n/gm, '')).toBe('mid-3> mid-3 is fine as it is\n');
  });

  it('names an unknown item with exit code 2', async () => {
    const result = await chat(['nope'], '', mkdtempSync(join(tmpdir(), 'troupe-chat-')));
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Work graph "chat-test" has no item "nope". Its items: root, mid-0/);
  });
});

describe.runIf(redis)('troupe worker processes on Redis', () => {
  const run = randomBytes(4).toString('hex');
  const graphName = `workers-${run}`;
  const prefix = `troupe-test-work-${run}`;
  const workers: Worker[] = [];
  let graph: WorkGraph | undefined;

  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
    await graph?.close({ graceMs: 500 });
    const admin = new Redis(redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    admin.disconnect();
  });

  function startWorker(): Worker {
    const child = spawn(
      process.execPath,
      [cli(), 'worker', '--graph', fixtureGraph(), '--concurrency', '2', '--lock-duration-ms', '1000', '--stalled-interval-ms', '500'],
      {
        env: {
          ...process.env,
          REDIS_URL: redisUrl,
          TROUPE_REDIS_PREFIX: prefix,
          WORK_TEST_GRAPH: graphName,
          WORK_TEST_MODEL: '1',
          WORK_TEST_LATENCY_MS: '150',
          TROUPE_LOG_LEVEL: 'silent',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const worker: Worker = { child, stdout: '', stderr: '', exited: new Promise((resolve) => child.once('exit', resolve)) };
    child.stdout!.on('data', (chunk: Buffer) => (worker.stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (worker.stderr += chunk.toString()));
    workers.push(worker);
    return worker;
  }

  it('shares the notifications between workers, survives one killed mid-job, and ends quiet with every version applied once', async () => {
    const [first, ...others] = [startWorker(), startWorker(), startWorker()];
    await waitFor(
      () => workers.every((worker) => worker.stderr.includes('serving work graph')),
      20_000,
      `the workers to start (${workers.map((w) => w.stderr).join(' | ')})`,
    );

    graph = await openWorkGraph(workerGraph(graphName), { env: { REDIS_URL: redisUrl }, prefix });
    await graph.seed();
    await graph.change('root', { content: 'go', summary: 'a person edited the root' });

    // Kill a worker while its agent waits on the model: the job is half done.
    await waitFor(() => first!.stdout.includes('model-call'), 20_000, 'the first worker to start a job');
    first!.child.kill('SIGKILL');
    expect(await first!.exited).toBe(null);

    await graph.waitUntilQuiet({ timeoutMs: 30_000 });
    expect(await graph.isQuiet()).toBe(true);

    // Every notification has exactly one outcome, and each was an update.
    const outcomes = await graph.outcomes();
    expect(outcomes).toHaveLength(30);
    expect(new Set(outcomes.map((outcome) => outcome.id)).size).toBe(30);
    expect(outcomes.filter((outcome) => outcome.outcome !== 'updated')).toEqual([]);

    // No version lost or applied twice: each item's version counts its changes exactly.
    const items = new Map((await graph.items()).map((item) => [item.id, item] as [string, WorkItem]));
    expect(items.get('root')!.version).toBe(2);
    for (const [i, mid] of mids.entries()) {
      expect(items.get(mid)!.version).toBe(2);
      expect(items.get(`leaf-${i}`)!.version).toBe(2);
      expect(JSON.parse(items.get(`leaf-${i}`)!.content)).toEqual({ [mid]: 2 });
    }
    expect(items.get('sink')!.version).toBe(11);
    expect(JSON.parse(items.get('sink')!.content)).toEqual(Object.fromEntries(mids.map((mid) => [mid, 2])));
    const sink = await graph.store.get<{ changes: Array<{ changeId: string; version: number }> }>(`work.${graphName}.items`, 'sink');
    expect(sink!.value.changes.map((change) => change.version)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(new Set(sink!.value.changes.map((change) => change.changeId)).size).toBe(10);

    // The surviving workers both took part.
    for (const worker of others) expect(worker.stdout).toMatch(/→/);
  }, 60_000);
});
