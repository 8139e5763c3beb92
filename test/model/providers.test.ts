import { describe } from 'vitest';
import { AnthropicModel, anthropicModel } from '../../src/model/anthropic.js';
import { OpenAIModel, openaiModel } from '../../src/model/openai.js';
import { anthropicError, anthropicMessage, anthropicText, startFakeAnthropic } from './fake-anthropic-server.js';
import { openaiCompletion, openaiError, openaiText, startFakeOpenAI } from './fake-openai-server.js';
import { providerContract, type ProviderFixture } from './provider-contract.js';

const anthropic: ProviderFixture = {
  provider: 'anthropic',
  key: 'sk-ant-test-0123456789abcdef',
  start: startFakeAnthropic,
  baseURL: (server) => server.url,
  path: '/v1/messages',
  factory: anthropicModel,
  construct: (options) => new AnthropicModel(options),
  // Anthropic documents `x-api-key`; SDK 1.x sends the key as `Authorization: Bearer`. Either is the key.
  credentialSent(headers) {
    const apiKey = headers['x-api-key'];
    if (typeof apiKey === 'string') return apiKey;
    const authorization = headers['authorization'];
    return typeof authorization === 'string' ? authorization.replace(/^Bearer /, '') : undefined;
  },
  text: (text, options = {}) =>
    anthropicText(text, {
      ...(options.stopReason ? { stop_reason: options.stopReason } : {}),
      ...(options.usage ? { usage: options.usage as Record<string, number> } : {}),
      ...(options.model ? { model: options.model } : {}),
    }),
  toolCalls: (calls, text) =>
    anthropicMessage([
      ...(text ? [{ type: 'text' as const, text }] : []),
      ...calls.map((call) => ({ type: 'tool_use' as const, id: call.id, name: call.name, input: call.input })),
    ]),
  error: (status, message, headers) =>
    anthropicError(status, status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error', message, headers),
  answeringModel: 'claude-sonnet-5-5',
  usage: {
    vendor: { input_tokens: 12, output_tokens: 4, cache_read_input_tokens: 7, cache_creation_input_tokens: 3 },
    ours: { inputTokens: 12, outputTokens: 4, cacheReadTokens: 7, cacheWriteTokens: 3 },
  },
  stopReasons: { max_tokens: 'max-tokens', stop_sequence: 'stop-sequence', refusal: 'content-filter', pause_turn: 'other' },
  toolChoices: [{ type: 'auto' }, { type: 'none' }, { type: 'any' }, { type: 'tool', name: 'get_weather' }],
  overloadedStatus: 529,
  unreadableBodies: [[JSON.stringify({ id: 'msg_1', type: 'message' }), 'the body has no "content" array.']],
};

const openai: ProviderFixture = {
  provider: 'openai',
  key: 'sk-proj-test0123456789abcdefXYZ',
  start: startFakeOpenAI,
  baseURL: (server) => `${server.url}/v1`,
  path: '/v1/chat/completions',
  factory: openaiModel,
  construct: (options) => new OpenAIModel(options),
  credentialSent: (headers) => (typeof headers['authorization'] === 'string' ? headers['authorization'].replace(/^Bearer /, '') : undefined),
  text: (text, options = {}) =>
    openaiText(text, {
      ...(options.stopReason ? { finish_reason: options.stopReason } : {}),
      ...(options.usage ? { usage: options.usage } : {}),
      ...(options.model ? { model: options.model } : {}),
    }),
  // Arguments travel as JSON text; a string is sent as it is, so tests can send broken JSON.
  toolCalls: (calls, text) =>
    openaiCompletion({
      ...(text ? { content: text } : {}),
      tool_calls: calls.map((call) => ({ id: call.id, name: call.name, arguments: typeof call.input === 'string' ? call.input : JSON.stringify(call.input) })),
    }),
  error: (status, message, headers) =>
    openaiError(status, status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error', message, null, headers),
  answeringModel: 'gpt-4.1-2025-04-14',
  // prompt_tokens include the cached ones; Troupe counts them apart.
  usage: {
    vendor: { prompt_tokens: 30, completion_tokens: 5, total_tokens: 35, prompt_tokens_details: { cached_tokens: 20 } },
    ours: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 20 },
  },
  stopReasons: { length: 'max-tokens', content_filter: 'content-filter' },
  toolChoices: ['auto', 'none', 'required', { type: 'function', function: { name: 'get_weather' } }],
  overloadedStatus: 503,
  unreadableBodies: [
    [JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [] }), 'the body has no "choices".'],
    [JSON.stringify({ id: 'chatcmpl-1', choices: [{ index: 0, finish_reason: 'stop' }] }), 'the first choice has no "message".'],
  ],
};

describe.each([anthropic, openai])('the $provider provider keeps the provider contract', (fixture) => providerContract(fixture));
