import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { claim, codeTask, defineWorkflow, listReviews } from 'troupe';
import { FileStore } from 'troupe/store';
import { createDashboard, startDashboard } from 'troupe/dashboard';
import { redisUrl, useRedis } from '../support/redis.js';
import { openableUrl } from '../../src/dashboard/guard.js';

// Who may act through the dashboard: a page of another site must not approve a review or add a
// job through bull-board, even with the person's browser; the dashboard's own pages can.

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request, so the test sets Origin, Host, Referer and Sec-Fetch-Site as a browser (or an attacker) would. */
function send(url: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname,
        port,
        path,
        method: options.method ?? 'GET',
        headers: { ...(options.body !== undefined ? { 'content-length': Buffer.byteLength(options.body) } : {}), ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const formType = { 'content-type': 'application/x-www-form-urlencoded' };

async function pendingRun(store: FileStore): Promise<{ runId: string; reviewId: string }> {
  const doc = z.object({ text: z.string() });
  const workflow = defineWorkflow({
    name: 'csrf-check',
    input: doc,
    tasks: [
      codeTask({
        name: 'pay',
        input: doc,
        output: z.string(),
        run: ({ text }) => claim(`pay ${text}`, [{ source: 'invoice', quote: text }]),
        policy: { risk: 'high' },
      }),
    ],
    edges: [],
  });
  const { runId } = await workflow.run([{ id: 'invoice-1', input: { text: '48,000 USD' } }], { store });
  const [review] = await listReviews(store, { runId });
  return { runId, reviewId: review!.id };
}

describe('the dashboard refuses requests from other sites', async () => {
  const withRedis = await useRedis();
  const queueName = `csrf-${randomBytes(4).toString('hex')}`;
  const prefix = `troupe-test-csrf-${randomBytes(4).toString('hex')}`;
  let store: FileStore;
  let reviewId: string;
  let dashboard: { url: string; token: string; close(): Promise<void> };
  let readOnly: { url: string; token: string; close(): Promise<void> } | undefined;

  beforeAll(async () => {
    store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-dashboard-csrf-')) });
    ({ reviewId } = await pendingRun(store));
    const bullBoard = withRedis ? { bullBoard: { url: redisUrl, prefix, queues: [queueName] } } : {};
    // Queue actions allowed: what stops the attacker is the origin check and the token, not read-only mode.
    dashboard = await startDashboard({ store, port: 0, reviewer: 'tester', allowQueueActions: true, ...bullBoard });
    if (withRedis) readOnly = await startDashboard({ store, port: 0, ...bullBoard });
  }, 60_000);

  afterAll(async () => {
    await dashboard?.close();
    await readOnly?.close();
    if (withRedis) {
      const queue = new Queue(queueName, { connection: { url: redisUrl }, prefix });
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  const own = () => ({ origin: dashboard.url, 'sec-fetch-site': 'same-origin' });
  const status = async () => (await listReviews(store)).find((r) => r.id === reviewId)!.status;

  it('refuses a cross-origin form post that approves a review, with or without the token; the review stays pending', async () => {
    const approve = `/reviews/${reviewId}/approve`;
    const attempts = [
      { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { referer: 'http://evil.example/page.html' },
      {},
    ];
    for (const headers of attempts) {
      for (const body of [form({ note: 'pwned' }), form({ note: 'pwned', _token: dashboard.token })]) {
        const reply = await send(dashboard.url, approve, { method: 'POST', headers: { ...formType, ...headers }, body });
        expect({ headers, status: reply.status }).toEqual({ headers, status: 403 });
      }
    }
    // The browser's own word wins over a forged-looking Origin: same origin but Sec-Fetch-Site cross-site.
    const forged = await send(dashboard.url, approve, {
      method: 'POST',
      headers: { ...formType, origin: dashboard.url, 'sec-fetch-site': 'cross-site' },
      body: form({ _token: dashboard.token }),
    });
    expect(forged.status).toBe(403);
    expect(await status()).toBe('pending');
  });

  it('refuses a same-origin post without the token, and a DNS-rebinding Host even with it', async () => {
    const approve = `/reviews/${reviewId}/approve`;
    const noToken = await send(dashboard.url, approve, { method: 'POST', headers: { ...formType, ...own() }, body: form({ note: 'x' }) });
    expect(noToken.status).toBe(403);
    expect(noToken.body).toContain('does not carry the dashboard&#39;s token');
    const wrongToken = await send(dashboard.url, approve, { method: 'POST', headers: { ...formType, ...own() }, body: form({ _token: 'guess' }) });
    expect(wrongToken.status).toBe(403);
    // evil.example re-pointed at 127.0.0.1: its page is "same origin" with itself.
    const port = new URL(dashboard.url).port;
    const rebound = { host: `evil.example:${port}`, origin: `http://evil.example:${port}`, 'sec-fetch-site': 'same-origin' };
    const rebinding = await send(dashboard.url, approve, { method: 'POST', headers: { ...formType, ...rebound }, body: form({ _token: dashboard.token }) });
    expect(rebinding.status).toBe(403);
    expect((await send(dashboard.url, '/reviews', { headers: { host: `evil.example:${port}` } })).status).toBe(403);
    expect(await status()).toBe('pending');
  });

  it("accepts the dashboard's own form with its token, and puts the token in the review form", async () => {
    const page = await send(dashboard.url, '/reviews');
    expect(page.body).toContain(`<input type="hidden" name="_token" value="${dashboard.token}">`);
    const reply = await send(dashboard.url, `/reviews/${reviewId}/approve`, {
      method: 'POST',
      headers: { ...formType, ...own() },
      body: form({ note: 'checked the invoice', _token: dashboard.token }),
    });
    expect(reply.status).toBe(303);
    expect((await listReviews(store)).find((r) => r.id === reviewId)).toMatchObject({
      status: 'approved',
      decision: { by: 'tester', note: 'checked the invoice' },
    });
  });

  it('sends security headers on every response', async () => {
    for (const path of ['/', '/reviews', '/no-such-page', ...(withRedis ? ['/queues/board', '/queues/board/static/images/logo.svg'] : [])]) {
      const { headers } = await send(dashboard.url, path);
      const csp = String(headers['content-security-policy']);
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(headers['x-frame-options'], path).toBe('DENY');
      expect(headers['x-content-type-options'], path).toBe('nosniff');
      expect(headers['referrer-policy'], path).toBe('same-origin');
    }
  });

  describe.runIf(withRedis)("bull-board's API", () => {
    const jobs = async () => {
      const queue = new Queue(queueName, { connection: { url: redisUrl }, prefix });
      try {
        const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'completed', 'failed', 'prioritized');
        return Object.values(counts).reduce((a, b) => a + b, 0);
      } finally {
        await queue.close();
      }
    };
    const addJob = `/queues/board/api/queues/${queueName}/add`;
    const payload = JSON.stringify({ name: 'notify', data: { content: 'PWNED-BY-CSRF' } });

    it('refuses a cross-origin text/plain post to the add-job route, and no job is added', async () => {
      const attacks = [
        { 'content-type': 'text/plain', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
        { 'content-type': 'text/plain', origin: 'http://evil.example' },
        { 'content-type': 'text/plain' },
        // Even knowing the token does not help a page of another site.
        { 'content-type': 'text/plain', origin: 'http://evil.example', 'x-troupe-token': dashboard.token },
      ];
      for (const headers of attacks) {
        const reply = await send(dashboard.url, addJob, { method: 'POST', headers, body: payload });
        expect({ headers, status: reply.status }).toEqual({ headers, status: 403 });
      }
      const retry = await send(dashboard.url, `/queues/board/api/queues/${queueName}/retry/failed`, {
        method: 'PUT',
        headers: { origin: 'http://evil.example' },
      });
      expect(retry.status).toBe(403);
      expect(await jobs()).toBe(0);
    });

    it("lets the dashboard's own page act with --allow-queue-actions, and keeps bull-board read-only without it", async () => {
      const page = await send(dashboard.url, '/queues/board');
      const cookie = String(page.headers['set-cookie']).split(';')[0]!;
      expect(cookie).toMatch(/^troupe_dashboard_[0-9a-f]{12}=/);
      expect(String(page.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
      // bull-board's own fetches carry the cookie, not a header: that is how its actions pass.
      const headers = { 'content-type': 'application/json', ...own(), cookie };
      expect((await send(dashboard.url, addJob, { method: 'POST', headers: { 'content-type': 'application/json', ...own() }, body: payload })).status).toBe(
        403,
      );
      expect((await send(dashboard.url, addJob, { method: 'POST', headers, body: payload })).status).toBe(200);
      expect(await jobs()).toBe(1);

      const readOnlyCookie = String((await send(readOnly!.url, '/queues/board')).headers['set-cookie']).split(';')[0]!;
      const refused = await send(readOnly!.url, addJob, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: readOnly!.url, 'sec-fetch-site': 'same-origin', cookie: readOnlyCookie },
        body: payload,
      });
      expect(refused.status).toBe(405);
      expect(await jobs()).toBe(1);
    });
  });
});

describe('the dashboard bound beyond loopback', () => {
  // The guard's policy for a non-loopback bind, served on 127.0.0.1 so that the test never listens on the network.
  let server: ReturnType<typeof serve>;
  let url: string;
  // An operator's TROUPE_DASHBOARD_TOKEN may hold characters that mean something in a cookie.
  const token = `a b;c=${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-dashboard-open-')) });
    const { app } = createDashboard({ store, host: '0.0.0.0', token });
    url = await new Promise<string>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(`http://127.0.0.1:${info.port}`));
    });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('needs the token for every request; ?token= once sets a cookie and leaves the address bar', async () => {
    expect((await send(url, '/')).status).toBe(401);
    expect((await send(url, '/?token=wrong')).status).toBe(401);
    const first = await send(url, `/reviews?token=${encodeURIComponent(token)}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/reviews');
    expect(String(first.headers['set-cookie'])).toMatch(/^troupe_dashboard_[0-9a-f]{12}=a%20b%3Bc%3D[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Strict$/);
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    const page = await send(url, '/reviews', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Reviews</h1>');
    expect((await send(url, '/', { headers: { 'x-troupe-token': token } })).status).toBe(200);
  });
});

describe('the address printed for a dashboard bound to every interface', () => {
  const lan = { address: '10.1.2.3', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: '10.1.2.3/8' } as const;
  const loop = { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' } as const;

  it('names an address of this machine a browser can open, not 0.0.0.0 or ::', () => {
    expect(openableUrl('http://0.0.0.0:4000', { lo: [loop], eth0: [lan] })).toBe('http://10.1.2.3:4000');
    expect(openableUrl('http://[::]:4000', { lo: [loop], eth0: [lan] })).toBe('http://10.1.2.3:4000');
    expect(openableUrl('http://0.0.0.0:4000', { lo: [loop] })).toBe('http://127.0.0.1:4000');
    expect(openableUrl('http://192.168.1.9:4000', { eth0: [lan] })).toBe('http://192.168.1.9:4000');
  });
});
