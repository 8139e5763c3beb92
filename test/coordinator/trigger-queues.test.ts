import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handlerRunRecords, handlerRunsCollection, type HandlerOutcome } from '../../src/coordinator/handler.js';
import { enqueueTrigger, serveTriggerQueues, triggerQueueName } from '../../src/coordinator/trigger-queues.js';
import { InProcessQueue } from '../../src/queue/in-process-queue.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import { openJobQueue } from '../../src/queue/open-job-queue.js';
import type { RedisBackend } from '../../src/store/backend.js';
import { openStateStore } from '../../src/store/open-state-store.js';
import type { StateStore } from '../../src/store/state-store.js';
import { deleteKeysUnder, redisUrl, useRedis } from '../support/redis.js';
import { runCommand } from '../support/run-command.js';
import { transpileForChildren } from '../support/transpile.js';
import { until } from '../support/wait.js';
import ticketHandler from './fixtures/ticket-handler.js';

// Handler queue triggers served by workers: in process on the embedded backend, and by real
// `troupe worker --handler` processes on a real Redis, where several workers share one source's
// messages, each message is handled once, and a message whose worker was killed mid-tool is
// handled again by another without repeating the side effect (the message id keys it).

const redis = await useRedis();

const waitFor = <T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> =>
  until(what, check, timeoutMs);

/** The side effects made: `<idempotency key>` → `<title> <pid>`, one file per key. */
function outbox(dir: string): Map<string, string> {
  const folder = join(dir, 'outbox');
  return new Map(existsSync(folder) ? readdirSync(folder).map((key) => [key, readFileSync(join(folder, key), 'utf8')] as const) : []);
}

function attempts(dir: string): string[] {
  const path = join(dir, 'attempts.log');
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

/** Tool calls that made (or found) their effect, in the order made: which process holds which title. */
function toolMarkers(dir: string): Array<{ pid: number; title: string }> {
  return readdirSync(dir).flatMap((file) => {
    const match = /^tool-(\d+)-\d+\.marker$/.exec(file);
    return match ? [{ pid: Number(match[1]), title: readFileSync(join(dir, file), 'utf8') }] : [];
  });
}

async function recordedOutcomes(store: StateStore): Promise<HandlerOutcome[]> {
  return (await handlerRunRecords.list(store, handlerRunsCollection)).map((record) => record.value);
}

describe('handler queue triggers in process (embedded backend)', () => {
  it('serves each queue source of the handler, handles each message once, and says what it does not serve', async () => {
    const home = mkdtempSync(join(tmpdir(), 'troupe-trigger-home-'));
    const dir = mkdtempSync(join(tmpdir(), 'troupe-trigger-'));
    const store = await openStateStore({ backend: { kind: 'embedded', home } });
    try {
      const handler = ticketHandler({ TICKET_DIR: dir }).withDefaults({ store });
      const outcomes: Array<[string, HandlerOutcome]> = [];
      const served = await serveTriggerQueues(handler, {
        queue: async (name) => new InProcessQueue({ name }),
        concurrency: 2,
        onOutcome: (outcome, source) => outcomes.push([source, outcome]),
      });
      expect(served.sources).toEqual(['tickets']);
      expect(served.withoutSource).toEqual([]);
      const queue = served.queues.get('tickets')!;
      expect(queue.name).toBe(triggerQueueName('tickets'));

      const titles = ['Checkout is down', 'Login loops', 'Typo on About', 'Slow search'];
      for (const [i, title] of titles.entries()) await enqueueTrigger(queue, 'tickets', { title }, { id: `ticket-${i + 1}` });
      // The same message again, by id and (without one) by content: added once each.
      await enqueueTrigger(queue, 'tickets', { title: 'Checkout is down' }, { id: 'ticket-1' });
      await enqueueTrigger(queue, 'tickets', { title: 'No id' });
      await enqueueTrigger(queue, 'tickets', { title: 'No id' });
      await queue.waitUntilIdle({ timeoutMs: 30_000 });
      await served.close();

      expect(outcomes.map(([source, outcome]) => `${source} ${outcome.status} ${outcome.configuration}`)).toEqual(
        Array.from({ length: 5 }, () => 'tickets done triage'),
      );
      const recorded = await recordedOutcomes(store);
      expect(recorded.map((outcome) => outcome.trigger).sort()).toEqual([
        expect.stringMatching(/^msg-[0-9a-f]{32}$/),
        ...titles.map((_, i) => `ticket-${i + 1}`),
      ]);
      const effects = outbox(dir);
      expect([...effects.values()].map((text) => text.split(' ').slice(0, -1).join(' ')).sort()).toEqual([...titles, 'No id'].sort());
      expect([...effects.keys()].every((key) => /^effect-[0-9a-f]{32}$/.test(key))).toBe(true);
      await expect(enqueueTrigger(queue, 'alerts', { title: 'x' })).rejects.toThrow(/messages from "alerts" go on queue troupe-trigger-alerts/);
      expect(() => triggerQueueName('a:b')).toThrow(/cannot name a queue/);
      // A runtime on the embedded backend opens a queue of its own, which no handler is served from.
      await expect(enqueueTrigger({ queue: async (name) => new InProcessQueue({ name }) }, 'tickets', { title: 'lost' })).rejects.toThrow(
        /an in-process queue opened for "tickets" reaches no handler/,
      );
    } finally {
      await store.close();
      rmSync(home, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

let build: string;
beforeAll(async () => {
  build = await transpileForChildren(['src', 'test/coordinator/fixtures/ticket-handler.ts', 'test/support/outbox-folder.ts']);
}, 120_000);
afterAll(() => {
  if (build) rmSync(join(build, '..'), { recursive: true, force: true });
});

const troupe = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCommand(process.execPath, [join(build, 'src/cli/main.js'), ...args], {
    env: { ...process.env, REDIS_URL: '', TROUPE_LOG_LEVEL: 'silent', ...env },
  });

describe('troupe worker --handler with a bad module, troupe trigger without Redis', { timeout: 120_000 }, () => {
  it('exits with code 2 and names the file: a wrong export, a function that throws, no queue trigger, no module of that crew', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-bad-handler-'));
    try {
      const write = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const wrong = write('wrong.mjs', 'export default { configurations: "none" };\n');
      const throws = write('throws.mjs', 'export default () => { throw new Error("no tracker token"); };\n');
      const manualOnly = write(
        'manual.mjs',
        `import { Handler } from ${JSON.stringify(join(build, 'src/coordinator/handler.js'))};\n` +
          `import { defineConfiguration } from ${JSON.stringify(join(build, 'src/coordinator/configuration.js'))};\n` +
          "const byHand = defineConfiguration({ name: 'by-hand', trigger: { kind: 'manual' }, prompt: 'Answer.' });\n" +
          'export default () => new Handler({ configurations: [byHand], tools: [] });\n',
      );
      const home = { TROUPE_HOME: join(dir, 'home') };
      const message = write('message.json', '{"title":"x"}');
      const [a, b, c, d, e, f] = await Promise.all([
        troupe(['worker', '--handler', wrong], home),
        troupe(['worker', '--handler', throws], home),
        troupe(['worker', '--handler', 'no-such-crew'], home),
        troupe(['worker'], home),
        troupe(['worker', '--handler', manualOnly], home),
        troupe(['trigger', 'tickets', '--data', message], home),
      ]);
      expect([a.status, b.status, c.status, d.status, e.status, f.status]).toEqual([2, 2, 2, 2, 2, 2]);
      expect(f.stderr).toMatch(/REDIS_URL is not set: without Redis a queue lives inside one process/);
      expect(a.stderr).toContain(`${wrong}: the default export must be a Handler or a function (env) => Handler`);
      expect(b.stderr).toContain(`${throws}: the default function of the handler module threw: no tracker token`);
      expect(c.stderr).toMatch(/no handler module "no-such-crew": looked for \S*crews\/no-such-crew\/handler\.js, .*dist\/crews\/no-such-crew\/handler\.js/);
      expect(d.stderr).toMatch(/nothing to serve: give --graph <module> or --handler <module>/);
      expect(e.stderr).toContain(`by-hand in ${manualOnly}: not queue triggers, not served by a worker`);
      expect(e.stderr).toContain(`no queue triggers in ${manualOnly}: nothing to serve`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface Worker {
  child: ChildProcess;
  stderr: string;
  stdout: string;
  exited: Promise<number | null>;
}

/** One scenario on Redis: its own key prefix (records and queues), source, marker directory and workers. */
class Scenario {
  readonly prefix = `troupe-test-triggers-${randomBytes(4).toString('hex')}`;
  readonly source = 'tickets';
  readonly dir = mkdtempSync(join(tmpdir(), 'troupe-triggers-'));
  readonly backend: RedisBackend = { kind: 'redis', url: redisUrl, prefix: this.prefix };
  readonly workers: Worker[] = [];
  queue: JobQueue | undefined;
  store: StateStore | undefined;

  constructor(readonly workerArgs: string[]) {}

  startWorker(): Worker {
    const child = spawn(
      process.execPath,
      [join(build, 'src/cli/main.js'), 'worker', '--handler', join(build, 'test/coordinator/fixtures/ticket-handler.js'), ...this.workerArgs],
      {
        env: { ...process.env, REDIS_URL: redisUrl, TROUPE_REDIS_PREFIX: this.prefix, TICKET_DIR: this.dir, TROUPE_LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const worker: Worker = { child, stderr: '', stdout: '', exited: new Promise((resolve) => child.once('exit', resolve)) };
    child.stderr!.on('data', (chunk: Buffer) => (worker.stderr += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => (worker.stdout += chunk.toString()));
    this.workers.push(worker);
    return worker;
  }

  async startWorkers(count: number): Promise<Worker[]> {
    const started = Array.from({ length: count }, () => this.startWorker());
    await waitFor(
      () => started.every((worker) => worker.stderr.includes('serving handler queue triggers: tickets')),
      60_000,
      `the workers to start (${started.map((w) => w.stderr).join(' | ')})`,
    );
    return started;
  }

  async enqueue(count: number): Promise<string[]> {
    this.queue ??= await openJobQueue({ name: triggerQueueName(this.source), backend: this.backend });
    const titles = Array.from({ length: count }, (_, i) => `ticket ${i + 1}`);
    for (const [i, title] of titles.entries()) await enqueueTrigger(this.queue, this.source, { title }, { id: `t-${i + 1}` });
    return titles;
  }

  hold(): void {
    writeFileSync(join(this.dir, 'hold-tool'), '');
  }

  release(): void {
    rmSync(join(this.dir, 'hold-tool'), { force: true });
  }

  /** Waits until every message has its recorded outcome and the queue is idle; returns the outcomes. */
  async outcomes(count: number): Promise<HandlerOutcome[]> {
    this.store ??= await openStateStore({ backend: this.backend });
    const store = this.store;
    const outcomes = await waitFor(
      async () => {
        const recorded = await recordedOutcomes(store);
        return recorded.length >= count && recorded;
      },
      120_000,
      `${count} outcomes`,
    );
    await this.queue!.waitUntilIdle({ timeoutMs: 60_000 });
    return recordedOutcomes(store).then((all) => (all.length === outcomes.length ? all : outcomes));
  }

  async close(): Promise<void> {
    for (const worker of this.workers) worker.child.kill('SIGKILL');
    await Promise.all(this.workers.map((worker) => worker.exited));
    await this.queue?.close({ graceMs: 0 }).catch(() => {});
    await this.store?.close().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
    await deleteKeysUnder(this.prefix);
  }
}

/** Each message's outcome once and done, each side effect once, under one key per message. */
function expectEachOnce(outcomes: HandlerOutcome[], dir: string, titles: string[]): Map<string, string> {
  expect(outcomes.map((outcome) => outcome.trigger).sort()).toEqual(titles.map((_, i) => `t-${i + 1}`).sort());
  expect(outcomes.every((outcome) => outcome.status === 'done' && outcome.configuration === 'triage')).toBe(true);
  const effects = outbox(dir);
  expect([...effects.values()].map((text) => text.replace(/ \d+$/, '')).sort()).toEqual([...titles].sort());
  return effects;
}

describe.runIf(redis)('troupe worker --handler on Redis', () => {
  const scenarios: Scenario[] = [];
  afterEach(async () => {
    for (const scenario of scenarios.splice(0)) await scenario.close();
  });

  it('two workers share one source: each message handled once, by one of them, both busy', async () => {
    const scenario = new Scenario(['--concurrency', '1']);
    scenarios.push(scenario);
    scenario.hold();
    const workers = await scenario.startWorkers(2);
    const titles = await scenario.enqueue(10);
    // One more from the command line, and the same one again: added once.
    const message = join(scenario.dir, 'message.json');
    writeFileSync(message, JSON.stringify({ title: 'ticket 11' }));
    const env = { REDIS_URL: redisUrl, TROUPE_REDIS_PREFIX: scenario.prefix };
    const sent = await Promise.all([
      troupe(['trigger', 'tickets', '--data', message, '--id', 't-11'], env),
      troupe(['trigger', 'tickets', '--data', message, '--id', 't-11'], env),
    ]);
    expect(sent.map((result) => [result.status, result.stdout.trim()])).toEqual([
      [0, 't-11'],
      [0, 't-11'],
    ]);
    titles.push('ticket 11');
    // One message each in hand at once (concurrency 1): both workers have work before any finishes.
    await waitFor(() => new Set(toolMarkers(scenario.dir).map((marker) => marker.pid)).size === 2, 60_000, 'both workers to hold a message');
    scenario.release();
    const outcomes = await scenario.outcomes(titles.length);
    const effects = expectEachOnce(outcomes, scenario.dir, titles);
    expect(attempts(scenario.dir)).toHaveLength(titles.length);
    const pids = new Set([...effects.values()].map((text) => Number(text.split(' ').at(-1))));
    expect(pids).toEqual(new Set(workers.map((worker) => worker.child.pid)));
    // Each worker printed one line per message it handled, and together every message once.
    const lines = workers.flatMap((worker) => worker.stdout.split('\n').filter((line) => line.startsWith('trigger ')));
    expect(lines.map((line) => line.split(':')[0]).sort()).toEqual(titles.map((_, i) => `trigger tickets/t-${i + 1}`).sort());
    expect(lines.every((line) => line.includes(': done by triage'))).toBe(true);
  }, 240_000);

  it('a worker killed after a side effect: another handles the message again and the effect is not repeated', async () => {
    // Short locks, so the killed worker's message goes back to waiting soon; long enough that a busy machine keeps a live worker's.
    const scenario = new Scenario(['--concurrency', '1', '--lock-duration-ms', '3000', '--stalled-interval-ms', '1000', '--quiet']);
    scenarios.push(scenario);
    scenario.hold();
    const [first] = await scenario.startWorkers(2);
    const titles = await scenario.enqueue(4);
    const held = await waitFor(() => toolMarkers(scenario.dir).find((marker) => marker.pid === first!.child.pid), 60_000, 'the first worker to make an effect');
    first!.child.kill('SIGKILL');
    await first!.exited;
    scenario.release();
    const outcomes = await scenario.outcomes(titles.length);
    expectEachOnce(outcomes, scenario.dir, titles);
    // The killed worker's tool call ran again elsewhere under the same key, and the receiving side refused it.
    const tries = attempts(scenario.dir).filter((line) => line.startsWith(`${held.title} `));
    expect(tries.length).toBeGreaterThanOrEqual(2);
    expect(new Set(tries.map((line) => line.split(' ').at(-2))).size).toBe(1);
    expect(new Set(tries.map((line) => line.split(' ').at(-1))).size).toBeGreaterThanOrEqual(2);
  }, 240_000);
});
