import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poll, redisServerAvailable, startRedisServer } from '../support/redis-server.js';
import { useRedis, redisUrl } from '../support/redis.js';
import { transpileForChildren } from '../support/transpile.js';

// The dashboard with Redis: it served bare 500 pages when Redis was down, and ignored SIGTERM
// for over a minute after a browser session. Now it serves a 503 page that says what is down
// and what to do, stays up, and stops within moments of SIGINT or SIGTERM.

interface Dashboard {
  child: ChildProcess;
  stderr: string;
  url: string;
  code: number | null | undefined;
}

let build: string;
const started: Dashboard[] = [];

beforeAll(async () => {
  build = await transpileForChildren(['src', 'bin', 'test/work/tracking-model.ts', 'test/work/fixtures/worker-graph.ts']);
}, 60_000);

afterAll(() => {
  for (const { child } of started) if (child.exitCode === null) child.kill('SIGKILL');
});

async function startDashboardProcess(redis: string): Promise<Dashboard> {
  const child = spawn(
    process.execPath,
    [join(build, 'bin/troupe.js'), 'dashboard', '--port', '0', '--graph', join(build, 'test/work/fixtures/worker-graph.js')],
    {
      env: {
        ...process.env,
        REDIS_URL: redis,
        TROUPE_REDIS_PREFIX: `troupe-test-dash-${randomBytes(4).toString('hex')}`,
        TROUPE_HOME: mkdtempSync(join(tmpdir(), 'troupe-dashboard-live-')),
        WORK_TEST_GRAPH: `dash-${randomBytes(4).toString('hex')}`,
        TROUPE_LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const dashboard: Dashboard = { child, stderr: '', url: '', code: undefined };
  started.push(dashboard);
  child.stderr!.on('data', (chunk: Buffer) => (dashboard.stderr += chunk.toString()));
  child.once('exit', (code) => (dashboard.code = code));
  await poll(
    () => /dashboard on http:\/\/[\d.:]+/.test(dashboard.stderr) || dashboard.code !== undefined,
    30_000,
    `the dashboard to start (stderr: ${dashboard.stderr})`,
  );
  expect(dashboard.code, dashboard.stderr).toBeUndefined();
  dashboard.url = /dashboard on (http:\/\/[\d.:]+)/.exec(dashboard.stderr)![1]!;
  return dashboard;
}

function get(url: string, path: string, agent?: Agent): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { ...(agent ? { agent } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function stops(dashboard: Dashboard, signal: NodeJS.Signals): Promise<void> {
  dashboard.child.kill(signal);
  // Generous: the point is that it exits at all, where it used to wait for a minute or more.
  await poll(() => dashboard.code !== undefined, 20_000, `the dashboard to exit after ${signal} (stderr: ${dashboard.stderr})`);
  expect(dashboard.code).toBe(0);
}

describe('the dashboard process with Redis', async () => {
  const withRedis = await useRedis();

  it.runIf(withRedis)(
    'stops with code 0 on SIGTERM while a browser holds keep-alive connections, one of them mid-request',
    async () => {
      const dashboard = await startDashboardProcess(redisUrl);
      const agent = new Agent({ keepAlive: true });
      // A browser session: pages and bull-board's API fetched over kept-alive connections.
      expect((await get(dashboard.url, '/', agent)).status).toBe(200);
      expect((await get(dashboard.url, '/queues/board/api/queues', agent)).status).toBe(200);
      // And one request whose body never finishes arriving.
      const { port } = new URL(dashboard.url);
      const hanging: Socket = connect(Number(port), '127.0.0.1');
      hanging.on('error', () => {});
      await new Promise<void>((resolve) => hanging.once('connect', () => resolve()));
      hanging.write(
        `POST /reviews/x/approve HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nnote=`,
      );
      try {
        await stops(dashboard, 'SIGTERM');
      } finally {
        agent.destroy();
        hanging.destroy();
      }
    },
    60_000,
  );

  it.runIf(withRedis)(
    'stops with code 0 on SIGTERM while a live page holds its event stream open',
    async () => {
      const dashboard = await startDashboardProcess(redisUrl);
      // What a live page does: an EventSource on /events that the server keeps open and polls for.
      const events = await new Promise<{ first: string; destroy(): void; ended: Promise<void> }>((resolve, reject) => {
        const req = request(`${dashboard.url}/events?page=%2F&seen=x`, { headers: { accept: 'text/event-stream' } }, (res) => {
          expect(res.statusCode).toBe(200);
          expect(res.headers['content-type']).toMatch(/text\/event-stream/);
          res.setEncoding('utf8');
          const ended = new Promise<void>((done) => {
            res.once('end', () => done());
            res.once('close', () => done());
          });
          let text = '';
          res.on('data', (chunk: string) => {
            text += chunk;
            // The page's version differs from "x": the stream says it changed.
            if (text.includes('event: change')) resolve({ first: text, destroy: () => req.destroy(), ended });
          });
        });
        req.on('error', reject);
        req.end();
      });
      expect(events.first).toMatch(/^: live\n\n/);
      try {
        await stops(dashboard, 'SIGTERM');
        // The server ended the stream itself (the browser would reconnect to a new dashboard).
        await events.ended;
      } finally {
        events.destroy();
      }
    },
    60_000,
  );

  it.runIf(withRedis)(
    'stops with code 0 on SIGINT',
    async () => {
      const dashboard = await startDashboardProcess(redisUrl);
      expect((await get(dashboard.url, '/reviews')).status).toBe(200);
      await stops(dashboard, 'SIGINT');
    },
    60_000,
  );

  it.runIf(redisServerAvailable())(
    'serves a 503 page that says Redis is down and what to do, stays up, and still stops on SIGTERM',
    async () => {
      const redis = await startRedisServer();
      let dashboard: Dashboard;
      try {
        dashboard = await startDashboardProcess(redis.url);
        expect((await get(dashboard.url, '/')).status).toBe(200);
      } finally {
        await redis.stop();
      }
      for (const path of ['/', '/reviews', '/runs/some-run', '/work', `/queues`]) {
        const reply = await get(dashboard.url, path);
        if (path === '/work') {
          expect(reply.status).toBe(200); // nothing on it needs Redis
          continue;
        }
        expect({ path, status: reply.status }).toEqual({ path, status: 503 });
        expect(reply.body).toContain('<h1>Redis does not answer</h1>');
        expect(reply.body).toContain(redis.url);
        expect(reply.body).toContain('What to do:');
        expect(reply.headers['retry-after']).toBe('5');
      }
      expect(dashboard.code).toBeUndefined();
      await stops(dashboard, 'SIGTERM');
    },
    90_000,
  );
});

describe('the dashboard process that cannot listen', () => {
  it('exits with code 2 naming the port when it is taken, instead of staying up on its Redis connections', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    const { port } = taken.address() as AddressInfo;
    try {
      const child = spawn(process.execPath, [join(build, 'bin/troupe.js'), 'dashboard', '--port', String(port)], {
        env: { ...process.env, REDIS_URL: redisUrl, TROUPE_HOME: mkdtempSync(join(tmpdir(), 'troupe-dashboard-port-')), TROUPE_LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      let code: number | null | undefined;
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (exitCode) => (code = exitCode));
      started.push({ child, stderr: '', url: '', code: undefined });
      await poll(() => code !== undefined, 30_000, `the dashboard to exit (stderr: ${stderr})`);
      expect(code).toBe(2);
      expect(stderr).toContain(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  }, 60_000);
});
