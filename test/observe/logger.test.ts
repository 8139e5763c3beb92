import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors/configuration-error.js';
import { createLogger, traceToLogger, type LoggerOptions } from '../../src/observe/logger.js';
import { redactSecrets } from '../../src/observe/redact-secrets.js';

function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ destination, env: {}, ...options });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes JSON lines with API keys and authorization headers redacted', () => {
    const key = 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz';
    const { logger, lines, records } = capture();
    logger.info(
      {
        apiKey: key,
        request: { url: 'https://api.anthropic.com', headers: { authorization: `Bearer ${key}`, 'x-api-key': key } },
        headers: { authorization: 'Bearer other-secret-value' },
        env: { ANTHROPIC_API_KEY: key },
      },
      'calling the provider',
    );
    const output = lines.join('\n');
    expect(output).not.toContain(key);
    expect(output).not.toContain('other-secret-value');
    const [record] = records();
    expect(record).toMatchObject({
      level: 30,
      msg: 'calling the provider',
      apiKey: '[redacted]',
      request: { url: 'https://api.anthropic.com', headers: { authorization: '[redacted]', 'x-api-key': '[redacted]' } },
      headers: { authorization: '[redacted]' },
    });
  });

  it('scrubs secret env values and key-shaped strings from messages', () => {
    const { logger, lines } = capture({ env: { MY_SERVICE_TOKEN: 'token-value-123456' } });
    logger.warn('using token-value-123456 and sk-proj-0123456789abcdefghij');
    expect(lines.join('\n')).not.toContain('token-value-123456');
    expect(lines.join('\n')).not.toContain('sk-proj-0123456789abcdefghij');
  });

  it('redacts extra configured paths', () => {
    const { logger, lines } = capture({ redact: ['user.ssn'] });
    logger.info({ user: { name: 'Ada', ssn: '123-45-6789' } }, 'user');
    expect(lines.join('\n')).not.toContain('123-45-6789');
    expect(lines.join('\n')).toContain('Ada');
  });

  it('takes its level from TROUPE_LOG_LEVEL, default info, and rejects unknown levels', () => {
    expect(capture().logger.level).toBe('info');
    expect(capture({ env: { TROUPE_LOG_LEVEL: 'debug' } }).logger.level).toBe('debug');
    expect(capture({ level: 'warn', env: { TROUPE_LOG_LEVEL: 'debug' } }).logger.level).toBe('warn');
    expect(() => capture({ env: { TROUPE_LOG_LEVEL: 'loud' } })).toThrow(ConfigurationError);
  });

  it('writes readable lines when asked for pretty output', () => {
    const { logger, lines } = capture({ format: 'pretty' });
    logger.info({ apiKey: 'sk-ant-pretty-0123456789abcdefgh' }, 'pretty hello');
    const output = lines.join('\n');
    expect(output).toContain('pretty hello');
    expect(output).toContain('INFO');
    expect(output).not.toContain('sk-ant-pretty');
    expect(() => JSON.parse(lines[0]!)).toThrow();
  });
});

describe('traceToLogger', () => {
  it('logs starts at debug, finishes at info and retries and validation failures at warn', () => {
    const { logger, records } = capture({ level: 'debug' });
    const sink = traceToLogger(logger);
    const base = { at: 0, runId: 'run_1', agent: 'writer' };
    sink({ ...base, type: 'model-call-start', model: 'anthropic:claude-sonnet-4-5', turn: 1 });
    sink({ ...base, type: 'model-call-retry', model: 'anthropic:claude-sonnet-4-5', attempt: 1, delayMs: 500, errorCode: 'provider_rate_limited', message: 'slow down' });
    sink({ ...base, type: 'validation-failure', target: 'finish', tool: 'finish', callId: 'c1', issues: [{ path: ['title'], message: 'Required' }] });
    sink({ ...base, type: 'agent-finish', output: { title: 'Done' } });
    sink({ ...base, type: 'termination', condition: 'max-turns', reason: 'reached the limit', detail: {} });
    expect(records().map((record) => [record['event'], record['level']])).toEqual([
      ['model-call-start', 20],
      ['model-call-retry', 40],
      ['validation-failure', 40],
      ['agent-finish', 30],
      ['termination', 30],
    ]);
    expect(records()[0]).toMatchObject({ runId: 'run_1', agent: 'writer', msg: 'writer: model call 1 to anthropic:claude-sonnet-4-5' });
  });
});

describe('redactSecrets', () => {
  it('replaces secret env values and key-shaped strings, leaving ordinary words alone', () => {
    const env = { OPENAI_API_KEY: 'openai-value-0123', DEPLOY_SECRET: 'hunter2hunter2', SHORT_TOKEN: 'abc', PATH: '/usr/bin' };
    const text = 'keys: openai-value-0123 hunter2hunter2 sk-ant-api03-0123456789abcdefgh abc /usr/bin task-0123456789abcdefghijkl';
    expect(redactSecrets(text, env)).toBe('keys: [redacted] [redacted] [redacted] abc /usr/bin task-0123456789abcdefghijkl');
  });
});
