import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Agent, ConfigurationError, defineTool, liveOrReplay, resolveModel } from 'troupe';
import { loadCassette } from 'troupe/testing';
import { anthropicMessage, startFakeAnthropic } from './fake-anthropic-server.js';
import type { FakeHttpServer } from './fake-http-server.js';

/*
 * The README's recipe: run an example that picks its model with liveOrReplay, with
 * TROUPE_RECORD=1, TROUPE_RECORD_MODEL=anthropic:... and the key; the cassette is (re-)recorded
 * from the live model, and afterwards replays with no key. The live model is the fake Anthropic
 * server, reached through the real SDK.
 */

const fakeKey = 'sk-ant-api03-fakefakefakefakefakefakefake';
const liveReply = 'Live: your order A-1001 has shipped with DHL.';
let server: FakeHttpServer;

beforeAll(async () => {
  server = await startFakeAnthropic();
});
afterAll(async () => {
  await server.close();
});

function queueQuickstartAnswers(): void {
  server.reply(
    anthropicMessage([{ type: 'tool_use', id: 'toolu_01Live', name: 'lookup_order', input: { orderId: 'A-1001' } }]),
    anthropicMessage([{ type: 'tool_use', id: 'toolu_02Live', name: 'finish', input: { orderId: 'A-1001', status: 'shipped', reply: liveReply } }]),
  );
}

const supportAgent = (model: ReturnType<typeof resolveModel>) =>
  new Agent({
    name: 'support',
    instructions: 'You answer customers about their orders.',
    tools: [
      defineTool({ name: 'lookup_order', description: 'Looks up an order.', input: z.object({ orderId: z.string() }), run: () => ({ status: 'shipped' }) }),
    ],
    output: z.object({ orderId: z.string(), status: z.string(), reply: z.string() }),
    model,
  });

describe('recording liveOrReplay cassettes', () => {
  it('with TROUPE_RECORD=1 and a key, records the cassette from TROUPE_RECORD_MODEL; without a key it replays it', async () => {
    const cassette = join(mkdtempSync(join(tmpdir(), 'troupe-record-')), 'support.json');
    const notices: string[] = [];
    const recordEnv = { ANTHROPIC_API_KEY: fakeKey, ANTHROPIC_BASE_URL: server.url, TROUPE_RECORD: '1', TROUPE_RECORD_MODEL: 'anthropic:claude-sonnet-5-5' };
    const spec = liveOrReplay('anthropic:claude-sonnet-5-5', cassette, { env: recordEnv, notice: (text) => notices.push(text) });
    expect(spec).toBe(`replay:${cassette}`);
    expect(notices.join('\n')).toContain('TROUPE_RECORD is set: recording the cassette');

    queueQuickstartAnswers();
    const before = server.requests.length;
    const recorded = await supportAgent(resolveModel(spec, { env: recordEnv })).run('Where is my order A-1001?');
    expect(recorded.status === 'finished' && recorded.output.reply).toBe(liveReply);
    expect(server.requests.length - before).toBe(2);
    const written = loadCassette(cassette);
    expect(written.entries.map((entry) => entry.request.model)).toEqual(['anthropic:claude-sonnet-5-5', 'anthropic:claude-sonnet-5-5']);
    expect(readFileSync(cassette, 'utf8')).not.toContain(fakeKey);

    const offline = {};
    const replaySpec = liveOrReplay('anthropic:claude-sonnet-5-5', cassette, { env: offline, notice: () => {} });
    const replayed = await supportAgent(resolveModel(replaySpec, { env: offline })).run('Where is my order A-1001?');
    expect(replayed.status === 'finished' && replayed.output.reply).toBe(liveReply);
    expect(server.requests.length - before).toBe(2);
  });

  it('with TROUPE_RECORD=1 but no key for the live model, says so before any call instead of failing on auth', () => {
    const cassette = join(mkdtempSync(join(tmpdir(), 'troupe-record-')), 'support.json');
    const env = { TROUPE_RECORD: '1', TROUPE_RECORD_MODEL: 'anthropic:claude-sonnet-5-5' };
    const spec = liveOrReplay('anthropic:claude-sonnet-5-5', cassette, { env, notice: () => {} });
    const error = (() => {
      try {
        resolveModel(spec, { env });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/ANTHROPIC_API_KEY is not set\. Set ANTHROPIC_API_KEY to record, or unset TROUPE_RECORD/);
  });
});

describe('the README recipe on examples/quickstart.ts', () => {
  const cwd = process.cwd();
  afterEach(() => {
    process.chdir(cwd);
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('re-records the shipped (scripted) cassette live, and the example then replays the live recording offline', async () => {
    // A copy of the example's cassette in a scratch directory: the example names it relative to the working directory.
    const scratch = mkdtempSync(join(tmpdir(), 'troupe-quickstart-'));
    mkdirSync(join(scratch, 'examples/cassettes'), { recursive: true });
    copyFileSync(join(cwd, 'examples/cassettes/quickstart.json'), join(scratch, 'examples/cassettes/quickstart.json'));
    const example = join(cwd, 'examples/quickstart.ts');
    process.chdir(scratch);
    const printed: unknown[] = [];
    vi.spyOn(console, 'log').mockImplementation((value: unknown) => void printed.push(value));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);

    // TROUPE_RECORD=1 TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 ANTHROPIC_API_KEY=... npm run quickstart
    vi.stubEnv('TROUPE_RECORD', '1');
    vi.stubEnv('TROUPE_RECORD_MODEL', 'anthropic:claude-sonnet-5-5');
    vi.stubEnv('ANTHROPIC_API_KEY', fakeKey);
    vi.stubEnv('ANTHROPIC_BASE_URL', server.url);
    queueQuickstartAnswers();
    const before = server.requests.length;
    await import(example);
    expect(server.requests.length - before).toBe(2);
    expect(printed).toEqual([{ orderId: 'A-1001', status: 'shipped', reply: liveReply }]);
    const models = loadCassette(join(scratch, 'examples/cassettes/quickstart.json')).entries.map((entry) => entry.request.model);
    expect(models.filter((model) => model === 'anthropic:claude-sonnet-5-5')).toHaveLength(2);

    // Then, with no key, the example replays what was recorded live.
    vi.unstubAllEnvs();
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    vi.stubEnv('TROUPE_RECORD', '');
    vi.resetModules();
    await import(example);
    expect(server.requests.length - before).toBe(2);
    expect(printed).toEqual([
      { orderId: 'A-1001', status: 'shipped', reply: liveReply },
      { orderId: 'A-1001', status: 'shipped', reply: liveReply },
    ]);
  });
});
