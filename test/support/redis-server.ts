import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { redisAnswersAt } from './redis.js';

/** Where the tests find `redis-server` to start a Redis of their own (REDIS_SERVER overrides). */
export const redisServerPath = process.env.REDIS_SERVER ?? 'redis-server';

/** Whether `redis-server` can be started here; under TROUPE_REQUIRE_REDIS=1 its absence throws. */
export function redisServerAvailable(): boolean {
  if (spawnSync(redisServerPath, ['--version']).status === 0) return true;
  if (process.env.TROUPE_REQUIRE_REDIS === '1') throw new Error(`TROUPE_REQUIRE_REDIS=1 but ${redisServerPath} cannot be started.`);
  console.warn(`No ${redisServerPath}: skipping tests that start and stop a Redis of their own.`);
  return false;
}

/** A port nothing listens on right now (the OS picks it, then it is released). */
export async function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * A throwaway `redis-server` on a spare port; resolves once it answers PING. Without `dir` it keeps
 * nothing; with it, it persists to an append-only file there (fsync on every write), so a server
 * started again with the same port and `dir` has every acknowledged write, even after SIGKILL.
 */
export async function startRedisServer(
  options: { port?: number; dir?: string } = {},
): Promise<{ url: string; port: number; process: ChildProcess; stop(): Promise<void> }> {
  const port = options.port ?? (await sparePort());
  const persistence = options.dir ? ['--dir', options.dir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const child = spawn(redisServerPath, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  await poll(() => redisAnswersAt(url), 20_000, `redis-server on port ${port} to answer`);
  return {
    url,
    port,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls `check` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function poll(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
