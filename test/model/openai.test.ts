import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortedError } from '../../src/core/errors/aborted-error.js';
import {
  ProviderAuthError,
  ProviderRateLimitError,
  ProviderRequestError,
  ProviderResponseError,
  ProviderTimeoutError,
  ProviderUnavailableError,
} from '../../src/model/errors/provider-error.js';
import type { ModelRequest, RetryNotice } from '../../src/model/model-client.js';
import { OpenAIModel, openaiModel, type OpenAIModelOptions } from '../../src/model/openai.js';
import type { FakeHttpServer } from './fake-http-server.js';
import { openaiCompletion, openaiError, openaiText, startFakeOpenAI } from './fake-openai-server.js';

const key = 'sk-proj-test0123456789abcdefXYZ';
const hello: ModelRequest = { system: 'Be brief.', messages: [{ role: 'user', content: 'Hello' }] };
const weatherTool = {
  name: 'get_weather',
  description: 'Current weather in a city.',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

let server: FakeHttpServer;
let waits: number[];

beforeEach(async () => {
  server = await startFakeOpenAI();
  waits = [];
});
afterEach(() => server.close());

function model(options: Partial<OpenAIModelOptions> = {}) {
  return openaiModel({
    model: 'gpt-test',
    apiKey: key,
    baseURL: `${server.url}/v1`,
    env: {},
    retry: { random: () => 0.5, sleep: async (ms) => void waits.push(ms) },
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const result = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(result instanceof Error)) throw new Error('Expected the call to fail.');
  return result;
}

describe('OpenAIModel', () => {
  it('sends a plain request and reads a plain answer', async () => {
    server.reply(
      openaiText('Hi there.', {
        usage: { prompt_tokens: 30, completion_tokens: 5, total_tokens: 35, prompt_tokens_details: { cached_tokens: 20 } },
      }),
    );
    const client = model();
    expect(client.id).toBe('openai:gpt-test');
    const response = await client.generate(hello);
    expect(response).toEqual({
      content: [{ type: 'text', text: 'Hi there.' }],
      stopReason: 'end-turn',
      // prompt_tokens include the cached ones; Troupe counts them apart.
      usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 20 },
      model: 'gpt-4.1-2025-04-14',
    });
    const sent = server.last;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers['authorization']).toBe(`Bearer ${key}`);
    expect(sent.body).toEqual({
      model: 'gpt-test',
      max_tokens: 4096,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
    });
  });

  it('maps tools, tool choices and a conversation with tool calls and results', async () => {
    const request: ModelRequest = {
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?', name: 'Ada Lovelace' },
        {
          role: 'assistant',
          name: 'planner',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool-call', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool-call', id: 'call_2', name: 'get_weather', input: undefined, invalidInput: { raw: '{', error: 'bad' } },
          ],
        },
        {
          role: 'tool',
          content: [
            { type: 'tool-result', callId: 'call_1', name: 'get_weather', output: '18C' },
            { type: 'tool-result', callId: 'call_2', name: 'get_weather', output: 'invalid JSON', isError: true },
          ],
        },
        { role: 'user', content: 'Also Oslo.' },
      ],
      tools: [weatherTool],
      toolChoice: 'required',
      maxOutputTokens: 300,
      temperature: 0.2,
    };
    server.reply(openaiText('ok'), openaiText('ok'), openaiText('ok'), openaiText('ok'));
    const client = model();
    await client.generate(request);
    expect(server.last.body).toEqual({
      model: 'gpt-test',
      max_tokens: 300,
      temperature: 0.2,
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather in a city.', parameters: weatherTool.inputSchema } }],
      tool_choice: 'required',
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?', name: 'Ada_Lovelace' },
        {
          role: 'assistant',
          name: 'planner',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: 'Error: invalid JSON' },
        { role: 'user', content: 'Also Oslo.' },
      ],
    });
    await client.generate({ ...request, toolChoice: 'auto' });
    expect(server.last.body.tool_choice).toBe('auto');
    await client.generate({ ...request, toolChoice: 'none' });
    expect(server.last.body.tool_choice).toBe('none');
    await client.generate({ ...request, toolChoice: { name: 'get_weather' } });
    expect(server.last.body.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
  });

  it('reads one tool call', async () => {
    server.reply(openaiCompletion({ tool_calls: [{ id: 'call_abc', name: 'get_weather', arguments: '{"city":"Paris"}' }] }));
    const response = await model().generate({ ...hello, tools: [weatherTool] });
    expect(response.stopReason).toBe('tool-calls');
    expect(response.content).toEqual([{ type: 'tool-call', id: 'call_abc', name: 'get_weather', input: { city: 'Paris' } }]);
  });

  it('reads several tool calls in one turn (parallel tool calls)', async () => {
    server.reply(
      openaiCompletion({
        content: 'Checking both.',
        tool_calls: [
          { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
        ],
      }),
    );
    const response = await model().generate({ ...hello, tools: [weatherTool] });
    expect(response.content).toEqual([
      { type: 'text', text: 'Checking both.' },
      { type: 'tool-call', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool-call', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
    ]);
  });

  it('turns arguments that are not a JSON object into invalidInput', async () => {
    server.reply(
      openaiCompletion({
        tool_calls: [
          { id: 'call_bad', name: 'get_weather', arguments: '{"city": "Par' },
          { id: 'call_str', name: 'get_weather', arguments: '"Paris"' },
        ],
      }),
    );
    const response = await model().generate({ ...hello, tools: [weatherTool] });
    const [broken, bare] = response.content;
    expect(broken).toMatchObject({ type: 'tool-call', id: 'call_bad', input: undefined, invalidInput: { raw: '{"city": "Par' } });
    expect(broken?.type === 'tool-call' && broken.invalidInput?.error).toMatch(/^The arguments are not valid JSON/);
    expect(bare).toMatchObject({ input: undefined, invalidInput: { raw: '"Paris"', error: 'The arguments must be a JSON object.' } });
  });

  it('maps finish reasons', async () => {
    const cases = { length: 'max-tokens', content_filter: 'content-filter', something_new: 'other' };
    for (const [vendor, ours] of Object.entries(cases)) {
      server.reply(openaiText('x', { finish_reason: vendor }));
      expect((await model().generate(hello)).stopReason).toBe(ours);
    }
  });

  it('asks for structured output with response_format json_schema', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };
    server.reply(openaiText('{"answer":4}'));
    const response = await model().generate({ ...hello, output: { name: 'result', schema } });
    expect(response.content).toEqual([{ type: 'text', text: '{"answer":4}' }]);
    expect(server.last.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'result', schema } });
  });

  it('retries a 429 after the wait retry-after-ms asks for, and reports the retry', async () => {
    server.reply(
      openaiError(429, 'requests', 'Rate limit reached for gpt-test in organization org-x on requests per min (RPM).', 'rate_limit_exceeded', {
        'retry-after-ms': '1500',
        'retry-after': '2',
      }),
      openaiText('done'),
    );
    const notices: RetryNotice[] = [];
    const response = await model().generate(hello, { onRetry: (notice) => notices.push(notice) });
    expect(response.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(server.requests).toHaveLength(2);
    expect(waits).toEqual([1500]);
    const notice = notices[0]!;
    expect(notices).toHaveLength(1);
    expect(notice).toMatchObject({ attempt: 1, delayMs: 1500 });
    expect(notice.error).toBeInstanceOf(ProviderRateLimitError);
    expect(notice.error.message).toBe('openai is rate limiting requests: Rate limit reached for gpt-test in organization org-x on requests per min (RPM).');
  });

  it('honours retry-after given as an HTTP date', async () => {
    const inThreeSeconds = new Date(Date.now() + 3000).toUTCString();
    server.reply(openaiError(429, 'requests', 'Slow down', null, { 'retry-after': inThreeSeconds }), openaiText('done'));
    await model().generate(hello);
    expect(waits).toHaveLength(1);
    // HTTP dates have whole seconds, so the wait is a little under 3 seconds.
    expect(waits[0]).toBeGreaterThan(1000);
    expect(waits[0]).toBeLessThanOrEqual(3000);
  });

  it('retries a 500 and succeeds', async () => {
    server.reply(openaiError(500, 'server_error', 'The server had an error while processing your request.'), openaiText('recovered'));
    const response = await model().generate(hello);
    expect(response.content).toEqual([{ type: 'text', text: 'recovered' }]);
    expect(waits).toEqual([250]);
  });

  it('gives up on 5xx after maxRetries with ProviderUnavailableError', async () => {
    server.reply(...Array.from({ length: 3 }, () => openaiError(503, 'server_error', 'The engine is currently overloaded.')));
    const error = await failure(model({ retry: { maxRetries: 2, random: () => 0.5, sleep: async (ms) => void waits.push(ms) } }).generate(hello));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toBe('openai is unavailable: The engine is currently overloaded.');
    expect((error as ProviderUnavailableError).status).toBe(503);
    expect(server.requests).toHaveLength(3);
    expect(waits).toEqual([250, 500]);
  });

  it('times out a slow answer with ProviderTimeoutError', async () => {
    server.reply({ ...openaiText('late'), delayMs: 1500 });
    const started = Date.now();
    const error = await failure(model({ timeoutMs: 200, retry: { maxRetries: 0 } }).generate(hello));
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect(error.message).toBe('openai did not answer within 200 ms.');
    expect(Date.now() - started).toBeLessThan(1200);
  });

  it.each([401, 403])('turns %i into ProviderAuthError naming OPENAI_API_KEY, without the key', async (status) => {
    // OpenAI's real 401 message echoes part of the key.
    server.reply(
      openaiError(
        status,
        'invalid_request_error',
        `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        'invalid_api_key',
      ),
    );
    const error = await failure(model().generate(hello));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toBe(`openai rejected the credentials (HTTP ${status}). Set OPENAI_API_KEY to a valid API key for this provider.`);
    expect((error as ProviderAuthError).variable).toBe('OPENAI_API_KEY');
    expect(JSON.stringify((error as ProviderAuthError).toJSON())).not.toContain(key);
    expect(error.cause).toBeUndefined();
    expect(server.requests).toHaveLength(1);
  });

  it('fails with ProviderAuthError at the first call when there is no key and no base URL', async () => {
    const client = new OpenAIModel({ model: 'gpt-test', env: {} });
    const error = await failure(client.generate(hello));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toBe('no API key is set for openai. Set OPENAI_API_KEY to a valid API key for this provider.');
  });

  it('talks to an OpenAI-compatible server from OPENAI_BASE_URL without a key', async () => {
    server.reply(openaiText('from llama', { model: 'llama3.2' }));
    const client = openaiModel({ model: 'llama3.2', env: { OPENAI_BASE_URL: `${server.url}/v1` } });
    const response = await client.generate(hello);
    expect(response.model).toBe('llama3.2');
    expect(server.last.path).toBe('/v1/chat/completions');
    // Local servers ignore the key, but the SDK must send one.
    expect(server.last.headers['authorization']).toBe('Bearer not-needed');
    expect(server.last.body.max_tokens).toBe(4096);
  });

  it('reads OPENAI_API_KEY from env', async () => {
    server.reply(openaiText('hi'));
    await openaiModel({ model: 'gpt-test', env: { OPENAI_API_KEY: 'sk-env-key-123456', OPENAI_BASE_URL: `${server.url}/v1` } }).generate(hello);
    expect(server.last.headers['authorization']).toBe('Bearer sk-env-key-123456');
  });

  it('turns a 400 into ProviderRequestError with the vendor message, without retrying', async () => {
    server.reply(
      openaiError(
        400,
        'invalid_request_error',
        "Invalid schema for function 'get_weather': schema must be a JSON Schema of 'type: \"object\"'.",
        'invalid_function_parameters',
      ),
    );
    const error = await failure(model().generate(hello));
    expect(error).toBeInstanceOf(ProviderRequestError);
    expect(error.message).toBe("openai rejected the request: Invalid schema for function 'get_weather': schema must be a JSON Schema of 'type: \"object\"'.");
    expect(server.requests).toHaveLength(1);
  });

  it('cuts a key out of vendor messages it passes on', async () => {
    server.reply(openaiError(404, 'invalid_request_error', `The model gpt-test does not exist or you do not have access to it (key ${key}).`));
    const error = await failure(model().generate(hello));
    expect(error).toBeInstanceOf(ProviderRequestError);
    expect(error.message).toBe('openai rejected the request: The model gpt-test does not exist or you do not have access to it (key [redacted]).');
    expect(JSON.stringify((error as ProviderRequestError).toJSON())).not.toContain(key);
    expect(error.cause).toBeUndefined();
  });

  it.each([
    ['<html><body>502 Bad Gateway</body></html>', 'the body is not a JSON object.'],
    [JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [] }), 'the body has no "choices".'],
    [JSON.stringify({ id: 'chatcmpl-1', choices: [{ index: 0, finish_reason: 'stop' }] }), 'the first choice has no "message".'],
  ])('turns an unreadable 200 body into ProviderResponseError holding it: %s', async (body, problem) => {
    server.reply({ status: 200, body });
    const error = await failure(model().generate(hello));
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect(error.message).toBe(`openai sent a response that could not be read: ${problem}`);
    expect((error as ProviderResponseError).rawBody).toBe(body);
    expect(server.requests).toHaveLength(1);
  });

  it('turns a refused connection into ProviderUnavailableError', async () => {
    const url = server.url;
    await server.close();
    const error = await failure(model({ baseURL: `${url}/v1`, retry: false }).generate(hello));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toMatch(/^openai is unavailable: Connection error\./);
    server = await startFakeOpenAI();
  });

  it('stops when the caller aborts', async () => {
    server.reply({ ...openaiText('late'), delayMs: 1500 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failure(model().generate(hello, { signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.message).toBe('The call to model "openai:gpt-test" was aborted by its caller.');
  });
});
