import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FixtureService, startFixtureService } from '../../crews/pr-merged/fixture-service.js';
import { enqueueTrigger, triggerQueueName } from '../../src/coordinator/trigger-queues.js';
import { openJobQueue } from '../../src/queue/open-job-queue.js';
import { deleteKeysUnder, redisUrl, useRedis } from '../support/redis.js';
import { runCommand } from '../support/run-command.js';
import { until } from '../support/wait.js';

// `troupe serve` as a user starts it: the built CLI in a process of its own, with a temporary
// TROUPE_HOME, serving pr-merged against a fixture service of the test's own (so its reactions are
// the effect to see), and the queue and schedule configurations of test/cli/fixtures/serve/.

const redis = await useRedis();

const event = (name: string) => JSON.parse(readFileSync(`crews/pr-merged/events/${name}.json`, 'utf8')) as { id: string; data: { ts: string } };

class Serve {
  readonly child: ChildProcess;
  stderr = '';
  stdout = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, ['dist/bin/troupe.js', 'serve', ...args], {
      env: {
        ...process.env,
        ANTHROPIC_API_KEY: '',
        OPENAI_API_KEY: '',
        TROUPE_RECORD: '',
        // CI exports REDIS_URL: without this, every serve would share one Redis store, whose outbox
        // remembers a trigger (its id is a hash of the body) from an earlier test or CI run and skips its effect.
        REDIS_URL: '',
        TROUPE_HOME: mkdtempSync(join(tmpdir(), 'troupe-serve-home-')),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Waits for "ready"; the endpoint's URL when it listens. */
  async ready(): Promise<string | undefined> {
    const line = await until(
      `troupe serve to be ready (stderr: ${this.stderr})`,
      () => /ready \(pid \d+(?:, listening on (\S+))?\)/.exec(this.stderr) ?? (this.child.exitCode !== null && 'exited'),
      90_000,
    );
    if (line === 'exited') throw new Error(`troupe serve exited with ${this.child.exitCode}: ${this.stderr}`);
    return line[1];
  }

  /** SIGTERM, then the exit code, however long a loaded machine takes. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

const servers: Serve[] = [];
const services: FixtureService[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await server.exited;
  }
  for (const service of services.splice(0)) await service.close();
});

async function servePrMerged(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ server: Serve; url: string; service: FixtureService }> {
  const service = await startFixtureService();
  services.push(service);
  const server = new Serve(['pr-merged', '--port', '0', ...args], { PR_MERGED_GITHUB_URL: service.url, PR_MERGED_CHAT_URL: service.url, ...env });
  servers.push(server);
  const url = (await server.ready())!;
  return { server, url, service };
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('troupe serve: event triggers over HTTP', () => {
  it('hands a posted event to pr-merged and answers with the outcome; the reaction reaches the chat service; SIGTERM exits 0', async () => {
    const { server, url, service } = await servePrMerged();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const merged = event('merged');
    // The id the cassette was recorded with: the llm coordinator replays it without a key.
    const response = await post(`${url}/events/chat`, JSON.stringify(merged.data), { 'x-troupe-event-id': merged.id });
    expect(response.status).toBe(200);
    const outcome = (await response.json()) as { status: string; configuration: string; coordinator: string; toolCalls: Array<{ tool: string }> };
    expect(outcome).toMatchObject({ status: 'done', configuration: 'pr-merged', coordinator: 'llm' });
    expect(outcome.toolCalls.map((call) => call.tool)).toEqual(['get_pull_request', 'add_reaction']);
    expect(service.reactions).toEqual([{ channel: 'eng', timestamp: merged.data.ts, name: 'merged' }]);
    // The sender retries the same event (a lost answer): the reaction is not made a second time.
    const again = await post(`${url}/events/chat`, JSON.stringify(merged.data), { 'x-troupe-event-id': merged.id });
    expect(again.status).toBe(200);
    expect(service.reactionRequests).toHaveLength(1);
    expect(await server.stop()).toBe(0);
    expect(server.stdout).toContain(`trigger chat/${merged.id}: done by pr-merged`);
    expect(server.stderr).toContain('SIGTERM: no longer accepting');
  });

  it('refuses bad JSON, a cross-origin post, another content type, an unknown source and an oversized body, with no effect', async () => {
    const { server, url, service } = await servePrMerged(['--coordinator', 'script', '--max-body-bytes', '2000']);
    const bad = await post(`${url}/events/chat`, '{\n  "type": "message",\n  "text": oops\n}');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^the request body:3:\d+: not valid JSON/);
    const merged = JSON.stringify(event('merged').data);
    const crossOrigin = await post(`${url}/events/chat`, merged, { origin: 'https://evil.example' });
    expect(crossOrigin.status).toBe(403);
    expect(((await crossOrigin.json()) as { error: string }).error).toBe('requests from another origin (https://evil.example) are refused');
    const form = await fetch(`${url}/events/chat`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: merged });
    expect(form.status).toBe(415);
    const unknown = await post(`${url}/events/github`, merged);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toBe('no configuration takes events from "github" (served: chat)');
    const big = await post(`${url}/events/chat`, JSON.stringify({ ...event('merged').data, padding: 'x'.repeat(3000) }));
    expect(big.status).toBe(413);
    const other = await post(`${url}/events/chat`, JSON.stringify({ type: 'reaction_added' }));
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({
      status: 'no-match',
      why: 'no configuration handles this event: pr-merged (data.type is "reaction_added", not "message")',
    });
    expect(service.reactions).toEqual([]);
    // The same origin is welcome: the script coordinator handles it.
    const own = await post(`${url}/events/chat`, merged, { origin: url });
    expect(own.status).toBe(200);
    expect(service.reactions).toHaveLength(1);
    expect(await server.stop()).toBe(0);
  });

  it('answers 202 with a run id when asked to respond async; the outcome is at /runs/<id>', async () => {
    const home = mkdtempSync(join(tmpdir(), 'troupe-serve-home-'));
    const { server, url, service } = await servePrMerged(['--coordinator', 'script'], { TROUPE_HOME: home });
    const closed = event('closed');
    const accepted = await post(`${url}/events/chat`, JSON.stringify(closed.data), { prefer: 'respond-async' });
    expect(accepted.status).toBe(202);
    const { runId, location } = (await accepted.json()) as { runId: string; location: string };
    expect(location).toBe(`/runs/${runId}`);
    const outcome = await until('the run to finish', async () => {
      const response = await fetch(`${url}${location}`);
      return response.status === 200 && ((await response.json()) as { status: string; runId: string });
    });
    expect(outcome).toMatchObject({ status: 'done', runId });
    expect(service.reactions.map((r) => r.timestamp)).toEqual([closed.data.ts]);
    expect(await server.stop()).toBe(0);
    // The trigger's run is recorded under the same id, with its tool calls: troupe runs show finds it.
    const shown = await runCommand(process.execPath, ['dist/bin/troupe.js', 'runs', 'show', runId, '--json'], {
      env: { ...process.env, TROUPE_HOME: home, REDIS_URL: '' },
    });
    const recorded = JSON.parse(shown.stdout) as { run: { kind: string; status: string }; timeline: Array<{ type: string }> };
    expect(recorded.run).toMatchObject({ kind: 'handler', status: 'finished' });
    expect(recorded.timeline.some((entry) => entry.type === 'tool-call')).toBe(true);
  });

  it('beyond loopback, refuses a request without the token and accepts one with it; a token from the environment is never printed', async () => {
    const token = `serve-test-${randomBytes(12).toString('hex')}`;
    const { server, service } = await servePrMerged(['--host', '0.0.0.0', '--coordinator', 'script'], { TROUPE_SERVE_TOKEN: token });
    const port = /listening on http:\/\/0\.0\.0\.0:(\d+)/.exec(server.stderr)![1];
    const url = `http://127.0.0.1:${port}/events/chat`;
    const merged = JSON.stringify(event('merged').data);
    const refused = [await post(url, merged), await post(url, merged, { authorization: 'Bearer wrong' })];
    expect(refused.map((response) => response.status)).toEqual([401, 401]);
    expect(service.reactions).toEqual([]);
    const accepted = await post(url, merged, { authorization: `Bearer ${token}` });
    expect(accepted.status).toBe(200);
    expect(service.reactions).toHaveLength(1);
    expect(await server.stop()).toBe(0);
    expect(server.stderr + server.stdout).not.toContain(token);
  });

  it('beyond loopback without TROUPE_SERVE_TOKEN, generates a token and prints it once', async () => {
    const { server, service } = await servePrMerged(['--host', '0.0.0.0', '--coordinator', 'script'], { TROUPE_SERVE_TOKEN: '' });
    const token = /Authorization: Bearer (\S+)/.exec(server.stderr)![1]!;
    const port = /listening on http:\/\/0\.0\.0\.0:(\d+)/.exec(server.stderr)![1];
    const url = `http://127.0.0.1:${port}/events/chat`;
    expect((await post(url, JSON.stringify(event('merged').data))).status).toBe(401);
    expect((await post(url, JSON.stringify(event('merged').data), { authorization: `Bearer ${token}` })).status).toBe(200);
    expect(service.reactions).toHaveLength(1);
    expect(await server.stop()).toBe(0);
  });
});

describe('troupe serve: schedule triggers', () => {
  it('runs a schedule on its every:, each tick a trigger of its own, and stops on SIGTERM with exit 0', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'troupe-serve-log-')), 'log.jsonl');
    const server = new Serve(['test/cli/fixtures/serve/schedule.yaml'], { SERVE_TEST_LOG: log });
    servers.push(server);
    expect(await server.ready()).toBeUndefined();
    const entries = await until('two ticks', () => {
      const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
      return lines.length >= 2 && lines.map((line) => JSON.parse(line) as { configuration: string; kind: string; id: string });
    });
    expect(entries.every((entry) => entry.configuration === 'serve-schedule' && entry.kind === 'schedule' && /^serve-test-tick-\d+$/.test(entry.id))).toBe(
      true,
    );
    expect(new Set(entries.map((entry) => entry.id)).size).toBe(entries.length);
    expect(await server.stop()).toBe(0);
  });
});

describe.runIf(redis)('troupe serve: queue triggers on Redis', () => {
  it('handles the messages of a queue trigger from BullMQ, once each, and stops on SIGTERM with exit 0', async () => {
    const prefix = `troupe-test-serve-${randomBytes(4).toString('hex')}`;
    const log = join(mkdtempSync(join(tmpdir(), 'troupe-serve-log-')), 'log.jsonl');
    const backend = { kind: 'redis', url: redisUrl, prefix } as const;
    const queue = await openJobQueue({ name: triggerQueueName('serve-test-jobs'), backend });
    try {
      const server = new Serve(['test/cli/fixtures/serve/queue.yaml'], { REDIS_URL: redisUrl, TROUPE_REDIS_PREFIX: prefix, SERVE_TEST_LOG: log });
      servers.push(server);
      await server.ready();
      expect(server.stderr).toContain('serve-queue: queue "serve-test-jobs"');
      await enqueueTrigger(queue, 'serve-test-jobs', { n: 1 }, { id: 'job-1' });
      await enqueueTrigger(queue, 'serve-test-jobs', { n: 2 }, { id: 'job-2' });
      // The same message again: the queue keeps one.
      await enqueueTrigger(queue, 'serve-test-jobs', { n: 2 }, { id: 'job-2' });
      await until('both outcomes', () => (server.stdout.match(/^trigger serve-test-jobs\/job-\d: done by serve-queue/gm)?.length ?? 0) >= 2, 120_000);
      const entries = readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: string; data: unknown });
      expect(entries.map(({ id, data }) => ({ id, data })).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
        { id: 'job-1', data: { n: 1 } },
        { id: 'job-2', data: { n: 2 } },
      ]);
      expect(await server.stop()).toBe(0);
    } finally {
      await queue.close({ graceMs: 0 });
      await deleteKeysUnder(prefix);
    }
  });
});
