// Secrets never reach logs, now that the logger scrubs in one walk of what is logged (values and
// credential field names together) instead of pino's per-path redaction: a key quoted by a tool,
// by a failing model or by any trace event comes out as [redacted], at any depth.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, defineTool, type ModelClient, type TraceEvent } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';
import { traceToLogger, type LoggerOptions } from '../../src/observe/logger.js';
import { captureLogger } from './capture-logger.js';
import { isCredentialField, redactSecretsDeep, refreshSecretValues, registerSecret, secretRedactor } from '../../src/observe/redact-secrets.js';
import { redactingTrace, selfScrubbingSink } from '../../src/observe/trace-event.js';

const capture = (options: LoggerOptions = {}) => captureLogger({ format: 'json', level: 'debug', ...options });

// Registered, as a provider given its key in code does; not key-shaped, so only its value can catch it.
const registered = 'registered-provider-key-5b1e07';
registerSecret(registered);
const keyShaped = 'sk-ant-api03-QWERTYUIOPASDFGHJKL0123';

describe('debug logs of an agent run', () => {
  it('carry no key that a tool output or the final output quotes', async () => {
    const leak = defineTool({
      name: 'read_config',
      description: 'Reads the configuration.',
      input: z.object({ path: z.string() }),
      run: () => `apiKey=${registered} backup=${keyShaped}`,
    });
    const model = scriptedModel([reply.toolCall('read_config', { path: `/etc/${registered}` }), reply.finish({ note: `found ${keyShaped}` })]);
    const agent = new Agent({ name: 'reader', tools: [leak], model, output: z.object({ note: z.string() }) });
    const { logger, lines, records } = capture();

    const result = await agent.run('Read the configuration.', { trace: traceToLogger(logger) });

    expect(result.status).toBe('finished');
    const output = lines.join('\n');
    expect(output).not.toContain(registered);
    expect(output).not.toContain(keyShaped);
    const events = records().map((record) => record['event']);
    expect(events).toEqual(expect.arrayContaining(['tool-call-start', 'tool-call-end', 'agent-finish']));
    const end = records().find((record) => record['event'] === 'tool-call-end');
    expect(end?.['output']).toBe('apiKey=[redacted] backup=[redacted]');
    expect(records().find((record) => record['event'] === 'tool-call-start')?.['input']).toEqual({ path: '/etc/[redacted]' });
  });

  it('carry no key that a failing model puts in its error', async () => {
    const failing: ModelClient = {
      id: 'test:failing',
      generate: async () => {
        throw new Error(`401 from the proxy: x-api-key ${registered} rejected`);
      },
    };
    const { logger, lines, records } = capture();
    await expect(new Agent({ name: 'caller', model: failing }).run('Hello', { trace: traceToLogger(logger) })).rejects.toThrow();
    const error = records().find((record) => record['event'] === 'model-call-error');
    expect(error).toMatchObject({ level: 50, message: '401 from the proxy: x-api-key [redacted] rejected' });
    expect(lines.join('\n')).not.toContain(registered);
  });
});

describe('a run logging to a logger, which scrubs its events once', () => {
  // A secret of the process environment, which a logger given its own `env` does not know.
  const processSecret = 'process-only-secret-value-42';

  async function runLogged(options: LoggerOptions) {
    const leak = defineTool({ name: 'leak', description: 'Leaks.', input: z.object({}), run: () => `value ${processSecret}` });
    const model = scriptedModel([reply.toolCall('leak', {}), reply.finish({ note: 'done' })]);
    const { logger, lines } = capture(options);
    const result = await new Agent({ name: 'leaker', tools: [leak], model, output: z.object({ note: z.string() }) }).run('Go.', {
      trace: traceToLogger(logger),
    });
    expect(result.status).toBe('finished');
    return lines.join('\n');
  }

  it('scrubs secrets of the process environment even when the logger was given an environment without them', async () => {
    process.env['TEST_LOGGING_TOKEN'] = processSecret;
    refreshSecretValues();
    try {
      const withoutIt = await runLogged({ env: {} });
      expect(withoutIt).not.toContain(processSecret);
      expect(withoutIt).toContain('value [redacted]');
      const withIt = await runLogged({ env: process.env });
      expect(withIt).not.toContain(processSecret);
      expect(withIt).toContain('value [redacted]');
    } finally {
      delete process.env['TEST_LOGGING_TOKEN'];
      refreshSecretValues();
    }
  });

  it('hands a self-scrubbing sink the event itself only while it covers every known secret', () => {
    const received: TraceEvent[] = [];
    let covers = true;
    const sink = redactingTrace(
      selfScrubbingSink(
        (event) => received.push(event),
        () => covers,
      ),
    );
    const event: TraceEvent = { at: 0, runId: 'r', type: 'tool-call-end', callId: 'c', tool: 't', durationMs: 1, isError: false, output: `saw ${registered}` };
    sink(event);
    covers = false;
    sink(event);
    expect(received[0]).toBe(event);
    expect(received[1]).toMatchObject({ output: 'saw [redacted]' });
    // A plain sink is always handed scrubbed events.
    const plain: TraceEvent[] = [];
    redactingTrace((scrubbed) => plain.push(scrubbed))(event);
    expect(plain[0]).toMatchObject({ output: 'saw [redacted]' });
  });
});

describe('traceToLogger on events handed to it directly', () => {
  it('scrubs every event field, message and nested value, and credential fields whatever their value', () => {
    const { logger, lines, records } = capture({ env: { ACME_TOKEN: 'acme-token-value-77' } });
    const sink = traceToLogger(logger);
    const base = { at: 0, runId: 'run_1', agent: 'ops' };
    const events: TraceEvent[] = [
      { ...base, type: 'model-call-retry', model: 'm', attempt: 1, delayMs: 10, errorCode: 'provider_rate_limited', message: `limit for ${keyShaped}` },
      { ...base, type: 'termination', condition: 'abort-signal', reason: `aborted: acme-token-value-77`, detail: { deep: [{ deeper: registered }] } },
      {
        ...base,
        type: 'tool-call-start',
        callId: 'c1',
        tool: 'login',
        input: { user: 'ada', password: 'short', nested: { headers: { Authorization: 'Bearer plain-text', cookie: 'id=1' } } },
      },
    ];
    for (const event of events) sink(event);
    const output = lines.join('\n');
    for (const secret of [keyShaped, registered, 'acme-token-value-77', 'short', 'plain-text', 'id=1']) expect(output).not.toContain(secret);
    const [retry, termination, login] = records();
    expect(retry).toMatchObject({ event: 'model-call-retry', message: 'limit for [redacted]', msg: expect.stringContaining('[redacted]') });
    expect(termination).toMatchObject({ reason: 'aborted: [redacted]', detail: { deep: [{ deeper: '[redacted]' }] } });
    expect(login).toMatchObject({
      input: { user: 'ada', password: '[redacted]', nested: { headers: { Authorization: '[redacted]', cookie: '[redacted]' } } },
    });
    // The event handed in is left as it was: the logger copies only what it changes.
    expect(events[2]).toMatchObject({ input: { password: 'short' } });
    expect(login).not.toHaveProperty('type');
  });

  it('scrubs every field of model and tool call lines, built field by field, and writes them as the event reads', () => {
    const { logger, lines, records } = capture({ env: { ACME_TOKEN: 'acme-token-value-77' } });
    const sink = traceToLogger(logger);
    const base = { at: 5, runId: `run-${registered}`, agent: 'acme-token-value-77' };
    sink({ ...base, type: 'model-call-start', model: `proxy:${keyShaped}`, turn: 1 });
    const usage = { inputTokens: 10, outputTokens: 5, [`n-${registered}`]: 1 } as unknown as { inputTokens: number; outputTokens: number };
    const end = { ...base, type: 'model-call-end', model: 'm', turn: 1, durationMs: 3, stopReason: `stop ${registered}`, usage, costUsd: 0.5, toolCalls: 1 };
    sink(end as TraceEvent);
    sink({ ...base, type: 'tool-call-start', callId: 'c1', tool: 'login', input: { user: 'ada', password: 'short', note: `key ${keyShaped}` } });
    sink({ ...base, type: 'tool-call-end', callId: 'c1', tool: 'login', durationMs: 2, isError: false, output: `token=${registered}`, replayed: true });
    // A field typed as a number that is not one is scrubbed all the same.
    sink({ ...base, type: 'model-call-start', model: 'm', turn: `turn ${registered}` as unknown as number });
    const output = lines.join('\n');
    for (const secret of [registered, keyShaped, 'acme-token-value-77', 'short']) expect(output).not.toContain(secret);
    const [start, ended, toolStart, toolEnd, odd] = records();
    expect(start).toMatchObject({
      event: 'model-call-start',
      at: 5,
      runId: 'run-[redacted]',
      agent: '[redacted]',
      model: 'proxy:[redacted]',
      turn: 1,
      level: 20,
    });
    expect(ended).toMatchObject({ stopReason: 'stop [redacted]', usage: { inputTokens: 10, outputTokens: 5, 'n-[redacted]': 1 }, costUsd: 0.5, toolCalls: 1 });
    expect(toolStart).toMatchObject({ input: { user: 'ada', password: '[redacted]', note: 'key [redacted]' } });
    expect(toolEnd).toMatchObject({ event: 'tool-call-end', isError: false, output: 'token=[redacted]', replayed: true, durationMs: 2 });
    expect(odd).toMatchObject({ turn: 'turn [redacted]' });
    for (const record of records()) expect(record).not.toHaveProperty('type');
  });

  it('scrubs events logged through a child logger, which takes the general path', () => {
    const { logger, lines, records } = capture();
    traceToLogger(logger.child({ component: 'worker' }))({
      at: 0,
      runId: 'r',
      type: 'tool-call-end',
      callId: 'c',
      tool: 't',
      durationMs: 1,
      isError: false,
      output: `saw ${registered}`,
    });
    expect(lines.join('\n')).not.toContain(registered);
    expect(records()[0]).toMatchObject({ event: 'tool-call-end', component: 'worker', output: 'saw [redacted]' });
  });

  it('scrubs the lines of each logger with its own environment', () => {
    const plain = capture();
    const withToken = capture({ env: { ACME_TOKEN: 'acme-token-value-77' } });
    const event: TraceEvent = {
      at: 0,
      runId: 'r',
      type: 'tool-call-end',
      callId: 'c',
      tool: 't',
      durationMs: 1,
      isError: false,
      output: 'acme-token-value-77',
    };
    traceToLogger(plain.logger)(event);
    traceToLogger(withToken.logger)(event);
    expect(plain.records()[0]?.['output']).toBe('acme-token-value-77');
    expect(withToken.lines.join('\n')).not.toContain('acme-token-value-77');
  });

  it('skips events below the logger level without writing anything', () => {
    const { logger, lines } = capture({ level: 'info' });
    traceToLogger(logger)({ at: 0, runId: 'r', type: 'model-call-start', model: 'm', turn: 1 });
    expect(lines).toEqual([]);
  });
});

describe('redactSecretsDeep', () => {
  const redact = secretRedactor({ SERVICE_KEY: 'service-key-value-1' });

  it('returns the value itself when it holds nothing to scrub, and copies only the changed branch', () => {
    const clean = { a: 'plain text', list: [1, 'two', { three: 3 }], nested: { when: 0 } };
    expect(redactSecretsDeep(clean, redact)).toBe(clean);
    const dirty = { keep: { same: 'yes' }, list: ['ok', 'uses service-key-value-1'], after: 'z' };
    const scrubbed = redactSecretsDeep(dirty, redact);
    expect(scrubbed).toEqual({ keep: { same: 'yes' }, list: ['ok', 'uses [redacted]'], after: 'z' });
    expect(scrubbed.keep).toBe(dirty.keep);
    expect(dirty.list[1]).toBe('uses service-key-value-1');
  });

  it('censors credential fields at any depth only when asked, and still cuts cycles', () => {
    const value: Record<string, unknown> = { a: { b: { c: { apiKey: 'not-a-known-value' } } } };
    value['self'] = value;
    expect(redactSecretsDeep(value, redact)).toMatchObject({ a: { b: { c: { apiKey: 'not-a-known-value' } } }, self: '[circular]' });
    expect(redactSecretsDeep(value, redact, { censorField: isCredentialField })).toMatchObject({
      a: { b: { c: { apiKey: '[redacted]' } } },
      self: '[circular]',
    });
  });

  it('knows credential field names in any case, and not their look-alikes', () => {
    for (const name of ['apiKey', 'API_KEY', 'Authorization', 'x-api-key', 'password', 'OPENAI_API_KEY', 'client_secret'])
      expect(isCredentialField(name), name).toBe(true);
    for (const name of ['inputTokens', 'tokens', 'keyboard', 'secretary', 'runId']) expect(isCredentialField(name), name).toBe(false);
  });
});
