import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poll, redisServerAvailable, sparePort, startRedisServer } from '../support/redis-server.js';
import { transpileForChildren } from '../support/transpile.js';

// `troupe worker` with Redis down: it used to print one error and then stay alive forever in
// BullMQ's reconnect loop. Now it exits 2 when Redis does not answer at start, and 1 after a
// bounded outage later, each with a message that names the URL (never its password).

interface Child {
  child: ChildProcess;
  stderr: string;
  code: number | null | undefined;
}

let build: string;
const children: Child[] = [];

beforeAll(async () => {
  build = await transpileForChildren(['src', 'test/work/tracking-model.ts', 'test/work/fixtures/worker-graph.ts']);
}, 60_000);

afterAll(() => {
  for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
});

function worker(redisUrl: string, extra: string[] = []): Child {
  const child = spawn(
    process.execPath,
    [join(build, 'src/cli/main.js'), 'worker', '--graph', join(build, 'test/work/fixtures/worker-graph.js'), '--quiet', ...extra],
    {
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        TROUPE_REDIS_PREFIX: `troupe-test-down-${randomBytes(4).toString('hex')}`,
        TROUPE_HOME: mkdtempSync(join(tmpdir(), 'troupe-worker-down-')),
        WORK_TEST_GRAPH: `down-${randomBytes(4).toString('hex')}`,
        WORK_TEST_MODEL: '1',
        TROUPE_LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const running: Child = { child, stderr: '', code: undefined };
  child.stderr!.on('data', (chunk: Buffer) => (running.stderr += chunk.toString()));
  child.once('exit', (code) => (running.code = code));
  children.push(running);
  return running;
}

describe('troupe worker when Redis is down', () => {
  it('exits with code 2 at start when nothing answers at REDIS_URL, naming the URL without its password', async () => {
    const port = await sparePort();
    const run = worker(`redis://:s3cret-pass@127.0.0.1:${port}`);
    await poll(() => run.code !== undefined, 30_000, `the worker to exit (stderr so far: ${run.stderr})`);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`Redis does not answer at redis://:***@127.0.0.1:${port} (REDIS_URL)`);
    expect(run.stderr).toMatch(/ECONNREFUSED/);
    expect(run.stderr).not.toContain('s3cret-pass');
  }, 40_000);

  it.runIf(redisServerAvailable())(
    'says so when Redis goes away later, and exits with code 1 once --redis-timeout-ms has passed',
    async () => {
      const redis = await startRedisServer();
      try {
        const run = worker(redis.url, ['--redis-timeout-ms', '1000']);
        await poll(() => run.stderr.includes('serving work graph') || run.code !== undefined, 30_000, `the worker to start (stderr: ${run.stderr})`);
        expect(run.code).toBeUndefined();
        await redis.stop();
        await poll(() => run.code !== undefined, 40_000, `the worker to exit after Redis was killed (stderr so far: ${run.stderr})`);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(`Redis at ${redis.url} does not answer`);
        expect(run.stderr).toContain(`troupe: Lost Redis at ${redis.url} (REDIS_URL)`);
      } finally {
        await redis.stop();
      }
    },
    90_000,
  );

  it.runIf(redisServerAvailable())(
    'says when Redis is back after a short outage, and keeps serving',
    async () => {
      let redis = await startRedisServer();
      try {
        const run = worker(redis.url, ['--redis-timeout-ms', '120000']);
        await poll(() => run.stderr.includes('serving work graph') || run.code !== undefined, 30_000, `the worker to start (stderr: ${run.stderr})`);
        await redis.stop();
        await poll(() => run.stderr.includes('does not answer') || run.code !== undefined, 30_000, `the worker to notice (stderr: ${run.stderr})`);
        redis = await startRedisServer({ port: redis.port });
        await poll(() => run.stderr.includes('answers again') || run.code !== undefined, 30_000, `the worker to see Redis back (stderr: ${run.stderr})`);
        expect(run.code).toBeUndefined();
        expect(run.stderr).toContain(`Redis at ${redis.url} answers again after`);
        run.child.kill('SIGTERM');
        await poll(() => run.code !== undefined, 30_000, `the worker to stop on SIGTERM (stderr: ${run.stderr})`);
        expect(run.code).toBe(0);
      } finally {
        await redis.stop();
      }
    },
    120_000,
  );
});
