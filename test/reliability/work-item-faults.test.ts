import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openWorkGraph, type WorkEvent, type WorkGraph } from '../../src/work/index.js';
import { deleteKeysUnder, redisUrl, useRedis } from '../support/redis.js';
import { redisServerAvailable } from '../support/redis-server.js';
import { transpileForChildren } from '../support/transpile.js';
import { until } from '../support/wait.js';
import { faultGraph, mids, noticeKey } from './fixtures/fault-graph.js';
import { redisAnswersAt } from '../support/redis.js';

// Process and Redis faults on the work-item path, with real `troupe worker` processes on a real
// Redis: SIGKILL during a model call and during a tool with side effects, Redis stopped and
// restarted mid-run, two workers racing for one item. Each kill waits for a marker file the
// model or tool writes when it starts (never a fixed sleep). Afterwards every item is at its
// final version, every side effect happened once, and the event stream tells each change and
// outcome once.

const redis = await useRedis();
// Under TROUPE_REQUIRE_REDIS=1 (CI) a missing redis-server is a failure, never a skip.
const hasRedisServer = redisServerAvailable();

interface Worker {
  child: ChildProcess;
  stderr: string;
  exited: Promise<number | null>;
}

const waitFor = <T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> =>
  until(what, check, timeoutMs);

async function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of the test's own, persisting to an append-only file so its data survive a restart. */
class OwnRedis {
  process: ChildProcess | undefined;
  exited: Promise<unknown> = Promise.resolve();
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
      { stdio: 'ignore' },
    );
    this.process = child;
    this.exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor(() => this.ping(), 30_000, `redis-server on port ${this.port} to answer`);
  }

  /** SHUTDOWN: Redis flushes its append-only file and exits. */
  async stop(): Promise<void> {
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    await client.connect();
    await client.shutdown('NOSAVE').catch(() => {});
    client.disconnect();
    await this.exited;
  }

  ping(): Promise<boolean> {
    return redisAnswersAt(this.url);
  }
}

let build: string;
beforeAll(async () => {
  build = await transpileForChildren(['src', 'test/work/tracking-model.ts', 'test/reliability/fixtures/fault-graph.ts', 'test/support/outbox-folder.ts']);
}, 120_000);

/** One scenario: its own graph name, key prefix, marker directory and workers. */
class Scenario {
  readonly name = `faults-${randomBytes(4).toString('hex')}`;
  readonly prefix = `troupe-test-faults-${this.name}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'troupe-faults-'));
  readonly workers: Worker[] = [];
  readonly killed = new Set<number>();
  supervise = true;
  graph: WorkGraph | undefined;

  constructor(
    readonly url: string,
    readonly workerArgs: string[],
    /** Whether a replacement may start now (a supervisor restarts a worker once Redis answers). */
    readonly ready: () => Promise<boolean> = async () => true,
  ) {}

  /** Starts a worker; while `supervise` is on, one that exits by itself (Redis gone) is replaced, as a supervisor would. */
  startWorker(): Worker {
    const child = spawn(
      process.execPath,
      [join(build, 'src/cli/main.js'), 'worker', '--graph', join(build, 'test/reliability/fixtures/fault-graph.js'), '--quiet', ...this.workerArgs],
      {
        env: { ...process.env, REDIS_URL: this.url, TROUPE_REDIS_PREFIX: this.prefix, FAULT_GRAPH: this.name, FAULT_DIR: this.dir, TROUPE_LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const worker: Worker = { child, stderr: '', exited: new Promise((resolve) => child.once('exit', resolve)) };
    child.stderr!.on('data', (chunk: Buffer) => (worker.stderr += chunk.toString()));
    void worker.exited.then(async () => {
      if (!this.supervise || this.killed.has(child.pid!)) return;
      await waitFor(() => !this.supervise || this.ready(), 120_000, 'Redis to answer again').catch(() => {});
      if (this.supervise) this.startWorker();
    });
    this.workers.push(worker);
    return worker;
  }

  async startWorkers(count: number): Promise<void> {
    const started = Array.from({ length: count }, () => this.startWorker());
    await waitFor(
      () => started.every((worker) => worker.stderr.includes('serving work graph')),
      60_000,
      `the workers to start (${started.map((w) => w.stderr).join(' | ')})`,
    );
  }

  kill(pid: number): Promise<number | null> {
    this.killed.add(pid);
    const worker = this.workers.find((candidate) => candidate.child.pid === pid)!;
    worker.child.kill('SIGKILL');
    return worker.exited;
  }

  hold(kind: 'model' | 'answer' | 'tool' | 'returned'): void {
    writeFileSync(join(this.dir, `hold-${kind}`), '');
  }

  release(kind: 'model' | 'answer' | 'tool' | 'returned'): void {
    rmSync(join(this.dir, `hold-${kind}`), { force: true });
  }

  /** Markers in the order written: which process started what (a notice key). */
  markers(kind: 'model' | 'answer' | 'tool' | 'returned'): Array<{ pid: number; n: number; key: string }> {
    return readdirSync(this.dir)
      .flatMap((file) => {
        const match = new RegExp(`^${kind}-(\\d+)-(\\d+)\\.marker$`).exec(file);
        return match ? [{ pid: Number(match[1]), n: Number(match[2]), key: readFileSync(join(this.dir, file), 'utf8') }] : [];
      })
      .sort((a, b) => a.n - b.n);
  }

  lines(file: string): string[] {
    const path = join(this.dir, file);
    return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** The side effects made: one `<idempotency id> <notice key>` per file of the outbox folder. */
  outbox(): string[] {
    const folder = join(this.dir, 'outbox');
    return existsSync(folder) ? readdirSync(folder).map((file) => readFileSync(join(folder, file), 'utf8')) : [];
  }

  async open(): Promise<WorkGraph> {
    this.graph = await openWorkGraph(faultGraph(this.name, this.dir), { env: { REDIS_URL: this.url }, prefix: this.prefix });
    return this.graph;
  }

  /** The root changes once: 12 notifications flow, each with one side effect. */
  async changeRoot(): Promise<WorkGraph> {
    const graph = await this.open();
    await graph.seed();
    await graph.change('root', { content: 'go', summary: 'a person edited the root', changeId: 'edit-1' });
    return graph;
  }

  /** Every item final, every side effect once, every change and outcome told once by the stream. */
  async expectExactlyOnce(graph: WorkGraph): Promise<void> {
    await graph.waitUntilQuiet({ timeoutMs: 120_000 });
    const items = new Map((await graph.items()).map((item) => [item.id, item]));
    expect(items.get('root')!.version).toBe(2);
    for (const mid of mids) expect(JSON.parse(items.get(mid)!.content), mid).toEqual({ root: 2 });
    for (const mid of mids) expect(items.get(mid)!.version, mid).toBe(2);
    expect(JSON.parse(items.get('sink')!.content)).toEqual(Object.fromEntries(mids.map((mid) => [mid, 2])));
    expect(items.get('sink')!.version).toBe(1 + mids.length);

    // One line per notice, each under its own idempotency key.
    const expectedKeys = [...mids.map((mid) => noticeKey(mid, 'root', 2)), ...mids.map((mid) => noticeKey('sink', mid, 2))].sort();
    const outbox = this.outbox().map((line) => line.split(' '));
    expect(outbox.map(([, key]) => key).sort()).toEqual(expectedKeys);
    expect(new Set(outbox.map(([id]) => id)).size).toBe(expectedKeys.length);
    expect(outbox.every(([id]) => /^effect-[0-9a-f]{32}$/.test(id!))).toBe(true);

    const outcomes = await graph.outcomes();
    expect(outcomes.map((outcome) => `${outcome.id} ${outcome.outcome}`).sort()).toEqual(
      [...mids.map((mid) => `${mid}+root+v2 updated`), ...mids.map((mid) => `sink+${mid}+v2 updated`)].sort(),
    );
    const told = (await graph.events({ limit: 10_000 })).flatMap(({ entry }: { entry: WorkEvent }) =>
      entry.type === 'item-change'
        ? [`change ${entry.item} v${entry.version}`]
        : entry.type === 'notification-outcome'
          ? [`outcome ${entry.id} ${entry.outcome}`]
          : [],
    );
    expect(told.sort()).toEqual(
      [
        'change root v2',
        ...mids.map((mid) => `change ${mid} v2`),
        ...mids.map((_, i) => `change sink v${i + 2}`),
        ...outcomes.map((outcome) => `outcome ${outcome.id} updated`),
      ].sort(),
    );
  }

  async close(): Promise<void> {
    this.supervise = false;
    for (const worker of this.workers) worker.child.kill('SIGKILL');
    await Promise.all(this.workers.map((worker) => worker.exited));
    await this.graph?.close({ graceMs: 500 }).catch(() => {});
  }

  async cleanup(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    await deleteKeysUnder(this.prefix, this.url);
  }
}

describe.runIf(redis)('work items under process faults (troupe worker on Redis)', () => {
  const scenarios: Scenario[] = [];
  afterEach(async () => {
    for (const scenario of scenarios.splice(0)) {
      await scenario.close();
      await scenario.cleanup();
    }
  });

  // One job per worker, so a kill interrupts exactly the job its marker names. The lock is long
  // enough that a busy machine does not take a live worker's job for a dead one's.
  const fastRecovery = ['--concurrency', '1', '--lock-duration-ms', '3000', '--stalled-interval-ms', '1000'];

  it('survives SIGKILL of a worker in a tool with side effects and of another in a model call: each effect once', async () => {
    const scenario = new Scenario(redisUrl, fastRecovery);
    scenarios.push(scenario);
    scenario.hold('tool');
    scenario.hold('answer');
    await scenario.startWorkers(3);
    const graph = await scenario.changeRoot();
    const attempts = (key: string) => scenario.lines('attempts.log').filter((line) => line.startsWith(`${key} `));

    // A tool has made its side effect and not returned yet: kill its worker there.
    const inTool = await waitFor(() => scenario.markers('tool')[0], 60_000, 'a tool call to make its side effect');
    expect(scenario.outbox().some((line) => line.endsWith(` ${inTool.key}`))).toBe(true);
    expect(await scenario.kill(inTool.pid)).toBe(null);
    scenario.startWorker();
    scenario.release('tool');

    // A model call is under way after its job's tool call ended: kill its worker there. (Not the
    // job the first kill interrupted: a job that stalls twice is failed by BullMQ's maxStalledCount.)
    const inModel = await waitFor(
      () => scenario.markers('answer').find((marker) => marker.key !== inTool.key && !scenario.killed.has(marker.pid)),
      60_000,
      'a model call after a tool call',
    );
    expect(await scenario.kill(inModel.pid)).toBe(null);
    scenario.startWorker();
    scenario.release('answer');

    await scenario.expectExactlyOnce(graph);
    // The tool call killed before it returned ran again, with the same idempotency key, which the
    // outbox refused; the one that had returned was answered from Troupe's record, not run again.
    expect(attempts(inTool.key).length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts(inTool.key)).size).toBe(1);
    expect(attempts(inModel.key)).toHaveLength(1);
  }, 240_000);

  it('lets two workers race for one item, also for one notification delivered twice at once', async () => {
    const scenario = new Scenario(redisUrl, ['--concurrency', '4', '--lock-duration-ms', '5000', '--stalled-interval-ms', '1000']);
    scenarios.push(scenario);
    scenario.hold('model');
    await scenario.startWorkers(2);
    const graph = await scenario.changeRoot();
    // The same notification again under another job id: two runs of it at once.
    const item = await graph.item('root');
    const data = { id: 'm0+root+v2', item: 'm0', source: 'root', sourceVersion: 2, summary: item.summary, content: item.content, depth: 1, origin: 'edit-1' };
    await graph.queue.add('notify', data, { jobId: 'delivered-twice' });
    // Two runs of m0's notification are in model calls at once, and both workers have jobs.
    await waitFor(
      () => scenario.markers('model').filter((marker) => marker.key === noticeKey('m0', 'root', 2)).length === 2,
      60_000,
      "two runs of m0's notification",
    );
    await waitFor(() => new Set(scenario.markers('model').map((marker) => marker.pid)).size === 2, 60_000, 'both workers to have jobs');
    scenario.release('model');
    await scenario.expectExactlyOnce(graph);
    expect(scenario.killed.size).toBe(0);
  }, 240_000);
});

describe.runIf(hasRedisServer)('work items when Redis stops and restarts mid-run', () => {
  let own: OwnRedis | undefined;
  let scenario: Scenario | undefined;
  afterAll(async () => {
    await scenario?.close();
    if (own?.process && own.process.exitCode === null) {
      own.process.kill('SIGKILL');
      await own.exited;
    }
    if (own) rmSync(own.dir, { recursive: true, force: true });
    if (scenario) rmSync(scenario.dir, { recursive: true, force: true });
  });

  it('finishes every notification once after Redis comes back on the same port and data', async () => {
    own = new OwnRedis(await sparePort(), mkdtempSync(join(tmpdir(), 'troupe-faults-redis-')));
    await own.start();
    const server = own;
    scenario = new Scenario(own.url, ['--concurrency', '2', '--lock-duration-ms', '5000', '--stalled-interval-ms', '1000'], () => server.ping());
    scenario.hold('tool');
    await scenario.startWorkers(2);
    const before = await scenario.changeRoot();
    await waitFor(() => scenario!.markers('tool').length > 0, 60_000, 'a side effect to happen');
    await before.close({ graceMs: 500 });

    await own.stop();
    // Jobs go on while Redis is away: tools return, their records and writes fail and are retried.
    scenario.release('tool');
    await waitFor(() => scenario!.markers('returned').length > 0, 60_000, 'a tool call to return while Redis is down');
    await own.start();

    await scenario.expectExactlyOnce(await scenario.open());
  }, 240_000);
});
