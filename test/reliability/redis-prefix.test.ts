// Two setups sharing one Redis, told apart only by TROUPE_REDIS_PREFIX: each runs the same
// workflow (an agent step with an external side effect, then a review), the same queue and the
// same work graph, through the openers the CLI uses. Neither sees the other's runs, reviews,
// jobs or items (library listings and `troupe runs list` / `troupe review list`), and every key
// either wrote starts with its prefix. On a Redis of its own, so that every key in it is ours.
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Agent, agentTask, codeTask, defineTool, defineWorkflow, humanTask } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openJobQueue } from '../../src/queue/open-job-queue.js';
import { openStateStore } from '../../src/store/open-state-store.js';
import type { StateStore } from '../../src/store/state-store.js';
import { openWorkGraph } from '../../src/work/open-work-graph.js';
import { listReviews } from '../../src/workflow/review.js';
import { listRuns } from '../../src/workflow/run-state.js';
import { redisServerAvailable, startRedisServer } from '../support/redis-server.js';
import { runCommand } from '../support/run-command.js';
import { trackingModel } from '../work/tracking-model.js';

type OwnRedis = Awaited<ReturnType<typeof startRedisServer>>;
let server: OwnRedis | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  if (redisServerAvailable()) server = await startRedisServer();
}, 60_000);
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await server?.stop();
});

const draft = z.object({ to: z.string(), subject: z.string() });
const sent = z.object({ sent: z.boolean(), note: z.string() });

/** draft → send (an agent whose tool has an external effect: an outbox record) → a person approves. */
function mailer(effects: string[]) {
  const sendEmail = defineTool({
    name: 'send_email',
    description: 'Sends an email.',
    input: draft,
    sideEffects: 'external',
    run: ({ to }, context) => (effects.push(`${context.idempotencyKey} ${to}`), `queued for ${to}`),
  });
  const model = scriptedModel((request) => {
    const last = request.messages.at(-1)!;
    if (last.role === 'tool') return reply.finish({ sent: true, note: 'queued' });
    return reply.toolCall('send_email', JSON.parse(String(last.content).split('\n').at(-1)!));
  });
  return defineWorkflow({
    name: 'prefix-mailer',
    input: z.object({ to: z.string() }),
    tasks: [
      codeTask({ name: 'draft', input: z.object({ to: z.string() }), output: draft, run: ({ to }) => ({ to, subject: 'Hello' }) }),
      agentTask({
        name: 'send',
        input: draft,
        output: sent,
        agent: new Agent({ name: 'mailer', instructions: 'Send the email.', tools: [sendEmail], model }),
        prompt: (value) => `Send this email:\n${JSON.stringify(value)}`,
      }),
      humanTask({ name: 'approve', input: sent, output: sent, question: () => 'Was it right to send it?' }),
    ],
  });
}

interface Setup {
  prefix: string;
  env: Record<string, string>;
  store: StateStore;
  runId: string;
  jobId: string;
  effects: string[];
}

/** Everything one setup writes: a workflow run waiting for review, one queued job, one work graph change. */
async function setUp(prefix: string, url: string): Promise<Setup> {
  const env = { REDIS_URL: url, TROUPE_REDIS_PREFIX: prefix };
  const store = await openStateStore({ env });
  cleanups.push(() => store.close());
  const runId = `run-${prefix}`;
  const effects: string[] = [];
  const summary = await mailer(effects).run([{ id: 'ann', input: { to: `ann@${prefix}.example` } }], { store, runId });
  expect(summary.status).toBe('awaiting-review');
  expect(effects).toHaveLength(1);

  // Same queue name for both setups: only the prefix keeps their jobs apart.
  const queue = await openJobQueue({ name: 'prefix-jobs', env });
  cleanups.push(() => queue.close({ graceMs: 0 }));
  const jobId = `job-${prefix}`;
  const handled: string[] = [];
  await queue.add('hello', { from: prefix }, { jobId });
  await queue.process((job) => void handled.push(job.id));
  await queue.waitUntilIdle({ timeoutMs: 30_000 });
  expect(handled).toEqual([jobId]);
  expect(await queue.counts()).toMatchObject({ waiting: 0, active: 0, completed: 1, failed: 0 });

  // Same graph name too.
  const graph = await openWorkGraph({ name: 'prefix-graph', items: [{ id: 'root' }, { id: 'leaf', dependsOn: ['root'] }] }, { env, model: trackingModel() });
  cleanups.push(() => graph.close({ graceMs: 0 }));
  await graph.seed();
  await graph.work({ concurrency: 1 });
  await graph.change('root', { content: `root of ${prefix}`, summary: 'a person edited the root' });
  await graph.waitUntilQuiet({ timeoutMs: 60_000 });
  return { prefix, env, store, runId, jobId, effects };
}

async function allKeys(url: string): Promise<string[]> {
  const client = new Redis(url);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, page] = await client.scan(cursor, 'COUNT', 1000);
      keys.push(...page);
      cursor = next;
    } while (cursor !== '0');
    return keys.sort();
  } finally {
    client.disconnect();
  }
}

describe('TROUPE_REDIS_PREFIX: two setups on one Redis', () => {
  it('keep their runs, reviews, effects, leases, jobs and work items apart, every key under its prefix', async (context) => {
    if (!server) return context.skip();
    const url = server.url;
    const [a, b] = [await setUp('alpha', url), await setUp('beta', url)];

    // The library's listings: each setup sees its own run and review only.
    for (const [mine, other] of [
      [a, b],
      [b, a],
    ] as const) {
      expect((await listRuns(mine.store)).map((run) => run.id)).toEqual([mine.runId]);
      const reviews = await listReviews(mine.store);
      expect(reviews.map((review) => review.runId)).toEqual([mine.runId]);
      expect(reviews.map((review) => review.runId)).not.toContain(other.runId);
    }

    // The CLI, reading the same environment variables.
    const cli = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
    for (const setup of [a, b]) {
      const env = { ...process.env, ...setup.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', TROUPE_HOME: '/nonexistent/troupe-home' };
      const runs = await runCommand(process.execPath, [cli, 'runs', 'list', '--json'], { env });
      expect(runs.stderr).toBe('');
      expect((JSON.parse(runs.stdout) as Array<{ id: string; kind: string }>).filter((run) => run.kind === 'workflow').map((run) => run.id)).toEqual([
        setup.runId,
      ]);
      const reviews = await runCommand(process.execPath, [cli, 'review', 'list', '--json'], { env });
      expect(reviews.stderr).toBe('');
      expect((JSON.parse(reviews.stdout) as Array<{ runId: string }>).map((review) => review.runId)).toEqual([setup.runId]);
    }

    // Every key in this Redis belongs to one of the two prefixes, and each prefix holds every
    // kind of record: run, item, review, lease, outbox effect, transitions, queue, work items.
    const keys = await allKeys(url);
    expect(keys.filter((key) => !key.startsWith('alpha:') && !key.startsWith('beta:'))).toEqual([]);
    for (const setup of [a, b]) {
      const own = keys.filter((key) => key.startsWith(`${setup.prefix}:`)).map((key) => key.slice(setup.prefix.length + 1));
      const other = setup === a ? b : a;
      expect(own.filter((key) => key.includes(other.runId) || key.includes(other.jobId))).toEqual([]);
      const [review] = await listReviews(setup.store);
      for (const expected of [
        `doc:runs:${setup.runId}`,
        `doc:items:${setup.runId}.ann`,
        `doc:reviews:${review!.id}`,
        `doc:leases:${setup.runId}`,
        `stream:transitions.${setup.runId}`,
        `prefix-jobs:${setup.jobId}`,
      ])
        expect(own).toContain(expected);
      expect(own.filter((key) => key.startsWith('doc:effects:'))).toHaveLength(1);
      expect(own.filter((key) => key.startsWith('work-prefix-graph:')).length).toBeGreaterThan(0);
      expect(own.filter((key) => key.startsWith('doc:work.prefix-graph')).length).toBeGreaterThan(0);
    }
  }, 240_000);
});
