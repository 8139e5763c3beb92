import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors/configuration-error.js';
import { createLogger, traceToLogger, type LoggerOptions } from '../../src/observe/logger.js';
import { captureLogger } from './capture-logger.js';
import { redactSecrets } from '../../src/observe/redact-secrets.js';

const capture = (options: LoggerOptions = {}) => captureLogger(options);

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

  it('colours pretty output on a terminal only, and never when NO_COLOR is set', () => {
    const onTerminal = (env: Record<string, string>) => {
      const written: string[] = [];
      const destination = Object.assign(
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            written.push(chunk.toString());
            done();
          },
        }),
        { isTTY: true },
      );
      createLogger({ destination, env, format: 'pretty' }).info('coloured hello');
      return written.join('');
    };
    expect(onTerminal({})).toContain('\u001b[');
    expect(onTerminal({ NO_COLOR: '1' })).not.toContain('\u001b[');
    expect(onTerminal({ NO_COLOR: '1' })).toContain('coloured hello');
    // Not a terminal: plain, whatever NO_COLOR says.
    const { logger, lines } = capture({ format: 'pretty' });
    logger.info('piped hello');
    expect(lines.join('\n')).toContain('piped hello');
    expect(lines.join('\n')).not.toContain('\u001b[');
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
    sink({ ...base, type: 'model-call-start', model: 'anthropic:claude-sonnet-5-5', turn: 1 });
    sink({
      ...base,
      type: 'model-call-retry',
      model: 'anthropic:claude-sonnet-5-5',
      attempt: 1,
      delayMs: 500,
      errorCode: 'provider_rate_limited',
      message: 'slow down',
    });
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
    expect(records()[0]).toMatchObject({ runId: 'run_1', agent: 'writer', msg: 'writer: model call 1 to anthropic:claude-sonnet-5-5' });
  });
});

describe('redactSecrets', () => {
  it('replaces secret env values and key-shaped strings, leaving ordinary words alone', () => {
    const env = { OPENAI_API_KEY: 'openai-value-0123', DEPLOY_SECRET: 'hunter2hunter2', SHORT_TOKEN: 'abc', PATH: '/usr/bin' };
    const text = 'keys: openai-value-0123 hunter2hunter2 sk-ant-api03-0123456789abcdefgh abc /usr/bin task-0123456789abcdefghijkl';
    expect(redactSecrets(text, env)).toBe('keys: [redacted] [redacted] [redacted] abc /usr/bin task-0123456789abcdefghijkl');
  });
});

describe('secrets in structured fields', () => {
  // Not key-shaped on purpose: only knowing the value can catch it.
  const key = 'proxy-echoed-credential-7f3a9c';

  it('scrubs a provider error logged as { err }: its rawBody, message, details and nested causes', async () => {
    const { ProviderResponseError } = await import('../../src/model/errors/provider-error.js');
    const { logger, lines, records } = capture({ env: { ANTHROPIC_API_KEY: key } });
    const error = new ProviderResponseError('anthropic', `proxy said ${key}`, `<html>Forwarded x-api-key: ${key}</html>`, { cause: new Error(`inner ${key}`) });
    logger.error({ err: error, context: { nested: [{ deep: `value ${key}` }] } }, 'provider failed');
    logger.error(error);
    logger.error(new Error(`outer`, { cause: new Error(`inner ${key}`) }));
    const output = lines.join('\n');
    expect(output).not.toContain(key);
    const [first, second] = records();
    expect(first).toMatchObject({
      msg: 'provider failed',
      err: { code: 'provider_response_invalid', rawBody: '<html>Forwarded x-api-key: [redacted]</html>' },
      context: { nested: [{ deep: 'value [redacted]' }] },
    });
    expect(String((first!['err'] as { message: string }).message)).toMatch(/proxy said \[redacted\]/);
    expect(second).toMatchObject({
      msg: expect.stringMatching(/could not be read: proxy said \[redacted\]/),
      err: { rawBody: expect.stringContaining('[redacted]') },
    });
  });

  it('scrubs *_KEY, *_TOKEN and *_SECRET values, the password of REDIS_URL, and keys registered by code', async () => {
    const { registerSecret } = await import('../../src/observe/redact-secrets.js');
    const env = {
      STRIPE_KEY: 'stripe-value-123456',
      GH_TOKEN: 'gh-token-value-99',
      APP_SECRET: 'app-secret-value',
      REDIS_URL: 'redis://:redis-pass-4242@127.0.0.1:6379',
    };
    registerSecret('given-in-code-key-0001');
    const { logger, lines } = capture({ env });
    logger.info({ a: 'stripe-value-123456', b: ['gh-token-value-99'], c: { d: 'app-secret-value redis-pass-4242' }, e: 'given-in-code-key-0001' }, 'fields');
    const output = lines.join('\n');
    for (const secret of ['stripe-value-123456', 'gh-token-value-99', 'app-secret-value', 'redis-pass-4242', 'given-in-code-key-0001'])
      expect(output).not.toContain(secret);
    expect(output).toContain('fields');
  });
});

describe('provider errors', () => {
  it('carry no key in the message or rawBody of an unreadable response', async () => {
    const { unreadableResponse } = await import('../../src/model/provider-failure.js');
    const { registerSecret } = await import('../../src/observe/redact-secrets.js');
    registerSecret('code-given-provider-key-42');
    const error = unreadableResponse(
      'anthropic',
      'the body is not a JSON object.',
      'Proxy error; request had x-api-key: code-given-provider-key-42 and sk-ant-api03-abcdefghijklmnopqrstuv',
      200,
    );
    expect(error.rawBody).toBe('Proxy error; request had x-api-key: [redacted] and [redacted]');
    expect(JSON.stringify(error.toJSON())).not.toMatch(/code-given-provider-key-42|sk-ant-api03/);
  });
});
