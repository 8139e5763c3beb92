// Side effects of workflow steps happen exactly once, whatever happens to the processes that run
// them: a SIGKILL while a parallel branch runs, two `--resume` of one run at once, a run waiting
// for review in one terminal while `review approve --resume` runs in another. Every process here is
// the real `troupe` command (src/ transpiled for child processes), on the file store and on Redis.
// Each side effect appends its idempotency key to effects.log; every key must appear exactly once.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listReviews, openStateStore, type StateStore } from 'troupe';
import { redisUrl, useRedis } from '../support/redis.js';
import { transpileForChildren } from '../support/transpile.js';
import { exactlyOnce, tally, until } from '../support/wait.js';
import { sidefxProject } from './sidefx-project.js';
import { listItems, listRuns } from '../../src/workflow/run-state.js';

const fixture = pathToFileURL(resolve('test/reliability/fixtures/sidefx.mjs')).href;
let build: string;
let redis = false;
const stores: StateStore[] = [];
const prefixes: string[] = [];

beforeAll(async () => {
  redis = await useRedis();
  build = await transpileForChildren(['src']);
}, 120_000);
afterAll(async () => {
  for (const store of stores) await store.close();
  if (prefixes.length === 0) return;
  const client = new Redis(redisUrl);
  for (const prefix of prefixes) {
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length) await client.del(...keys);
  }
  client.disconnect();
});

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Setup {
  dir: string;
  store: StateStore;
  troupe(args: string[], env?: Record<string, string>): { kill(): void; done: Promise<Finished> };
  items(items: unknown[]): string;
  effects(): string[];
}

/** A project directory with crews/branches and crews/payflow (unless `crews` is false), and a store of `kind`. */
async function setup(kind: 'embedded' | 'redis', { crews = true } = {}): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-sidefx-'));
  const env = sidefxProject(
    dir,
    build,
    crews ? ['branches', 'payflow'] : [],
    kind === 'redis' ? { url: redisUrl, prefix: `test-sidefx-${Math.random().toString(36).slice(2)}` } : undefined,
  );
  const store = await openStateStore({ env });
  stores.push(store);
  if (env.TROUPE_REDIS_PREFIX) prefixes.push(env.TROUPE_REDIS_PREFIX);
  return {
    dir,
    store,
    troupe(args, extra = {}) {
      const child = spawn(process.execPath, [join(build, 'src', 'cli', 'main.js'), ...args], {
        cwd: dir,
        env: { ...env, ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      return {
        kill: () => child.kill('SIGKILL'),
        done: new Promise((resolve, reject) => {
          child.on('error', reject);
          child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
        }),
      };
    },
    items(items) {
      const file = join(dir, `items-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(file, JSON.stringify(items));
      return file;
    },
    effects() {
      const file = join(dir, 'effects.log');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    },
  };
}

/**
 * Starts `branches` on items a and b, waits until both `slow` branches started (their marker
 * files) and the finished `fast` branches are recorded, and kills the process with SIGKILL.
 */
async function crashDuringSlow(env: Setup): Promise<string> {
  const first = env.troupe(
    [
      'run',
      'branches',
      '--input',
      env.items([
        { id: 'a', input: { amount: 1 } },
        { id: 'b', input: { amount: 2 } },
      ]),
      '--quiet',
    ],
    { SIDEFX_SLOW: 'hang' },
  );
  await until('both slow branches to start', () => ['a', 'b'].every((item) => readdirSync(env.dir).some((name) => name.startsWith(`slow-started.${item}.`))));
  const runId = await until('the run record', async () => (await listRuns(env.store))[0]?.id);
  // Where each step's outcome is saved when it ends, the fast branches show as done soon. Where
  // it is not (the defect), this bound passes and the kill repeats them: the tally shows it.
  await until(
    'the fast branches to be recorded',
    async () => (await listItems(env.store, runId)).every((item) => item.tasks['fast']?.status === 'done') || undefined,
    20_000,
  ).catch(() => {});
  first.kill();
  expect((await first.done).signal).toBe('SIGKILL');
  return runId;
}

const branchKeys = (runId: string) => ['a', 'b'].flatMap((item) => ['prep', 'fast', 'slow', 'join'].map((task) => `${runId}.${item}.${task}`));

describe.each(['embedded', 'redis'] as const)('side effects happen exactly once (%s store)', (kind) => {
  it('a finished parallel branch does not run again after a SIGKILL during the slow one', async (context) => {
    if (kind === 'redis' && !redis) return context.skip();
    const env = await setup(kind);
    const runId = await crashDuringSlow(env);

    const resumed = await env.troupe(['run', '--resume', runId, '--json', '--quiet']).done;
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'done', counts: { accepted: 2 } });
    expect(tally(env.effects())).toEqual(exactlyOnce(branchKeys(runId)));
  }, 120_000);

  it('two --resume of one run at once: one continues it, the other names the holder and exits 2', async (context) => {
    if (kind === 'redis' && !redis) return context.skip();
    const env = await setup(kind);
    const runId = await crashDuringSlow(env);

    // Both resumes block in `slow` until the go file exists, so they overlap for as long as it takes.
    const resumes = [
      env.troupe(['run', '--resume', runId, '--quiet'], { SIDEFX_SLOW: 'go' }),
      env.troupe(['run', '--resume', runId, '--quiet'], { SIDEFX_SLOW: 'go' }),
    ];
    const first = await Promise.race([
      ...resumes.map((one, index) => one.done.then((result) => ({ index, result }))),
      new Promise<undefined>((r) => setTimeout(r, 60_000, undefined)),
    ]);
    writeFileSync(join(env.dir, 'go'), '');
    const results = await Promise.all(resumes.map((one) => one.done));

    expect(first, 'one resume should have stopped at once while the other held the run').toBeDefined();
    expect(first!.result.code).toBe(2);
    expect(first!.result.stderr).toMatch(new RegExp(`troupe: run "${runId}" is being continued by \\S+ \\(pid \\d+ on [^;]+; its lease runs until`));
    expect(results[1 - first!.index]!.code).toBe(0);
    expect(tally(env.effects())).toEqual(exactlyOnce(branchKeys(runId)));
  }, 150_000);

  it('a run waiting for review and `review approve --resume` in another process: exactly one pays', async (context) => {
    if (kind === 'redis' && !redis) return context.skip();
    const env = await setup(kind);
    const waiting = env.troupe(['run', 'payflow', '--input', env.items([{ id: 'inv', input: { amount: 48000 } }]), '--wait', '--quiet']);
    const [review] = await until('the review', async () => {
      const pending = await listReviews(env.store, { status: 'pending' });
      return pending.length === 1 ? pending : undefined;
    });

    const approved = await env.troupe(['review', 'approve', review!.id, '--resume', '--quiet']).done;
    expect(approved.code).toBe(0);
    // Either the waiting run still held the run (it applies the decision, and this says so), or it
    // had already applied it and finished, and this resume found nothing left to do.
    if (approved.stderr)
      expect(approved.stderr).toMatch(
        new RegExp(`the decision is recorded; not resuming here: run "${review!.runId}" is being continued by \\S+ .*which applies it`),
      );
    else expect(approved.stdout).toMatch(/payflow run \S+: done \(1 accepted\)/);
    const run = await waiting.done;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(tally(env.effects())).toEqual(exactlyOnce([`${review!.runId}.inv.prep`, `${review!.runId}.inv.pay`]));
  }, 120_000);
});

describe('the CLI with workflows loaded by path and damaged records (embedded store)', () => {
  it('`run --resume` and `review approve --resume` find a workflow that was loaded by path', async () => {
    // No crews/payflow here: only the path leads to the workflow.
    const env = await setup('embedded', { crews: false });
    mkdirSync(join(env.dir, 'elsewhere'));
    const path = join(env.dir, 'elsewhere', 'sidefx.mjs');
    writeFileSync(path, `export { default } from '${fixture}?workflow=payflow';\n`);

    const first = await env.troupe(['run', path, '--input', env.items([{ id: 'inv', input: { amount: 5 } }]), '--json', '--quiet']).done;
    expect(first.code).toBe(3);
    const { runId, reviews } = JSON.parse(first.stdout) as { runId: string; reviews: Array<{ id: string }> };
    const again = await env.troupe(['run', '--resume', runId, '--quiet']).done;
    expect(again.stderr).toBe('');
    expect(again.code).toBe(3);

    const approved = await env.troupe(['review', 'approve', reviews[0]!.id, '--resume', '--quiet']).done;
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/payflow run \S+: done \(1 accepted\)/);
    expect(tally(env.effects())).toEqual(exactlyOnce([`${runId}.inv.prep`, `${runId}.inv.pay`]));
  }, 60_000);

  it('a damaged review is named with its file, and `review list` and `runs show` still show the rest', async () => {
    const env = await setup('embedded');
    const runs: Array<{ runId: string; reviews: Array<{ id: string }> }> = [];
    for (const id of ['one', 'two']) {
      const result = await env.troupe(['run', 'payflow', '--input', env.items([{ id, input: { amount: 5 } }]), '--json', '--quiet']).done;
      expect(result.code).toBe(3);
      runs.push(JSON.parse(result.stdout));
    }
    const broken = runs[0]!.reviews[0]!.id;
    const database = join(env.dir, 'home', 'state.db');
    const { default: Database } = await import('libsql');
    const raw = new Database(database);
    raw.prepare("UPDATE documents SET value = '{\"id\":' WHERE collection = 'reviews' AND id = ?").run(broken);
    raw.close();
    const file = `${database} (documents reviews/${broken})`;

    const listed = await env.troupe(['review', 'list']).done;
    expect(listed.code).toBe(1);
    expect(listed.stdout).toContain(`review ${runs[1]!.reviews[0]!.id} (pending)`);
    expect(listed.stderr).toContain(`troupe: The reviews record "${broken}" at ${file} is corrupt: not valid JSON`);

    const shown = await env.troupe(['runs', 'show', runs[1]!.runId]).done;
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`run ${runs[1]!.runId} — workflow payflow, awaiting-review`);
    expect(shown.stderr).toContain(`troupe: warning: The reviews record "${broken}" at ${file} is corrupt`);

    for (const command of [
      ['review', 'show', broken],
      ['review', 'approve', broken],
    ]) {
      const result = await env.troupe(command).done;
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`troupe: The reviews record "${broken}" at ${file} is corrupt`);
      expect(result.stderr).not.toMatch(/no review/);
    }
  }, 60_000);
});
