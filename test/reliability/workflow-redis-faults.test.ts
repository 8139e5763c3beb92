// Process and Redis faults for workflow runs on the Redis store, with the real `troupe` command on
// a redis-server of the test's own (append-only persistence in a temp dir, so a restart keeps every
// acknowledged write): Redis stopped and started again while steps run, and a SIGKILL while an
// approved step runs under `review approve --resume`. Each fault waits for a marker file a step
// writes (never a fixed sleep). Afterwards every item is final, every side effect happened once,
// and the transitions tell what happened.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { codeTask, defineWorkflow, listReviews, openStateStore, RunLeaseLostError, type StateStore } from 'troupe';
import { redisServerAvailable, startRedisServer } from '../support/redis-server.js';
import { transpileForChildren } from '../support/transpile.js';
import { exactlyOnce, tally, until } from '../support/wait.js';
import { sidefxProject } from './sidefx-project.js';
import { listItems, listRuns, readTransitions } from '../../src/workflow/run-state.js';

const available = redisServerAvailable();
let build: string;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  build = await transpileForChildren(['src']);
}, 120_000);
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

type OwnRedis = Awaited<ReturnType<typeof startRedisServer>>;

/** A project with the sidefx workflows, a redis-server persisting to a temp dir, and a store on it. */
async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-wfredis-'));
  const redisDir = mkdtempSync(join(tmpdir(), 'troupe-wfredis-data-'));
  cleanups.push(
    () => rmSync(dir, { recursive: true, force: true }),
    () => rmSync(redisDir, { recursive: true, force: true }),
  );
  const server = { current: (await startRedisServer({ dir: redisDir })) as OwnRedis };
  cleanups.push(() => server.current.stop());
  const env = sidefxProject(dir, build, ['ledger', 'slowpay'], {
    url: server.current.url,
    prefix: `test-wfredis-${Math.random().toString(36).slice(2)}`,
  });
  const store: StateStore = await openStateStore({ env });
  cleanups.push(() => store.close());
  return {
    dir,
    store,
    prefix: env.TROUPE_REDIS_PREFIX!,
    url: () => server.current.url,
    /** Stops Redis at once (SIGKILL: no goodbye to clients), as a crash or a restart would. */
    stopRedis: () => server.current.stop(),
    /** Starts Redis again on the same port with the same data. */
    startRedis: async () => {
      server.current = await startRedisServer({ port: server.current.port, dir: redisDir });
    },
    troupe(args: string[]): { kill(): void; done: Promise<Finished> } {
      const child = spawn(process.execPath, [join(build, 'src', 'cli', 'main.js'), ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const done = new Promise<Finished>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
      });
      cleanups.push(async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await done;
      });
      return { kill: () => child.kill('SIGKILL'), done };
    },
    items(items: unknown[]): string {
      const file = join(dir, `items-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(file, JSON.stringify(items));
      return file;
    },
    log(name: 'effects' | 'attempts'): string[] {
      const file = join(dir, `${name}.log`);
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    },
    markers(prefix: string): string[] {
      return readdirSync(dir).filter((name) => name.startsWith(prefix));
    },
  };
}

describe.runIf(available)('workflow runs on Redis under process and Redis faults', () => {
  it('Redis stopped while steps run: the run stops with a clear reason, and after Redis is back --resume finishes it with every effect once', async () => {
    const env = await setup();
    const ids = ['a', 'b', 'c'];
    const run = env.troupe(['run', 'ledger', '--input', env.items(ids.map((id, n) => ({ id, input: { amount: n + 1 } }))), '--quiet']);
    await until('every `post` step to start', () => ids.every((id) => env.markers(`post-started.${id}.`).length === 1));
    const runId = await until('the run record', async () => (await listRuns(env.store))[0]?.id);

    // Redis goes away while the steps run; two of them act (through the keyed external system)
    // while it is down, the third is still waiting when the run finds it cannot record anything.
    await env.stopRedis();
    for (const id of ['a', 'b']) writeFileSync(join(env.dir, `go.${id}`), '');
    await until('two `post` steps to act', () => ['a', 'b'].every((id) => env.log('attempts').includes(`${runId}.${id}.post`)));
    // The process that holds the run stops all of it, the waiting step too, and ends: it never
    // lingers with steps that may still act after it said the run stopped.
    const first = await until(
      'the run to end while Redis is down',
      () => Promise.race([run.done, new Promise<undefined>((r) => setTimeout(r, 100, undefined))]),
      60_000,
    );
    writeFileSync(join(env.dir, 'go'), '');
    await env.startRedis();
    // It could not record what the steps did: it stops, says why, naming the store, and its lease
    // (a dead holder on this host) does not keep the resume waiting.
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(
      /^troupe: The state store at redis:\/\/127\.0\.0\.1:\d+ is unavailable: the connection was lost and did not come back after retrying \(.*ECONNREFUSED.*\)\. Check that it is running/,
    );
    const resumed = await env.troupe(['run', '--resume', runId, '--json', '--quiet']).done;
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'done', counts: { accepted: 3 } });

    const items = await listItems(env.store, runId);
    expect(items.map((item) => [item.id, item.state]).sort()).toEqual(ids.map((id) => [id, 'accepted']));
    expect(tally(env.log('effects'))).toEqual(exactlyOnce(ids.flatMap((id) => ['prep', 'post', 'book'].map((task) => `${runId}.${id}.${task}`))));
    const transitions = await readTransitions(env.store, runId);
    for (const id of ids) {
      const mine = transitions.filter((transition) => transition.item === id);
      expect(mine.at(-1)).toMatchObject({ to: 'accepted' });
      // A `post` whose outcome Redis never received is named as interrupted and run again.
      const reruns = mine.filter((transition) => transition.policy === 'resume.rerun' && transition.task === 'post');
      expect(reruns).toHaveLength(1);
      expect(env.log('attempts').filter((key) => key === `${runId}.${id}.post`)).toHaveLength(id === 'c' ? 1 : 2);
    }
  }, 240_000);

  it('SIGKILL while an approved step runs under `review approve --resume`: the resume pays once and the timeline shows the interruption', async () => {
    const env = await setup();
    const first = await env.troupe(['run', 'slowpay', '--input', env.items([{ id: 'inv', input: { amount: 48000 } }]), '--json', '--quiet']).done;
    expect(first.code).toBe(3);
    const { runId, reviews } = JSON.parse(first.stdout) as { runId: string; reviews: Array<{ id: string }> };

    const approving = env.troupe(['review', 'approve', reviews[0]!.id, '--resume', '--quiet']);
    await until('the approved `pay` step to act', () => env.markers('pay-effected.').length === 1);
    approving.kill();
    expect((await approving.done).signal).toBe('SIGKILL');
    expect(await listReviews(env.store, { status: 'pending' })).toEqual([]);

    writeFileSync(join(env.dir, 'go'), '');
    const resumed = await env.troupe(['run', '--resume', runId, '--json', '--quiet']).done;
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'done', counts: { accepted: 1 } });

    expect(tally(env.log('effects'))).toEqual(exactlyOnce([`${runId}.inv.prep`, `${runId}.inv.pay`]));
    expect(tally(env.log('attempts'))).toEqual({ [`${runId}.inv.pay`]: 2 });
    const [item] = await listItems(env.store, runId);
    expect(item).toMatchObject({ state: 'accepted', tasks: { pay: { status: 'done', output: 'paid 48000' } } });
    const transitions = await readTransitions(env.store, runId);
    expect(transitions.map((transition) => [transition.task, transition.policy ?? '', transition.to])).toEqual(
      expect.arrayContaining([
        ['approve', '', expect.any(String)],
        ['pay', 'resume.rerun', expect.any(String)],
      ]),
    );
    const rerun = transitions.findIndex((transition) => transition.policy === 'resume.rerun');
    expect(transitions[rerun]!.why).toMatch(/"pay" was interrupted/);
    expect(transitions.slice(rerun).some((transition) => transition.to === 'accepted')).toBe(true);
  }, 180_000);

  it('a holder that cannot reach Redis for longer than its lease stops its steps before another may take the run, and a resume then finishes it', async () => {
    const env = await setup();
    const effects: string[] = [];
    const started: string[] = [];
    const stopped: string[] = [];
    let go = false;
    const amount = z.object({ amount: z.number() });
    const workflow = defineWorkflow({
      name: 'lapse',
      input: amount,
      tasks: [
        codeTask({
          name: 'post',
          sideEffects: 'external',
          input: amount,
          output: amount,
          run: async (input, context) => {
            started.push(context.idempotencyKey);
            while (!go && !context.signal?.aborted) await new Promise((r) => setTimeout(r, 20));
            if (!go) {
              stopped.push(context.idempotencyKey);
              throw new Error('stopped before acting');
            }
            effects.push(context.idempotencyKey);
            return input;
          },
        }),
      ],
    });
    // In-process holders share a pid, so only the lease's expiry can free the run: a short one here.
    const leaseTtlMs = 1500;
    const holder = workflow.run([{ id: 'a', input: { amount: 1 } }], { store: env.store, leaseTtlMs }).then(
      () => undefined,
      (error: unknown) => error,
    );
    await until('the step to start', () => started.length === 1);
    const runId = (await listRuns(env.store))[0]!.id;

    await env.stopRedis();
    // Its renewals fail; once its lease ran out it must stop acting (bounded generously: the
    // lease is 1.5 s, renewed every 0.5 s, each try bounded by the store's retries).
    await until('the holder to stop its step after its lease ran out', () => stopped.length === 1, 60_000);
    const error = await holder;
    expect(error).toBeInstanceOf(RunLeaseLostError);
    expect((error as Error).message).toMatch(new RegExp(`lost the lease of run "${runId}": its lease ran out at \\S+ while it could not renew it`));
    expect(effects).toEqual([]);

    await env.startRedis();
    go = true;
    // Another process's store (the old one's connection is left as the outage left it).
    const again = await openStateStore({ env: { REDIS_URL: env.url(), TROUPE_REDIS_PREFIX: env.prefix } });
    cleanups.push(() => again.close());
    const summary = await workflow.resume(runId, { store: again, leaseTtlMs });
    expect(summary).toMatchObject({ status: 'done', counts: { accepted: 1 } });
    expect(effects).toEqual([`${runId}.a.post`]);
    const transitions = await readTransitions(again, runId);
    expect(transitions.filter((transition) => transition.policy === 'resume.rerun').map((transition) => transition.task)).toEqual(['post']);
  }, 180_000);
});
