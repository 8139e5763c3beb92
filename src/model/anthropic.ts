import type Anthropic from '@anthropic-ai/sdk';
import { assembleAnthropicStream } from './anthropic-stream.js';
import { HttpProvider, retryingFactory, type HttpProviderSettings, type Unreadable, type VendorMapping } from './http-provider.js';
import type { Message, ModelClient, ModelRequest, ModelResponse, StopReason, TextPart, TokenUsage, ToolCallPart, ToolChoice } from './model-client.js';
import { isRecord, readToolInput } from './provider-failure.js';
import type { ProviderOptions } from './provider-options.js';

type Sdk = typeof import('@anthropic-ai/sdk');
type MessageParam = Anthropic.MessageParam;
type ContentBlockParam = Anthropic.ContentBlockParam;
type AnthropicTool = Anthropic.Tool;
type AnthropicToolChoice = Anthropic.ToolChoice;
type CreateParams = Anthropic.MessageCreateParamsNonStreaming;

const officialBaseURL = 'https://api.anthropic.com';

export type AnthropicModelOptions = ProviderOptions;

/** The Messages API's wire format; the rest of the provider is `HttpProvider`'s. */
const anthropic: VendorMapping<Sdk, Anthropic, CreateParams> = {
  provider: 'anthropic',
  loadSdk: () => import('@anthropic-ai/sdk'),
  // The base URL is always passed so that the SDK does not read process.env behind `env`.
  createClient: (sdk, { apiKey, baseURL, timeoutMs }) => new sdk.default({ apiKey, baseURL: baseURL ?? officialBaseURL, timeout: timeoutMs, maxRetries: 0 }),
  toParams,
  send: (client, params, options) => client.messages.create(params, options),
  readResponse: (body, request, unreadable) => readMessage(body, request.output?.name, unreadable),
  vendorMessage: (error) => error.apiMessage ?? error.message,
  streaming: {
    send: (client, params, options) => client.messages.create({ ...params, stream: true }, options),
    assemble: assembleAnthropicStream,
    errorStatus: (error) => streamErrorStatuses[error.type ?? ''] ?? 500,
  },
};

/** The status each error type of the Messages API is sent with (Anthropic's "Errors" page); a stream's error event carries only the type. */
const streamErrorStatuses: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/**
 * Claude through the Messages API. Makes one HTTP call per `generate` (the SDK's own retries are
 * off; wrap with `withRetry`, as `anthropicModel` does, so retries show in traces). A missing key
 * fails at the first call, not here, so naming a model that is never used costs nothing.
 */
export class AnthropicModel extends HttpProvider<Sdk, Anthropic, CreateParams> {
  constructor(options: AnthropicModelOptions) {
    super(anthropic, options);
  }
}

/** `anthropic:<model>` with retries (unless `retry: false`). */
export const anthropicModel: (options: AnthropicModelOptions) => ModelClient = retryingFactory(AnthropicModel);

/*
 * What newer Claude models refuse with a 400 (platform.claude.com/docs/en/models/sonnet-5-5/migration-guide,
 * .../opus-5-5/whats-new-opus-5-5):
 * - a forced tool choice (`any` or `tool`), on Claude Sonnet 5.5, Opus 5.5, Haiku 5.5 and Fable /
 *   Mythos 5.1 and later. Structured output then uses the native JSON format
 *   (`output_config.format`), and a forced tool becomes an instruction with `auto`: the model is
 *   offered only the named tool (or all of them, for `required`) and told to call it. A model that
 *   answers in words instead shows as a reply without the call, as it would on any model that
 *   cannot follow the request.
 * - sampling parameters (`temperature`) other than the default, on the Claude 5 generation.
 *   Temperature is a tuning hint, so it is left out there rather than failing every call.
 */
const rejectsForcedToolChoice = /^claude-(?:sonnet-5-5|opus-5-5|haiku-5-5|fable-5-[1-9]|mythos-5-[1-9])(?:-|$)/;
const rejectsSamplingParameters = /^claude-(?:sonnet|opus|haiku|fable|mythos)-5(?:-|$)/;

function toParams(request: ModelRequest, settings: HttpProviderSettings): CreateParams {
  let tools: AnthropicTool[] = (request.tools ?? []).map((tool) => ({
    name: tool.name,
    description: tool.description,
    input_schema: tool.inputSchema as AnthropicTool['input_schema'],
  }));
  const forcingAllowed = !rejectsForcedToolChoice.test(settings.model);
  let toolChoice = tools.length > 0 && request.toolChoice ? toAnthropicToolChoice(request.toolChoice) : undefined;
  let system = request.system;
  let outputConfig: CreateParams['output_config'];
  if (request.output && !forcingAllowed) {
    outputConfig = { format: { type: 'json_schema', schema: request.output.schema as Record<string, unknown> } };
  } else if (request.output) {
    // The Messages API had no JSON mode on older models: structured output is a tool the model is forced to call.
    tools.push({
      name: request.output.name,
      description: 'Give your final answer by calling this tool with it.',
      input_schema: request.output.schema as AnthropicTool['input_schema'],
    });
    toolChoice = { type: 'tool', name: request.output.name };
  } else if (toolChoice && !forcingAllowed && (toolChoice.type === 'tool' || toolChoice.type === 'any')) {
    const named = toolChoice.type === 'tool' ? toolChoice.name : undefined;
    if (named) tools = tools.filter((tool) => tool.name === named);
    const instruction = named ? `Answer by calling the ${named} tool.` : 'Answer by calling one of your tools.';
    system = system ? `${system}\n\n${instruction}` : instruction;
    toolChoice = { type: 'auto' };
  }
  const temperature = request.temperature !== undefined && !rejectsSamplingParameters.test(settings.model) ? request.temperature : undefined;
  return {
    model: settings.model,
    max_tokens: request.maxOutputTokens ?? settings.maxOutputTokens,
    messages: toAnthropicMessages(request.messages),
    ...(system ? { system } : {}),
    ...(tools.length > 0 ? { tools } : {}),
    ...(toolChoice ? { tool_choice: toolChoice } : {}),
    ...(outputConfig ? { output_config: outputConfig } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
  };
}

export function toAnthropicToolChoice(choice: ToolChoice): AnthropicToolChoice {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any' };
  return { type: 'tool', name: choice.name };
}

/**
 * Our conversation as Messages API turns. Tool results travel as `tool_result` blocks in a user
 * turn, and the API wants user and assistant turns to alternate, so consecutive turns of the same
 * role are merged (tool results followed by the user's text become one user turn).
 */
export function toAnthropicMessages(messages: readonly Message[]): MessageParam[] {
  const turns: Array<{ role: 'user' | 'assistant'; content: ContentBlockParam[] }> = [];
  const add = (role: 'user' | 'assistant', blocks: ContentBlockParam[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  for (const message of messages) {
    if (message.role === 'user') {
      // The API rejects empty text blocks.
      add('user', message.content ? [{ type: 'text', text: message.content }] : []);
    } else if (message.role === 'assistant') {
      const blocks: ContentBlockParam[] = [];
      for (const part of message.content) {
        if (part.type === 'text') {
          if (part.text) blocks.push({ type: 'text', text: part.text });
        } else {
          // A call whose arguments were unreadable is replayed with empty input: the API needs an object.
          blocks.push({ type: 'tool_use', id: part.id, name: part.name, input: isRecord(part.input) ? part.input : {} });
        }
      }
      add('assistant', blocks);
    } else {
      add(
        'user',
        message.content.map((part) => ({
          type: 'tool_result' as const,
          tool_use_id: part.callId,
          content: part.output,
          is_error: part.isError === true,
        })),
      );
    }
  }
  return turns;
}

const stopReasons: Record<string, StopReason> = {
  end_turn: 'end-turn',
  tool_use: 'tool-calls',
  max_tokens: 'max-tokens',
  stop_sequence: 'stop-sequence',
  refusal: 'content-filter',
};

/** Reads a Messages API response body. */
function readMessage(body: Record<string, unknown>, outputTool: string | undefined, unreadable: Unreadable): Omit<ModelResponse, 'model'> {
  if (!Array.isArray(body['content'])) throw unreadable('the body has no "content" array.');
  const content: Array<TextPart | ToolCallPart> = [];
  let toolCalls = 0;
  for (const block of body['content'] as unknown[]) {
    if (!isRecord(block)) throw unreadable('a content block is not an object.');
    if (block['type'] === 'text' && typeof block['text'] === 'string') {
      content.push({ type: 'text', text: block['text'] });
    } else if (block['type'] === 'tool_use') {
      const { id, name } = block;
      if (typeof id !== 'string' || typeof name !== 'string') {
        throw unreadable('a tool_use block has no id or name.');
      }
      const read = readToolInput(block['input']);
      if (name === outputTool) {
        content.push({ type: 'text', text: read.invalidInput ? read.invalidInput.raw : JSON.stringify(read.input) });
        continue;
      }
      toolCalls++;
      content.push({ type: 'tool-call', id, name, ...read });
    }
    // Other block types (thinking, server tools) carry nothing this interface reports.
  }
  const vendorReason = typeof body['stop_reason'] === 'string' ? body['stop_reason'] : '';
  let stopReason = stopReasons[vendorReason] ?? 'other';
  // The forced output tool is the answer, not a request to run a tool.
  if (outputTool && stopReason === 'tool-calls' && toolCalls === 0) stopReason = 'end-turn';
  return { content, stopReason, usage: readUsage(body['usage']) };
}

function readUsage(usage: unknown): TokenUsage {
  if (!isRecord(usage)) return { inputTokens: 0, outputTokens: 0 };
  const count = (key: string) => (typeof usage[key] === 'number' ? usage[key] : 0);
  const cacheRead = count('cache_read_input_tokens');
  const cacheWrite = count('cache_creation_input_tokens');
  return {
    inputTokens: count('input_tokens'),
    outputTokens: count('output_tokens'),
    ...(cacheRead > 0 ? { cacheReadTokens: cacheRead } : {}),
    ...(cacheWrite > 0 ? { cacheWriteTokens: cacheWrite } : {}),
  };
}
