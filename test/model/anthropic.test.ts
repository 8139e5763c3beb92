import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortedError } from '../../src/core/errors/aborted-error.js';
import { AnthropicModel, anthropicModel, type AnthropicModelOptions } from '../../src/model/anthropic.js';
import {
  ProviderAuthError,
  ProviderRateLimitError,
  ProviderRequestError,
  ProviderResponseError,
  ProviderTimeoutError,
  ProviderUnavailableError,
} from '../../src/model/errors/provider-error.js';
import type { ModelRequest, RetryNotice } from '../../src/model/model-client.js';
import { anthropicError, anthropicMessage, anthropicText, startFakeAnthropic } from './fake-anthropic-server.js';
import type { FakeHttpServer } from './fake-http-server.js';

const key = 'sk-ant-test-0123456789abcdef';
const hello: ModelRequest = { system: 'Be brief.', messages: [{ role: 'user', content: 'Hello' }] };
const weatherTool = {
  name: 'get_weather',
  description: 'Current weather in a city.',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

let server: FakeHttpServer;
let waits: number[];

beforeEach(async () => {
  server = await startFakeAnthropic();
  waits = [];
});
afterEach(() => server.close());

function model(options: Partial<AnthropicModelOptions> = {}) {
  return anthropicModel({
    model: 'claude-test',
    apiKey: key,
    baseURL: server.url,
    env: {},
    retry: { random: () => 0.5, sleep: async (ms) => void waits.push(ms) },
    ...options,
  });
}

// Anthropic documents `x-api-key`; SDK 1.x sends the key as `Authorization: Bearer`. Either is the key.
function credentialSent(headers: Record<string, string | string[] | undefined>): string | undefined {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string') return apiKey;
  const authorization = headers['authorization'];
  return typeof authorization === 'string' ? authorization.replace(/^Bearer /, '') : undefined;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const result = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(result instanceof Error)) throw new Error('Expected the call to fail.');
  return result;
}

describe('AnthropicModel', () => {
  it('sends a plain request and reads a plain answer', async () => {
    server.reply(anthropicText('Hi there.', { usage: { input_tokens: 12, output_tokens: 4, cache_read_input_tokens: 7, cache_creation_input_tokens: 3 } }));
    const client = model();
    expect(client.id).toBe('anthropic:claude-test');
    const response = await client.generate(hello);
    expect(response).toEqual({
      content: [{ type: 'text', text: 'Hi there.' }],
      stopReason: 'end-turn',
      usage: { inputTokens: 12, outputTokens: 4, cacheReadTokens: 7, cacheWriteTokens: 3 },
      model: 'claude-sonnet-4-5-20250929',
    });
    const sent = server.last;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1/messages');
    expect(credentialSent(sent.headers)).toBe(key);
    expect(sent.headers['anthropic-version']).toBeTruthy();
    expect(sent.body).toEqual({
      model: 'claude-test',
      max_tokens: 4096,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
    });
  });

  it('maps tools, tool choices and a conversation with tool calls and results', async () => {
    const request: ModelRequest = {
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool-call', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool-call', id: 'toolu_2', name: 'get_weather', input: undefined, invalidInput: { raw: '{', error: 'bad' } },
          ],
        },
        {
          role: 'tool',
          content: [
            { type: 'tool-result', callId: 'toolu_1', name: 'get_weather', output: '18C' },
            { type: 'tool-result', callId: 'toolu_2', name: 'get_weather', output: 'invalid JSON', isError: true },
          ],
        },
        { role: 'user', content: 'Also Oslo.', name: 'boss' },
      ],
      tools: [weatherTool],
      toolChoice: 'required',
      maxOutputTokens: 300,
      temperature: 0.2,
    };
    server.reply(anthropicText('ok'), anthropicText('ok'), anthropicText('ok'), anthropicText('ok'));
    const client = model();
    await client.generate(request);
    expect(server.last.body).toEqual({
      model: 'claude-test',
      max_tokens: 300,
      temperature: 0.2,
      tools: [{ name: 'get_weather', description: 'Current weather in a city.', input_schema: weatherTool.inputSchema }],
      tool_choice: { type: 'any' },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} },
          ],
        },
        {
          // Tool results and the next user text share one user turn.
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C', is_error: false },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: 'invalid JSON', is_error: true },
            { type: 'text', text: 'Also Oslo.' },
          ],
        },
      ],
    });
    await client.generate({ ...request, toolChoice: 'auto' });
    expect(server.last.body.tool_choice).toEqual({ type: 'auto' });
    await client.generate({ ...request, toolChoice: 'none' });
    expect(server.last.body.tool_choice).toEqual({ type: 'none' });
    await client.generate({ ...request, toolChoice: { name: 'get_weather' } });
    expect(server.last.body.tool_choice).toEqual({ type: 'tool', name: 'get_weather' });
  });

  it('reads one tool call', async () => {
    server.reply(anthropicMessage([{ type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } }]));
    const response = await model().generate({ ...hello, tools: [weatherTool] });
    expect(response.stopReason).toBe('tool-calls');
    expect(response.content).toEqual([{ type: 'tool-call', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } }]);
  });

  it('reads several tool calls in one turn', async () => {
    server.reply(
      anthropicMessage([
        { type: 'text', text: 'Let me check both.' },
        { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'toolu_02', name: 'get_weather', input: { city: 'Rome' } },
      ]),
    );
    const response = await model().generate({ ...hello, tools: [weatherTool] });
    expect(response.content).toEqual([
      { type: 'text', text: 'Let me check both.' },
      { type: 'tool-call', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool-call', id: 'toolu_02', name: 'get_weather', input: { city: 'Rome' } },
    ]);
  });

  it('turns tool input that is not a JSON object into invalidInput', async () => {
    server.reply(
      anthropicMessage([
        { type: 'tool_use', id: 'toolu_bad', name: 'get_weather', input: '{"city": "Par' },
        { type: 'tool_use', id: 'toolu_list', name: 'get_weather', input: ['Paris'] },
      ]),
    );
    const response = await model().generate({ ...hello, tools: [weatherTool] });
    const [broken, list] = response.content;
    expect(broken).toMatchObject({ type: 'tool-call', id: 'toolu_bad', input: undefined, invalidInput: { raw: '{"city": "Par' } });
    expect(broken?.type === 'tool-call' && broken.invalidInput?.error).toMatch(/^The arguments are not valid JSON/);
    expect(list).toMatchObject({ input: undefined, invalidInput: { raw: '["Paris"]', error: 'The arguments must be a JSON object.' } });
  });

  it('maps stop reasons', async () => {
    const cases = { max_tokens: 'max-tokens', stop_sequence: 'stop-sequence', refusal: 'content-filter', pause_turn: 'other' };
    for (const [vendor, ours] of Object.entries(cases)) {
      server.reply(anthropicText('x', { stop_reason: vendor }));
      expect((await model().generate(hello)).stopReason).toBe(ours);
    }
  });

  it('returns structured output from a forced tool as JSON text', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };
    server.reply(anthropicMessage([{ type: 'tool_use', id: 'toolu_out', name: 'result', input: { answer: 4 } }]));
    const response = await model().generate({ ...hello, output: { name: 'result', schema } });
    expect(response.content).toEqual([{ type: 'text', text: '{"answer":4}' }]);
    expect(response.stopReason).toBe('end-turn');
    expect(server.last.body.tools).toEqual([{ name: 'result', description: expect.any(String), input_schema: schema }]);
    expect(server.last.body.tool_choice).toEqual({ type: 'tool', name: 'result' });
  });

  it('retries a 429 after the wait retry-after asks for, and reports the retry', async () => {
    server.reply(
      anthropicError(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', { 'retry-after': '2' }),
      anthropicText('done'),
    );
    const notices: RetryNotice[] = [];
    const response = await model().generate(hello, { onRetry: (notice) => notices.push(notice) });
    expect(response.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(server.requests).toHaveLength(2);
    expect(waits).toEqual([2000]);
    expect(notices).toHaveLength(1);
    const notice = notices[0]!;
    expect(notice.attempt).toBe(1);
    expect(notice.delayMs).toBe(2000);
    expect(notice.error).toBeInstanceOf(ProviderRateLimitError);
    expect(notice.error.message).toBe('anthropic is rate limiting requests: Number of request tokens has exceeded your per-minute rate limit');
    expect((notice.error as ProviderRateLimitError).retryAfterMs).toBe(2000);
  });

  it('retries a 500 and succeeds', async () => {
    server.reply(anthropicError(500, 'api_error', 'Internal server error'), anthropicText('recovered'));
    const response = await model().generate(hello);
    expect(response.content).toEqual([{ type: 'text', text: 'recovered' }]);
    expect(waits).toEqual([250]);
  });

  it('gives up on 5xx after maxRetries with ProviderUnavailableError', async () => {
    server.reply(...Array.from({ length: 4 }, () => anthropicError(529, 'overloaded_error', 'Overloaded')));
    const error = await failure(model().generate(hello));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toBe('anthropic is unavailable: Overloaded');
    expect((error as ProviderUnavailableError).status).toBe(529);
    expect(server.requests).toHaveLength(4);
    expect(waits).toEqual([250, 500, 1000]);
  });

  it('times out a slow answer with ProviderTimeoutError', async () => {
    server.reply({ ...anthropicText('late'), delayMs: 1500 });
    const started = Date.now();
    const error = await failure(model({ timeoutMs: 200, retry: false }).generate(hello));
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect(error.message).toBe('anthropic did not answer within 200 ms.');
    expect(Date.now() - started).toBeLessThan(1200);
  });

  it.each([401, 403])('turns %i into ProviderAuthError naming ANTHROPIC_API_KEY, without the key', async (status) => {
    server.reply(anthropicError(status, status === 401 ? 'authentication_error' : 'permission_error', `invalid x-api-key ${key}`));
    const error = await failure(model().generate(hello));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toBe(`anthropic rejected the credentials (HTTP ${status}). Set ANTHROPIC_API_KEY to a valid API key for this provider.`);
    expect(JSON.stringify((error as ProviderAuthError).toJSON())).not.toContain(key);
    expect(String(error.cause ?? '')).not.toContain(key);
    expect(server.requests).toHaveLength(1);
  });

  it('fails with ProviderAuthError at the first call when no key is set, not at construction', async () => {
    const client = new AnthropicModel({ model: 'claude-test', baseURL: server.url, env: {} });
    const error = await failure(client.generate(hello));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toMatch(/Set ANTHROPIC_API_KEY/);
    expect(server.requests).toHaveLength(0);
  });

  it('reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from env', async () => {
    server.reply(anthropicText('hi'));
    const client = anthropicModel({ model: 'claude-test', env: { ANTHROPIC_API_KEY: 'sk-ant-env-key', ANTHROPIC_BASE_URL: server.url } });
    await client.generate(hello);
    expect(credentialSent(server.last.headers)).toBe('sk-ant-env-key');
  });

  it('turns a 400 into ProviderRequestError with the vendor message, without retrying', async () => {
    server.reply(anthropicError(400, 'invalid_request_error', 'max_tokens: 999999 > 64000, which is the maximum allowed'));
    const error = await failure(model().generate(hello));
    expect(error).toBeInstanceOf(ProviderRequestError);
    expect(error.message).toBe('anthropic rejected the request: max_tokens: 999999 > 64000, which is the maximum allowed');
    expect((error as ProviderRequestError).status).toBe(400);
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['<html>Bad gateway</html>', 'the body is not a JSON object.'],
    [JSON.stringify({ id: 'msg_1', type: 'message' }), 'the body has no "content" array.'],
  ])('turns an unreadable 200 body into ProviderResponseError holding it: %s', async (body, problem) => {
    server.reply({ status: 200, body });
    const error = await failure(model().generate(hello));
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect(error.message).toBe(`anthropic sent a response that could not be read: ${problem}`);
    expect((error as ProviderResponseError).rawBody).toBe(body);
    expect(server.requests).toHaveLength(1);
  });

  it('turns a refused connection into ProviderUnavailableError', async () => {
    const url = server.url;
    await server.close();
    const error = await failure(model({ baseURL: url, retry: false }).generate(hello));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toMatch(/^anthropic is unavailable: Connection error\./);
    server = await startFakeAnthropic();
  });

  it('stops when the caller aborts', async () => {
    server.reply({ ...anthropicText('late'), delayMs: 1500 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failure(model().generate(hello, { signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.message).toBe('The call to model "anthropic:claude-test" was aborted by its caller.');
    expect(waits).toEqual([]);
  });
});
