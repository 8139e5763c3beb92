import { afterEach, beforeEach, expect, it } from 'vitest';
import { AbortedError } from '../../src/core/errors/aborted-error.js';
import {
  ProviderAuthError,
  ProviderRateLimitError,
  ProviderRequestError,
  ProviderResponseError,
  ProviderTimeoutError,
  ProviderUnavailableError,
} from '../../src/model/errors/provider-error.js';
import type { ModelClient, ModelRequest, RetryNotice, StopReason, TokenUsage, ToolChoice } from '../../src/model/model-client.js';
import type { ProviderOptions } from '../../src/model/provider-options.js';
import type { FakeHttpServer, FakeReply } from './fake-http-server.js';

/*
 * What every HTTP provider must do, whatever its vendor: one list of cases, run by providers.test.ts
 * against each vendor's fake server through the real SDK. A vendor's fixture says how its wire
 * format spells a reply, an error and a credential; its own test file keeps only what its wire
 * format alone has (request bodies, structured output, vendor-only settings).
 */

export const hello: ModelRequest = { system: 'Be brief.', messages: [{ role: 'user', content: 'Hello' }] };
export const weatherTool = {
  name: 'get_weather',
  description: 'Current weather in a city.',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/** A conversation with tool calls (one with unreadable arguments), tool results and named speakers, for the wire-format tests. */
export const toolConversation: ModelRequest = {
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
    { role: 'user', content: 'Also Oslo.', name: 'boss' },
  ],
  tools: [weatherTool],
  toolChoice: 'required',
  maxOutputTokens: 300,
  temperature: 0.2,
};

/** The error the call failed with; fails the test when the call succeeds. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  const result = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(result instanceof Error)) throw new Error('Expected the call to fail.');
  return result;
}

/** A fresh fake server per test, and retry waits recorded instead of slept. */
export function fakeVendor(start: () => Promise<FakeHttpServer>) {
  const state = { server: undefined as unknown as FakeHttpServer, waits: [] as number[] };
  beforeEach(async () => {
    state.server = await start();
    state.waits = [];
  });
  afterEach(() => state.server.close());
  return state;
}

/** How one vendor's wire format says the things the contract asks for. */
export interface ProviderFixture {
  /** The model id's prefix; also names its variables (`ANTHROPIC_API_KEY`). */
  provider: string;
  /** A key shaped like the vendor's, so that key-shaped redaction would see it. */
  key: string;
  start(): Promise<FakeHttpServer>;
  /** The base URL the SDK is given for a fake server. */
  baseURL(server: FakeHttpServer): string;
  /** The path the call is sent to. */
  path: string;
  /** The factory users call (`anthropicModel`), retries included unless `retry: false`. */
  factory(options: ProviderOptions): ModelClient;
  /** The class: one attempt per call unless given `retry`. */
  construct(options: ProviderOptions): ModelClient;
  /** The key the request carried. */
  credentialSent(headers: Record<string, string | string[] | undefined>): string | undefined;
  text(text: string, options?: { stopReason?: string; usage?: Record<string, unknown>; model?: string }): FakeReply;
  /** Tool calls, with optional text before them; an `input` string is sent as it is, as a model may send broken JSON. */
  toolCalls(calls: Array<{ id: string; name: string; input: unknown }>, text?: string): FakeReply;
  error(status: number, message: string, headers?: Record<string, string>): FakeReply;
  /** The answering model the fake server names by default. */
  answeringModel: string;
  /** A usage block as the vendor sends it, and as Troupe counts it. */
  usage: { vendor: Record<string, unknown>; ours: TokenUsage };
  /** The vendor's stop reasons other than a plain end and tool calls, and ours for them. */
  stopReasons: Record<string, StopReason>;
  /** How the vendor spells `auto`, `none`, `required` and `{ name: 'get_weather' }` as a request's tool choice. */
  toolChoices: [auto: unknown, none: unknown, required: unknown, named: unknown];
  /** The status the vendor answers when overloaded. */
  overloadedStatus: number;
  /** 200 bodies that are JSON objects but not the documented response, and the problem named for each. */
  unreadableBodies: Array<[body: string, problem: string]>;
}

/** Registers the contract's cases for one vendor; call inside a `describe`. */
export function providerContract(fixture: ProviderFixture): void {
  const { provider, key } = fixture;
  const keyVariable = `${provider.toUpperCase()}_API_KEY`;
  const fake = fakeVendor(fixture.start);
  const model = (options: Partial<ProviderOptions> = {}) =>
    fixture.factory({
      model: 'test-model',
      apiKey: key,
      baseURL: fixture.baseURL(fake.server),
      env: {},
      retry: { random: () => 0.5, sleep: async (ms) => void fake.waits.push(ms) },
      ...options,
    });

  it('reads a text reply and its usage, and sends the key', async () => {
    fake.server.reply(fixture.text('Hi there.', { usage: fixture.usage.vendor }));
    const client = model();
    expect(client.id).toBe(`${provider}:test-model`);
    expect(await client.generate(hello)).toEqual({
      content: [{ type: 'text', text: 'Hi there.' }],
      stopReason: 'end-turn',
      usage: fixture.usage.ours,
      model: fixture.answeringModel,
    });
    expect(fake.server.last.method).toBe('POST');
    expect(fake.server.last.path).toBe(fixture.path);
    expect(fixture.credentialSent(fake.server.last.headers)).toBe(key);
  });

  it('names the model asked for when the answer does not say', async () => {
    const reply = fixture.text('Hi.');
    delete (reply.body as Record<string, unknown>)['model'];
    fake.server.reply(reply);
    expect((await model().generate(hello)).model).toBe('test-model');
  });

  it("spells each tool choice the vendor's way", async () => {
    const choices: ToolChoice[] = ['auto', 'none', 'required', { name: 'get_weather' }];
    for (const [index, toolChoice] of choices.entries()) {
      fake.server.reply(fixture.text('ok'));
      await model().generate({ ...toolConversation, toolChoice });
      expect(fake.server.last.body.tool_choice).toEqual(fixture.toolChoices[index]);
    }
  });

  it('reads one tool call', async () => {
    fake.server.reply(fixture.toolCalls([{ id: 'call_01A', name: 'get_weather', input: { city: 'Paris' } }]));
    const response = await model().generate({ ...hello, tools: [weatherTool] });
    expect(response.stopReason).toBe('tool-calls');
    expect(response.content).toEqual([{ type: 'tool-call', id: 'call_01A', name: 'get_weather', input: { city: 'Paris' } }]);
  });

  it('reads several tool calls in one turn, after text', async () => {
    fake.server.reply(
      fixture.toolCalls(
        [
          { id: 'call_01', name: 'get_weather', input: { city: 'Paris' } },
          { id: 'call_02', name: 'get_weather', input: { city: 'Rome' } },
        ],
        'Let me check both.',
      ),
    );
    const response = await model().generate({ ...hello, tools: [weatherTool] });
    expect(response.content).toEqual([
      { type: 'text', text: 'Let me check both.' },
      { type: 'tool-call', id: 'call_01', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool-call', id: 'call_02', name: 'get_weather', input: { city: 'Rome' } },
    ]);
  });

  it('turns tool arguments that are not a JSON object into invalidInput', async () => {
    fake.server.reply(
      fixture.toolCalls([
        { id: 'call_bad', name: 'get_weather', input: '{"city": "Par' },
        { id: 'call_list', name: 'get_weather', input: ['Paris'] },
        { id: 'call_str', name: 'get_weather', input: '"Paris"' },
      ]),
    );
    const [broken, list, bare] = (await model().generate({ ...hello, tools: [weatherTool] })).content;
    expect(broken).toMatchObject({ type: 'tool-call', id: 'call_bad', input: undefined, invalidInput: { raw: '{"city": "Par' } });
    expect(broken?.type === 'tool-call' && broken.invalidInput?.error).toMatch(/^The arguments are not valid JSON/);
    expect(list).toMatchObject({ input: undefined, invalidInput: { raw: '["Paris"]', error: 'The arguments must be a JSON object.' } });
    expect(bare).toMatchObject({ input: undefined, invalidInput: { raw: '"Paris"', error: 'The arguments must be a JSON object.' } });
  });

  it("maps the vendor's stop reasons, and an unknown one to other", async () => {
    for (const [vendor, ours] of Object.entries({ ...fixture.stopReasons, something_new: 'other' })) {
      fake.server.reply(fixture.text('x', { stopReason: vendor }));
      expect((await model().generate(hello)).stopReason).toBe(ours);
    }
  });

  it('retries a 429 after the seconds retry-after asks for, and reports the retry', async () => {
    fake.server.reply(fixture.error(429, 'Too many requests per minute.', { 'retry-after': '2' }), fixture.text('done'));
    const notices: RetryNotice[] = [];
    const response = await model().generate(hello, { onRetry: (notice) => notices.push(notice) });
    expect(response.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(fake.server.requests).toHaveLength(2);
    expect(fake.waits).toEqual([2000]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ attempt: 1, delayMs: 2000 });
    expect(notices[0]!.error).toBeInstanceOf(ProviderRateLimitError);
    expect(notices[0]!.error.message).toBe(`${provider} is rate limiting requests: Too many requests per minute.`);
    expect((notices[0]!.error as ProviderRateLimitError).retryAfterMs).toBe(2000);
  });

  it('built with new, makes one attempt per call, and retries when given retry', async () => {
    const settings = { model: 'test-model', apiKey: key, baseURL: fixture.baseURL(fake.server), env: {} };
    fake.server.reply(fixture.error(fixture.overloadedStatus, 'Busy.'), fixture.error(fixture.overloadedStatus, 'Busy.'), fixture.text('done'));
    await expect(fixture.construct(settings).generate(hello)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(fake.server.requests).toHaveLength(1);
    const retrying = fixture.construct({ ...settings, retry: { random: () => 0.5, sleep: async (ms) => void fake.waits.push(ms) } });
    expect((await retrying.generate(hello)).content).toEqual([{ type: 'text', text: 'done' }]);
    expect(fake.server.requests).toHaveLength(3);
  });

  it('prefers retry-after-ms to retry-after', async () => {
    fake.server.reply(fixture.error(429, 'Slow down', { 'retry-after-ms': '1500', 'retry-after': '2' }), fixture.text('done'));
    await model().generate(hello);
    expect(fake.waits).toEqual([1500]);
  });

  it('honours retry-after given as an HTTP date', async () => {
    const inThreeSeconds = new Date(Date.now() + 3000).toUTCString();
    fake.server.reply(fixture.error(429, 'Slow down', { 'retry-after': inThreeSeconds }), fixture.text('done'));
    await model().generate(hello);
    expect(fake.waits).toHaveLength(1);
    // HTTP dates have whole seconds, so the wait is a little under 3 seconds.
    expect(fake.waits[0]).toBeGreaterThan(1000);
    expect(fake.waits[0]).toBeLessThanOrEqual(3000);
  });

  it('retries a 500 and succeeds', async () => {
    fake.server.reply(fixture.error(500, 'Internal server error'), fixture.text('recovered'));
    const response = await model().generate(hello);
    expect(response.content).toEqual([{ type: 'text', text: 'recovered' }]);
    expect(fake.waits).toEqual([250]);
  });

  it('gives up on an overloaded server after the default 3 retries with ProviderUnavailableError', async () => {
    fake.server.reply(...Array.from({ length: 4 }, () => fixture.error(fixture.overloadedStatus, 'Overloaded')));
    const error = await failure(model().generate(hello));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toBe(`${provider} is unavailable: Overloaded`);
    expect((error as ProviderUnavailableError).status).toBe(fixture.overloadedStatus);
    expect(fake.server.requests).toHaveLength(4);
    expect(fake.waits).toEqual([250, 500, 1000]);
  });

  it('gives up on 503 after the retries it was given', async () => {
    fake.server.reply(...Array.from({ length: 3 }, () => fixture.error(503, 'The engine is currently overloaded.')));
    const retry = { maxRetries: 2, random: () => 0.5, sleep: async (ms: number) => void fake.waits.push(ms) };
    const error = await failure(model({ retry }).generate(hello));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as ProviderUnavailableError).status).toBe(503);
    expect(fake.server.requests).toHaveLength(3);
    expect(fake.waits).toEqual([250, 500]);
  });

  it('times out a slow answer with ProviderTimeoutError', async () => {
    // The answer would come after 1.5 s; the call succeeds unless the timeout cuts it.
    fake.server.reply({ ...fixture.text('late'), delayMs: 1500 });
    const error = await failure(model({ timeoutMs: 200, retry: false }).generate(hello));
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect(error.message).toBe(`${provider} did not answer within 200 ms.`);
  });

  it.each([401, 403])('turns %i into ProviderAuthError naming the key variable, without the key', async (status) => {
    // A vendor's auth message can echo the key (OpenAI's quotes part of it).
    fake.server.reply(fixture.error(status, `Incorrect API key provided: ${key}.`));
    const error = await failure(model().generate(hello));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toBe(`${provider} rejected the credentials (HTTP ${status}). Set ${keyVariable} to a valid API key for this provider.`);
    expect((error as ProviderAuthError).variable).toBe(keyVariable);
    expect(JSON.stringify((error as ProviderAuthError).toJSON())).not.toContain(key);
    expect(error.cause).toBeUndefined();
    expect(fake.server.requests).toHaveLength(1);
  });

  it('cuts the key out of vendor messages it passes on', async () => {
    fake.server.reply(fixture.error(404, `The model test-model does not exist or you do not have access to it (key ${key}).`));
    const error = await failure(model().generate(hello));
    expect(error).toBeInstanceOf(ProviderRequestError);
    expect(error.message).toBe(`${provider} rejected the request: The model test-model does not exist or you do not have access to it (key [redacted]).`);
    expect(JSON.stringify((error as ProviderRequestError).toJSON())).not.toContain(key);
    expect(error.cause).toBeUndefined();
  });

  it('fails with ProviderAuthError at the first call when there is no key and no base URL, not at construction', async () => {
    const client = fixture.construct({ model: 'test-model', env: {} });
    const error = await failure(client.generate(hello));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toBe(`no API key is set for ${provider}. Set ${keyVariable} to a valid API key for this provider.`);
    expect(fake.server.requests).toHaveLength(0);
  });

  it('reads the key and the base URL from env', async () => {
    fake.server.reply(fixture.text('hi'));
    const env = { [keyVariable]: 'sk-env-key-123456', [`${provider.toUpperCase()}_BASE_URL`]: fixture.baseURL(fake.server) };
    await fixture.factory({ model: 'test-model', env }).generate(hello);
    expect(fixture.credentialSent(fake.server.last.headers)).toBe('sk-env-key-123456');
  });

  it('turns a 400 into ProviderRequestError with the vendor message, without retrying', async () => {
    fake.server.reply(fixture.error(400, 'max_tokens: 999999 > 64000, which is the maximum allowed'));
    const error = await failure(model().generate(hello));
    expect(error).toBeInstanceOf(ProviderRequestError);
    expect(error.message).toBe(`${provider} rejected the request: max_tokens: 999999 > 64000, which is the maximum allowed`);
    expect((error as ProviderRequestError).status).toBe(400);
    expect(fake.server.requests).toHaveLength(1);
  });

  it('turns an unreadable 200 body into ProviderResponseError holding it, without retrying', async () => {
    const cases: Array<[string, string]> = [['<html><body>502 Bad Gateway</body></html>', 'the body is not a JSON object.'], ...fixture.unreadableBodies];
    for (const [body, problem] of cases) {
      fake.server.reply({ status: 200, body });
      const before = fake.server.requests.length;
      const error = await failure(model().generate(hello));
      expect(error).toBeInstanceOf(ProviderResponseError);
      expect(error.message).toBe(`${provider} sent a response that could not be read: ${problem}`);
      expect((error as ProviderResponseError).rawBody).toBe(body);
      expect(fake.server.requests.length - before).toBe(1);
    }
  });

  it('turns a refused connection into ProviderUnavailableError', async () => {
    const baseURL = fixture.baseURL(fake.server);
    await fake.server.close();
    const error = await failure(model({ baseURL, retry: false }).generate(hello));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toMatch(new RegExp(`^${provider} is unavailable: Connection error\\.`));
    fake.server = await fixture.start();
  });

  it('stops when the caller aborts, without retrying', async () => {
    fake.server.reply({ ...fixture.text('late'), delayMs: 1500 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failure(model().generate(hello, { signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.message).toBe(`The call to model "${provider}:test-model" was aborted by its caller.`);
    expect(fake.waits).toEqual([]);
  });

  it('does not call at all when the signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failure(model().generate(hello, { signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortedError);
    expect(fake.server.requests).toHaveLength(0);
  });
}
