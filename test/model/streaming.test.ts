import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicModel } from '../../src/model/anthropic.js';
import { ProviderRateLimitError, ProviderResponseError, ProviderUnavailableError } from '../../src/model/errors/provider-error.js';
import type { ModelClient, ModelDelta, ModelRequest, RetryNotice } from '../../src/model/model-client.js';
import { OpenAIModel } from '../../src/model/openai.js';
import type { ProviderOptions } from '../../src/model/provider-options.js';
import type { FakeReply } from './fake-http-server.js';
import { anthropicMessage } from './fake-anthropic-server.js';
import { openaiCompletion } from './fake-openai-server.js';
import { anthropicStreamEvents, FakeStreamingServer, openaiStreamChunks, type SseEvent, type StreamedReplyParts } from './fake-streaming-server.js';
import { failure, weatherTool } from './provider-contract.js';

/*
 * Streaming through the real vendor SDKs, against a local server that streams in each vendor's
 * wire format: deltas arrive in order and before the reply ends, the assembled response is the
 * one the same reply gives whole, and failures in the middle of a stream are typed.
 */

interface StreamingFixture {
  provider: string;
  baseURL: (server: FakeStreamingServer) => string;
  construct: (options: ProviderOptions) => ModelClient;
  /** The same reply, whole. */
  whole: (parts: StreamedReplyParts) => FakeReply;
  streamed: (parts: StreamedReplyParts) => SseEvent[];
  /** An error event sent mid-stream: `overloaded` is the vendor's server-side failure, `rate` its rate limit. */
  errorEvent: (kind: 'overloaded' | 'rate') => SseEvent;
  /** Events before the first text delta (message/role preamble). */
  preamble: number;
  /** The request body asked to stream. */
  askedToStream: (body: any) => boolean;
}

const anthropic: StreamingFixture = {
  provider: 'anthropic',
  baseURL: (server) => server.url,
  construct: (options) => new AnthropicModel(options),
  whole: (parts) =>
    anthropicMessage([
      ...(parts.text ? [{ type: 'text' as const, text: parts.text.join('') }] : []),
      ...(parts.toolCalls ?? []).map((call) => ({ type: 'tool_use' as const, id: call.id, name: call.name, input: JSON.parse(call.json.join('')) as unknown })),
    ]),
  streamed: (parts) => anthropicStreamEvents(parts),
  errorEvent: (kind) => ({
    event: 'error',
    data: {
      type: 'error',
      error: kind === 'overloaded' ? { type: 'overloaded_error', message: 'Overloaded' } : { type: 'rate_limit_error', message: 'Too many tokens' },
    },
  }),
  // message_start, ping, content_block_start
  preamble: 3,
  askedToStream: (body) => body.stream === true,
};

const openai: StreamingFixture = {
  provider: 'openai',
  baseURL: (server) => `${server.url}/v1`,
  construct: (options) => new OpenAIModel(options),
  whole: (parts) =>
    openaiCompletion(
      {
        ...(parts.text ? { content: parts.text.join('') } : {}),
        ...(parts.toolCalls ? { tool_calls: parts.toolCalls.map((call) => ({ id: call.id, name: call.name, arguments: call.json.join('') })) } : {}),
      },
      { usage: { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29 } },
    ),
  streamed: (parts) => openaiStreamChunks(parts),
  errorEvent: (kind) => ({
    data: {
      error:
        kind === 'overloaded'
          ? { message: 'The server had an error while processing your request.', type: 'server_error', code: null }
          : { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' },
    },
  }),
  // the role chunk
  preamble: 1,
  askedToStream: (body) => body.stream === true && body.stream_options?.include_usage === true,
};

const reply: StreamedReplyParts = {
  text: ['Let me ', 'check the ', 'weather.'],
  // The arguments are split inside a key and inside a string, as vendors split them.
  toolCalls: [{ id: 'toolu_01', name: 'get_weather', json: ['{"ci', 'ty": "Par', 'is"}'] }],
};
const request: ModelRequest = { messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool] };

describe.each([anthropic, openai])('streaming from $provider', (fixture) => {
  let server: FakeStreamingServer;
  let model: ModelClient;

  beforeEach(async () => {
    server = await FakeStreamingServer.start();
    model = fixture.construct({ model: 'm', apiKey: 'sk-test-streaming-0123456789', baseURL: fixture.baseURL(server), retry: false });
  });
  afterEach(() => server.close());

  it('delivers text and tool-call starts in order and returns the response the whole reply gives', async () => {
    server.reply(fixture.whole(reply));
    server.stream({ events: fixture.streamed(reply) });
    const whole = await model.generate(request);
    const deltas: ModelDelta[] = [];
    const streamed = await model.generate(request, { onDelta: (delta) => deltas.push(delta) });

    expect(server.requests[0]!.body.stream).toBeUndefined();
    expect(fixture.askedToStream(server.requests[1]!.body)).toBe(true);
    expect(deltas).toEqual([
      { type: 'text', text: 'Let me ' },
      { type: 'text', text: 'check the ' },
      { type: 'text', text: 'weather.' },
      { type: 'tool-call', id: 'toolu_01', name: 'get_weather' },
    ]);
    expect(streamed).toEqual(whole);
    expect(streamed.content).toEqual([
      { type: 'text', text: 'Let me check the weather.' },
      { type: 'tool-call', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
    ]);
    expect(streamed.stopReason).toBe('tool-calls');
    expect(streamed.usage.outputTokens).toBe(10);
  });

  it('delivers the first text while the rest of the reply is still held by the server', async () => {
    const held = server.stream({ events: fixture.streamed({ text: ['Hello', ', world'] }), holdAfter: fixture.preamble + 1 });
    let settled = false;
    let seenFirst!: () => void;
    const first = new Promise<void>((resolve) => {
      seenFirst = resolve;
    });
    const deltas: string[] = [];
    const call = model
      .generate(request, {
        onDelta: (delta) => {
          if (delta.type === 'text') deltas.push(delta.text);
          seenFirst();
        },
      })
      .finally(() => {
        settled = true;
      });
    await first;
    expect(deltas).toEqual(['Hello']);
    expect(settled).toBe(false);
    held.release();
    const response = await call;
    expect(deltas).toEqual(['Hello', ', world']);
    expect(response.content).toEqual([{ type: 'text', text: 'Hello, world' }]);
  });

  it('reads broken argument JSON split across deltas as the whole reply would: invalid input, not a crash', async () => {
    const broken: StreamedReplyParts = { toolCalls: [{ id: 'toolu_02', name: 'get_weather', json: ['{"city": ', '"Par'] }] };
    server.stream({ events: fixture.streamed(broken) });
    const streamed = await model.generate(request, { onDelta: () => {} });
    const call = streamed.content[0];
    expect(call).toMatchObject({ type: 'tool-call', id: 'toolu_02', name: 'get_weather', input: undefined, invalidInput: { raw: '{"city": "Par' } });
    expect((call as { invalidInput: { error: string } }).invalidInput.error).toMatch(/not valid JSON/);
  });

  it('types an error event in the middle of the stream: overloaded is unavailable (retryable), a rate limit is a rate limit', async () => {
    const events = fixture.streamed({ text: ['Par', 'tial'] });
    server.stream({ events: [...events.slice(0, fixture.preamble + 1), fixture.errorEvent('overloaded')] });
    server.stream({ events: [...events.slice(0, fixture.preamble + 1), fixture.errorEvent('rate')] });
    const deltas: ModelDelta[] = [];
    const overloaded = await failure(model.generate(request, { onDelta: (delta) => deltas.push(delta) }));
    expect(overloaded).toBeInstanceOf(ProviderUnavailableError);
    expect((overloaded as ProviderUnavailableError).retryable).toBe(true);
    expect(deltas).toEqual([{ type: 'text', text: 'Par' }]);
    const limited = await failure(model.generate(request, { onDelta: () => {} }));
    expect(limited).toBeInstanceOf(ProviderRateLimitError);
    expect(limited.message).not.toContain('sk-test-streaming');
  });

  it('types a dropped connection as unavailable and a stream that ends short of the reply as an unreadable response', async () => {
    const events = fixture.streamed({ text: ['Par', 'tial'] });
    server.stream({ events: events.slice(0, fixture.preamble + 1), end: 'reset' });
    server.stream({ events: events.slice(0, fixture.preamble + 2) });
    expect(await failure(model.generate(request, { onDelta: () => {} }))).toBeInstanceOf(ProviderUnavailableError);
    const short = await failure(model.generate(request, { onDelta: () => {} }));
    expect(short).toBeInstanceOf(ProviderResponseError);
    expect(short.message).toMatch(/stream ended before/);
  });

  it('retries a stream that failed after its first deltas, saying the deltas already delivered are void', async () => {
    const retrying = fixture.construct({
      model: 'm',
      apiKey: 'sk-test-streaming-0123456789',
      baseURL: fixture.baseURL(server),
      retry: { sleep: async () => {} },
    });
    const events = fixture.streamed({ text: ['Par', 'tial'] });
    server.stream({ events: [...events.slice(0, fixture.preamble + 1), fixture.errorEvent('overloaded')] });
    server.stream({ events: fixture.streamed({ text: ['Whole ', 'answer'] }) });
    const seen: string[] = [];
    const notices: RetryNotice[] = [];
    const response = await retrying.generate(request, {
      onDelta: (delta) => seen.push(delta.type === 'text' ? delta.text : `call ${delta.name}`),
      onRetry: (notice) => {
        notices.push(notice);
        seen.push('<retry>');
      },
    });
    expect(seen).toEqual(['Par', '<retry>', 'Whole ', 'answer']);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ attempt: 1, discardsDeltas: true });
    expect(notices[0]!.error).toBeInstanceOf(ProviderUnavailableError);
    expect(response.content).toEqual([{ type: 'text', text: 'Whole answer' }]);
  });
});

describe('streaming structured output from anthropic', () => {
  it('streams the forced output tool as text, and returns it as the text of the answer', async () => {
    const server = await FakeStreamingServer.start();
    try {
      const model = new AnthropicModel({ model: 'm', apiKey: 'sk-test-streaming-0123456789', baseURL: server.url, retry: false });
      server.stream({ events: anthropicStreamEvents({ toolCalls: [{ id: 'toolu_03', name: 'answer', json: ['{"city":', '"Oslo"}'] }] }) });
      const deltas: ModelDelta[] = [];
      const response = await model.generate(
        { messages: [{ role: 'user', content: 'A city?' }], output: { name: 'answer', schema: { type: 'object', properties: { city: { type: 'string' } } } } },
        { onDelta: (delta) => deltas.push(delta) },
      );
      expect(deltas).toEqual([
        { type: 'text', text: '{"city":' },
        { type: 'text', text: '"Oslo"}' },
      ]);
      expect(response.content).toEqual([{ type: 'text', text: '{"city":"Oslo"}' }]);
      expect(response.stopReason).toBe('end-turn');
    } finally {
      await server.close();
    }
  });
});
