import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors/configuration-error.js';
import { DefinitionFileError } from '../../src/core/errors/definition-file-error.js';
import { ReplayMissError } from '../../src/model/errors/index.js';
import type { ModelRequest } from '../../src/model/model-client.js';
import { loadCassette, ReplayModel, requestKey } from '../../src/model/replay.js';
import { reply, scriptedModel } from '../../src/model/scripted.js';

let dir: string;
let count = 0;
const cassettePath = () => join(dir, `cassette-${++count}.json`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'troupe-replay-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ask = (text: string, extra: Partial<ModelRequest> = {}): ModelRequest => ({
  system: 'You are terse.',
  messages: [{ role: 'user', content: text }],
  ...extra,
});

describe('replay model', () => {
  it('records calls of a live model and replays them offline, identically', async () => {
    const path = cassettePath();
    const live = scriptedModel([reply.text('Paris.'), reply.toolCall('lookup', { city: 'Rome' }, 'call_a')], { id: 'scripted:geo' });
    const recorder = new ReplayModel({ cassette: path, mode: 'record', live, env: {} });
    const tools = [{ name: 'lookup', description: 'Looks a city up.', inputSchema: { type: 'object' } }];
    const first = await recorder.generate(ask('Capital of France?'));
    const second = await recorder.generate(ask('Where is Rome?', { tools, toolChoice: 'auto' }));
    expect(live.callCount).toBe(2);

    const file = JSON.parse(await readFile(path, 'utf8'));
    expect(file.version).toBe(1);
    expect(file.entries).toHaveLength(2);
    expect(file.entries[1].request).toEqual({
      model: 'scripted:geo',
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'Where is Rome?' }],
      tools: ['lookup'],
      toolChoice: 'auto',
    });

    const player = new ReplayModel({ cassette: path, env: {} });
    expect(player.id).toBe('scripted:geo');
    // Sampling settings are not part of the key: a changed temperature still replays.
    expect(await player.generate({ ...ask('Capital of France?'), temperature: 0.9, maxOutputTokens: 10 })).toEqual(first);
    expect(await player.generate(ask('Where is Rome?', { tools, toolChoice: 'auto' }))).toEqual(second);
    expect(live.callCount).toBe(2);
  });

  it('reports a request without a recording as ReplayMissError naming the request, never a guess', async () => {
    const path = cassettePath();
    const live = scriptedModel(['Paris.'], { id: 'scripted:geo' });
    await new ReplayModel({ cassette: path, mode: 'record', live, env: {} }).generate(ask('Capital of France?'));

    const player = new ReplayModel({ cassette: path, env: {} });
    const question = `Capital of Spain? ${'Please answer in one word. '.repeat(10)}`;
    const error = await player.generate(ask(question)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ReplayMissError);
    const miss = error as ReplayMissError;
    expect(miss.code).toBe('replay_missing_recording');
    expect(miss.fault).toBe('configuration');
    expect(miss.key).toBe(requestKey('scripted:geo', ask(question)));
    expect(miss.message).toContain(path);
    expect(miss.message).toContain(miss.key);
    expect(miss.message).toContain('model scripted:geo, 1 message, last user message "Capital of Spain? Please answer');
    expect(miss.message).toContain('TROUPE_RECORD=1');
    // The last user text is cut to ~120 characters.
    expect(miss.description.length).toBeLessThan(200);
  });

  it('says so when the cassette file does not exist', async () => {
    const path = join(dir, 'never-recorded.json');
    const error = await new ReplayModel({ cassette: path, env: {} }).generate(ask('Hello')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ReplayMissError);
    expect((error as Error).message).toContain('does not exist');
    expect(new ReplayModel({ cassette: path }).id).toBe(`replay:${path}`);
  });

  it('replays recordings of a request asked twice in the order they were made', async () => {
    const path = cassettePath();
    const live = scriptedModel(['first', 'second'], { id: 'scripted:counter' });
    const recorder = new ReplayModel({ cassette: path, mode: 'record', live, env: {} });
    await recorder.generate(ask('Count.'));
    await recorder.generate(ask('Count.'));

    const player = new ReplayModel({ cassette: path, env: {} });
    expect((await player.generate(ask('Count.'))).content).toEqual([{ type: 'text', text: 'first' }]);
    expect((await player.generate(ask('Count.'))).content).toEqual([{ type: 'text', text: 'second' }]);
    const error = await player.generate(ask('Count.')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ReplayMissError);
    expect((error as Error).message).toContain('recorded 2 time(s)');
  });

  it('in auto mode replays what it has and records what it lacks', async () => {
    const path = cassettePath();
    await new ReplayModel({ cassette: path, mode: 'record', live: scriptedModel(['old answer'], { id: 'scripted:m' }), env: {} }).generate(ask('Known?'));
    const live = scriptedModel(['new answer'], { id: 'scripted:m' });
    const auto = new ReplayModel({ cassette: path, mode: 'auto', live, env: {} });
    expect((await auto.generate(ask('Known?'))).content).toEqual([{ type: 'text', text: 'old answer' }]);
    expect((await auto.generate(ask('Unknown?'))).content).toEqual([{ type: 'text', text: 'new answer' }]);
    expect(live.callCount).toBe(1);
    expect(loadCassette(path).entries).toHaveLength(2);
  });

  it('re-recording a request replaces its old recording', async () => {
    const path = cassettePath();
    await new ReplayModel({ cassette: path, mode: 'record', live: scriptedModel(['v1'], { id: 'scripted:m' }), env: {} }).generate(ask('Q'));
    await new ReplayModel({ cassette: path, mode: 'record', live: scriptedModel(['v2'], { id: 'scripted:m' }), env: {} }).generate(ask('Q'));
    const entries = loadCassette(path).entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]?.response.content).toEqual([{ type: 'text', text: 'v2' }]);
  });

  it('never writes secrets: env key values and sk- strings are redacted', async () => {
    const path = cassettePath();
    const envKey = 'test-value-of-the-anthropic-key-0123456789';
    const pasted = 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123';
    const env = { ANTHROPIC_API_KEY: envKey, GITHUB_TOKEN: 'ghp_tokenvalue123', HOME: '/home/someone' };
    const live = scriptedModel([`Your key ${envKey} is set; so is ghp_tokenvalue123.`], { id: 'scripted:leaky' });
    const recorder = new ReplayModel({ cassette: path, mode: 'record', live, env });
    const request = ask(`My key is ${pasted}, and the env one is ${envKey}.`, { system: `Use ${envKey}.` });
    const answer = await recorder.generate(request);
    // The caller gets the live answer as it was; only the file is scrubbed.
    expect(answer.content).toEqual([{ type: 'text', text: `Your key ${envKey} is set; so is ghp_tokenvalue123.` }]);

    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(envKey);
    expect(text).not.toContain(pasted);
    expect(text).not.toContain('ghp_tokenvalue123');
    expect(text).toContain('[redacted]');
    // The key is computed from the real request, so the scrubbed cassette still replays it.
    expect(await new ReplayModel({ cassette: path, env }).generate(request)).toEqual({
      ...answer,
      content: [{ type: 'text', text: 'Your key [redacted] is set; so is [redacted].' }],
    });
  });

  it('rejects a cassette with an unknown version or bad JSON with a ConfigurationError naming the file', async () => {
    const future = cassettePath();
    await writeFile(future, JSON.stringify({ version: 2, entries: [] }));
    expect(() => new ReplayModel({ cassette: future })).toThrow(ConfigurationError);
    expect(() => new ReplayModel({ cassette: future })).toThrow(future);
    expect(() => new ReplayModel({ cassette: future })).toThrow(/version 2/);

    const broken = cassettePath();
    await writeFile(broken, '{ "version": 1, "entries": [');
    expect(() => new ReplayModel({ cassette: broken })).toThrow(ConfigurationError);
    expect(() => new ReplayModel({ cassette: broken })).toThrow(broken);
    expect(() => new ReplayModel({ cassette: broken })).toThrow(/not valid JSON/);

    const malformed = cassettePath();
    await writeFile(malformed, JSON.stringify({ version: 1, entries: [{ key: 'k', request: {}, response: {} }] }));
    expect(() => new ReplayModel({ cassette: malformed })).toThrow(/malformed/);
  });

  it('names the line and field of every problem in a cassette, and the line and column of a JSON syntax error', async () => {
    const bad = cassettePath();
    await writeFile(
      bad,
      '{\n  "version": 1,\n  "entires": [],\n  "entries": [\n    { "key": 7, "request": { "model": "m", "messages": [] }, "response": {} }\n  ]\n}\n',
    );
    let error: unknown;
    try {
      new ReplayModel({ cassette: bad });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DefinitionFileError);
    const issues = (error as DefinitionFileError).issues;
    expect(issues.map((issue) => [issue.line, issue.field])).toEqual(
      expect.arrayContaining([
        [3, 'entires'],
        [5, 'entries.0.key'],
        [5, 'entries.0.response.content'],
      ]),
    );
    expect((error as Error).message).toContain(`${bad}:3, field "entires": malformed cassette (record it again): unknown field "entires"`);

    const broken = cassettePath();
    await writeFile(broken, '{\n  "version": 1,\n  "entries": [}\n');
    expect(() => new ReplayModel({ cassette: broken })).toThrow(`${broken}:3:15: not valid JSON: Unexpected token '}'`);
  });

  it('reads a cassette again when the file changed on disk', async () => {
    const path = cassettePath();
    await new ReplayModel({ cassette: path, mode: 'record', live: scriptedModel(['one'], { id: 'scripted:m' }), env: {} }).generate(ask('Q'));
    expect(new ReplayModel({ cassette: path }).entries).toHaveLength(1);
    await writeFile(path, JSON.stringify({ version: 1, entries: [] }));
    expect(new ReplayModel({ cassette: path }).entries).toHaveLength(0);
  });

  it('keeps every recording when calls run at once', async () => {
    const path = cassettePath();
    const live = scriptedModel((request) => `echo ${request.messages.length}`, { id: 'scripted:echo', latencyMs: 5 });
    const auto = new ReplayModel({ cassette: path, mode: 'auto', live, env: {} });
    await Promise.all(['a', 'b', 'c'].map((text) => auto.generate(ask(text))));
    expect(loadCassette(path).entries.map((entry) => entry.request.messages[0])).toEqual(
      expect.arrayContaining([
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
        { role: 'user', content: 'c' },
      ]),
    );
    expect(loadCassette(path).entries).toHaveLength(3);
  });

  it('in replay mode never calls the live model, even when one is given', async () => {
    const live = scriptedModel(['live'], { id: 'scripted:m' });
    const error = await new ReplayModel({ cassette: cassettePath(), mode: 'replay', live, env: {} }).generate(ask('Q')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ReplayMissError);
    expect(live.callCount).toBe(0);
  });

  it('reads version 1 cassettes as they were first written', async () => {
    // Frozen sample of the version 1 format: never edit it; add a new sample when the format changes.
    const request = ask('What is 2 + 2?');
    const sample = {
      version: 1,
      entries: [
        {
          // A literal, so a change to how keys are computed (which orphans every cassette) fails here.
          key: '03b10b97124d5d9e2e6a04fe5f04ba61296ea953ad0f90ad171dc5b860b96d57',
          request: { model: 'anthropic:claude-haiku-4-5', system: 'You are terse.', messages: [{ role: 'user', content: 'What is 2 + 2?' }] },
          response: {
            content: [{ type: 'text', text: '4' }],
            stopReason: 'end-turn',
            usage: { inputTokens: 14, outputTokens: 1 },
            model: 'claude-haiku-4-5-20251001',
          },
        },
      ],
    };
    const path = cassettePath();
    await writeFile(path, JSON.stringify(sample, null, 2));
    const player = new ReplayModel({ cassette: path, env: {} });
    expect(player.id).toBe('anthropic:claude-haiku-4-5');
    expect(await player.generate(request)).toEqual(sample.entries[0]!.response);
  });

  it('needs a live model to record', () => {
    expect(() => new ReplayModel({ cassette: cassettePath(), mode: 'auto' })).toThrow(ConfigurationError);
  });
});
