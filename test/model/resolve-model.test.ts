import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors/configuration-error.js';
import { ReplayModel, loadCassette } from '../../src/model/replay.js';
import { parseModelString, registerModel, resolveModel } from '../../src/model/resolve-model.js';
import { scriptedModel } from '../../src/model/scripted.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'troupe-resolve-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function configurationError(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('parseModelString', () => {
  it.each([
    ['anthropic:claude-sonnet-5-5', { provider: 'anthropic', model: 'claude-sonnet-5-5' }],
    ['openai:gpt-4.1-mini', { provider: 'openai', model: 'gpt-4.1-mini' }],
    [' OpenAI:gpt-5 ', { provider: 'openai', model: 'gpt-5' }],
    ['replay:fixtures/run.json', { provider: 'replay', model: 'fixtures/run.json' }],
    ['replay:C:\\cassettes\\run.json', { provider: 'replay', model: 'C:\\cassettes\\run.json' }],
    ['scripted', { provider: 'scripted', model: 'default' }],
    ['scripted:happy-path', { provider: 'scripted', model: 'happy-path' }],
  ])('parses %s', (spec, expected) => {
    expect(parseModelString(spec)).toEqual(expected);
  });

  it('rejects an unknown provider, naming the field and listing the accepted forms', () => {
    const error = configurationError(() => parseModelString('gemini:pro', { file: 'agents/writer.yaml', field: 'model' }));
    expect(error.where).toEqual({ file: 'agents/writer.yaml', field: 'model' });
    expect(error.message).toContain('agents/writer.yaml, field "model"');
    expect(error.message).toContain('unknown provider "gemini"');
    expect(error.message).toContain('anthropic:<model>');
    expect(error.message).toContain('replay:<cassette path>');
  });

  it('rejects a bare model name with a hint', () => {
    const error = configurationError(() => parseModelString('claude-sonnet-5-5'));
    expect(error.where).toEqual({ field: 'model' });
    expect(error.message).toContain('did you mean "anthropic:claude-sonnet-5-5"?');
    expect(configurationError(() => parseModelString('gpt-4o')).message).toContain('openai:gpt-4o');
  });

  it('rejects an empty model after the prefix', () => {
    expect(configurationError(() => parseModelString('anthropic:')).message).toContain('has no model name');
    expect(configurationError(() => parseModelString('replay:  ')).message).toContain('has no cassette path');
  });
});

describe('resolveModel', () => {
  it('passes a ModelClient through', () => {
    const model = scriptedModel(['hi']);
    expect(resolveModel(model)).toBe(model);
  });

  it('builds provider models from strings', () => {
    const env = { ANTHROPIC_API_KEY: 'test-anthropic', OPENAI_API_KEY: 'test-openai' };
    expect(resolveModel('anthropic:claude-haiku-4-5', { env }).id).toBe('anthropic:claude-haiku-4-5');
    expect(resolveModel('openai:gpt-4.1-nano', { env }).id).toBe('openai:gpt-4.1-nano');
    const replay = resolveModel(`replay:${join(dir, 'a.json')}`, { env });
    expect(replay).toBeInstanceOf(ReplayModel);
    expect((replay as ReplayModel).mode).toBe('replay');
  });

  it('uses TROUPE_MODEL when no model is given', async () => {
    const model = scriptedModel(['from the environment'], { id: 'scripted:env' });
    const unregister = registerModel('env-default', model);
    try {
      expect(resolveModel(undefined, { env: { TROUPE_MODEL: 'scripted:env-default' } })).toBe(model);
      expect(resolveModel('', { env: { TROUPE_MODEL: 'scripted:env-default' } })).toBe(model);
    } finally {
      unregister();
    }
    const error = configurationError(() => resolveModel(undefined, { env: { TROUPE_MODEL: 'llama' } }));
    expect(error.where).toEqual({ field: 'TROUPE_MODEL' });
  });

  it('without a model or TROUPE_MODEL says to pass one or set it', () => {
    const error = configurationError(() => resolveModel(undefined, { env: {}, where: { field: 'agents.writer.model' } }));
    expect(error.message).toContain('Pass a model');
    expect(error.message).toContain('set TROUPE_MODEL');
    expect(error.where).toEqual({ field: 'agents.writer.model' });
  });

  it('resolves scripted names from the registry and says how to register a missing one', () => {
    const model = scriptedModel(['ok']);
    const unregister = registerModel('default', model);
    expect(resolveModel('scripted', { env: {} })).toBe(model);
    expect(resolveModel('scripted:default', { env: {} })).toBe(model);
    unregister();
    const error = configurationError(() => resolveModel('scripted:missing', { env: {} }));
    expect(error.message).toContain(`registerModel('missing'`);
  });

  it('records a replay cassette from TROUPE_RECORD_MODEL when TROUPE_RECORD=1', async () => {
    const live = scriptedModel(['recorded answer'], { id: 'scripted:live' });
    const unregister = registerModel('live', live);
    const cassette = join(dir, 'recorded.json');
    try {
      const env = { TROUPE_RECORD: '1', TROUPE_RECORD_MODEL: 'scripted:live' };
      const model = resolveModel(`replay:${cassette}`, { env });
      expect((model as ReplayModel).mode).toBe('auto');
      expect(model.id).toBe('scripted:live');
      await model.generate({ messages: [{ role: 'user', content: 'Record me.' }] });
      expect(loadCassette(cassette).entries).toHaveLength(1);
      const replayed = await resolveModel(`replay:${cassette}`, { env: {} }).generate({ messages: [{ role: 'user', content: 'Record me.' }] });
      expect(replayed.content).toEqual([{ type: 'text', text: 'recorded answer' }]);
      expect(live.callCount).toBe(1);
    } finally {
      unregister();
    }
    const error = configurationError(() => resolveModel(`replay:${cassette}`, { env: { TROUPE_RECORD: '1' } }));
    expect(error.where).toEqual({ field: 'TROUPE_RECORD_MODEL' });
  });
});
