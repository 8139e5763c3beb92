// A workflow run on `troupe worker` processes: `troupe run --detach` queues the items of the
// side-effect fixture's `ledger` workflow (prep → post → book) on a real Redis, two workers share
// the steps, one is SIGKILLed while its steps are in `post`, and `troupe runs show --wait` follows
// the run to its end. Every process is the real `troupe` command (src/ transpiled for children).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeysUnder, redisUrl, useRedis } from '../support/redis.js';
import { transpileForChildren } from '../support/transpile.js';
import { exactlyOnce, tally, until } from '../support/wait.js';
import { sidefxProject } from './sidefx-project.js';

const redis = await useRedis();
let build: string;
const prefix = `test-workers-${Math.random().toString(36).slice(2)}`;
const children: ChildProcess[] = [];

beforeAll(async () => {
  build = await transpileForChildren(['src']);
}, 120_000);
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (redis) await deleteKeysUnder(prefix);
});

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function troupe(dir: string, env: Record<string, string>, args: string[]): { child: ChildProcess; stderr: () => string; done: Promise<Finished> } {
  const child = spawn(process.execPath, [join(build, 'src', 'cli', 'main.js'), ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<Finished>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return { child, stderr: () => stderr, done };
}

describe.runIf(redis)('a workflow run on troupe worker processes (Redis)', () => {
  it('spreads the items over two workers; a worker killed mid-step hands its steps over: every item accepted, each side effect once, transitions from both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-workers-'));
    const env = sidefxProject(dir, build, ['ledger'], { url: redisUrl, prefix });
    // A short job lock: a killed worker's step goes to the other after about 3 s, not 30.
    const workerArgs = ['worker', '--concurrency', '2', '--lock-duration-ms', '3000', '--stalled-interval-ms', '1000', '--quiet'];
    const workers = [troupe(dir, env, workerArgs), troupe(dir, env, workerArgs)];
    await until('both workers to serve queued runs', () => workers.every((worker) => worker.stderr().includes('serving queued workflow runs')), 60_000);

    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    writeFileSync(join(dir, 'items.json'), JSON.stringify(ids.map((id, n) => ({ id, input: { amount: (n + 1) * 10 } }))));
    const starter = troupe(dir, env, ['run', 'ledger', '--input', 'items.json', '--detach']);
    const started = await starter.done;
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim();
    expect(runId).toMatch(/^run_[a-z0-9]+$/);
    expect(started.stderr).toContain(`troupe runs show ${runId} --wait`);

    // Each worker holds two items in `post` (it waits there for the go file): kill one of them there.
    const inPost = () =>
      readdirSync(dir).flatMap((file) => {
        const match = /^post-started\.([a-z])\.(\d+)$/.exec(file);
        return match ? [{ item: match[1]!, pid: Number(match[2]) }] : [];
      });
    const pids = workers.map((worker) => worker.child.pid!);
    await until('both workers to have items in post', () => pids.every((pid) => inPost().some((entry) => entry.pid === pid)), 60_000);
    const [victim, survivor] = workers as [(typeof workers)[0], (typeof workers)[0]];
    const victimItems = inPost()
      .filter((entry) => entry.pid === victim.child.pid)
      .map((entry) => entry.item);
    victim.child.kill('SIGKILL');
    await victim.done;
    writeFileSync(join(dir, 'go'), '');

    const followed = await troupe(dir, env, ['runs', 'show', runId, '--wait', '--json']).done;
    expect(followed.code, followed.stderr).toBe(0);
    const shown = JSON.parse(followed.stdout) as {
      run: { status: string };
      items: Array<{ id: string; state: string }>;
      transitions: Array<{ item: string; worker?: string; policy?: string; task?: string }>;
    };
    expect(shown.run.status).toBe('done');
    expect(shown.items.map((item) => `${item.id} ${item.state}`).sort()).toEqual(ids.map((id) => `${id} accepted`));

    // Each step's side effect once, the interrupted `post` steps included.
    const effects = readFileSync(join(dir, 'effects.log'), 'utf8').split('\n').filter(Boolean);
    expect(tally(effects)).toEqual(exactlyOnce(ids.flatMap((id) => ['prep', 'post', 'book'].map((task) => `${runId}.${id}.${task}`))));

    // The starting process received the items; both workers made step transitions; the survivor
    // took over the victim's steps and said so.
    const pidOf = (transition: { worker?: string }) => transition.worker?.split('/')[1];
    const received = shown.transitions.filter(
      (transition) => transition.task === undefined && transition.policy === undefined && pidOf(transition) === String(starter.child.pid),
    );
    expect(received.map((transition) => transition.item).sort()).toEqual(ids);
    const steps = shown.transitions.filter((transition) => transition.task !== undefined);
    expect(new Set(steps.map(pidOf))).toEqual(new Set(pids.map(String)));
    for (const item of victimItems) {
      const rerun = shown.transitions.find((transition) => transition.item === item && transition.policy === 'resume.rerun');
      expect(rerun, `item ${item} was taken over`).toMatchObject({ task: 'post', worker: expect.stringContaining(`/${survivor.child.pid}`) });
    }
    expect(followed.stderr).toContain('(by ');
    survivor.child.kill('SIGTERM');
    expect((await survivor.done).code).toBe(0);
  }, 180_000);
});

describe.runIf(redis)('a review in a run on workers (Redis)', () => {
  it('waits for a person: runs show --wait exits 3; review approve --resume queues the item again and a worker pays once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-workers-'));
    const env = sidefxProject(dir, build, ['payflow'], { url: redisUrl, prefix });
    const worker = troupe(dir, env, ['worker', '--quiet']);
    await until('the worker to serve queued runs', () => worker.stderr().includes('serving queued workflow runs'), 60_000);
    writeFileSync(join(dir, 'items.json'), JSON.stringify([{ id: 'p1', input: { amount: 120 } }]));
    const started = await troupe(dir, env, ['run', 'payflow', '--input', 'items.json', '--detach', '--quiet']).done;
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim();

    const waiting = await troupe(dir, env, ['runs', 'show', runId, '--wait', '--json', '--quiet']).done;
    expect(waiting.code, waiting.stderr).toBe(3);
    const shown = JSON.parse(waiting.stdout) as { run: { status: string }; reviews: Array<{ id: string; status: string }> };
    expect(shown.run.status).toBe('awaiting-review');
    const review = shown.reviews.find((one) => one.status === 'pending')!;

    const approved = await troupe(dir, env, ['review', 'approve', review.id, '--by', 'tester', '--resume', '--quiet']).done;
    expect(approved.code, approved.stderr).toBe(0);
    const done = await troupe(dir, env, ['runs', 'show', runId, '--wait', '--json', '--quiet']).done;
    expect(done.code, done.stderr).toBe(0);
    expect((JSON.parse(done.stdout) as { items: Array<{ state: string }> }).items.map((item) => item.state)).toEqual(['accepted']);
    const effects = readFileSync(join(dir, 'effects.log'), 'utf8').split('\n').filter(Boolean);
    expect(tally(effects)).toEqual(exactlyOnce([`${runId}.p1.prep`, `${runId}.p1.pay`]));
    worker.child.kill('SIGTERM');
    expect((await worker.done).code).toBe(0);
  }, 120_000);
});

describe('troupe run --detach and troupe worker without Redis', () => {
  it('refuses --detach without REDIS_URL, naming what to do (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-workers-'));
    const env = sidefxProject(dir, build, ['ledger']);
    writeFileSync(join(dir, 'items.json'), JSON.stringify([{ amount: 1 }]));
    const result = await troupe(dir, env, ['run', 'ledger', '--input', 'items.json', '--detach']).done;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--detach');
    expect(result.stderr).toContain('REDIS_URL');
    const worker = await troupe(dir, env, ['worker']).done;
    expect(worker.code).toBe(2);
    expect(worker.stderr).toContain('nothing to serve');
  }, 60_000);
});
