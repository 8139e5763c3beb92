import { defaultMaxOutputTokens, type ProviderOptions } from './provider-options.js';
import type Anthropic from '@anthropic-ai/sdk';
import { registerSecret, secretRedactor } from '../observe/redact-secrets.js';
import { ProviderAuthError } from './errors/provider-error.js';
import type {
  Message,
  ModelCallOptions,
  ModelClient,
  ModelRequest,
  ModelResponse,
  StopReason,
  TextPart,
  TokenUsage,
  ToolCallPart,
  ToolChoice,
} from './model-client.js';
import {
  abortedCall,
  sendForRawBody,
  isRecord,
  parseJson,
  readToolInput,
  toProviderError,
  unreadableResponse,
  type CallSignal,
  type Failure,
  type ProviderContext,
} from './provider-failure.js';
import { withRetry } from './with-retry.js';

// The SDK is loaded on first use: it is most of the time `import 'troupe'` would otherwise take,
// and many programs (tests on the scripted model, other providers) never call this one.
type Sdk = typeof import('@anthropic-ai/sdk');
let sdk: Sdk | undefined;
async function loadSdk(): Promise<Sdk> {
  return (sdk ??= await import('@anthropic-ai/sdk'));
}

type MessageParam = Anthropic.MessageParam;
type ContentBlockParam = Anthropic.ContentBlockParam;
type AnthropicTool = Anthropic.Tool;
type AnthropicToolChoice = Anthropic.ToolChoice;
type CreateParams = Anthropic.MessageCreateParamsNonStreaming;

const provider = 'anthropic';
const keyVariable = 'ANTHROPIC_API_KEY';

export type AnthropicModelOptions = ProviderOptions;

/**
 * Claude through the Messages API. Makes one HTTP call per `generate` (the SDK's own retries are
 * off; wrap with `withRetry`, as `anthropicModel` does, so retries show in traces). A missing key
 * fails at the first call, not here, so naming a model that is never used costs nothing.
 */
export class AnthropicModel implements ModelClient {
  readonly id: string;
  readonly model: string;
  readonly #apiKey: string | undefined;
  readonly #baseURL: string;
  readonly #timeoutMs: number;
  readonly #maxOutputTokens: number;
  readonly #redact: (text: string) => string;
  #sdk: Anthropic | undefined;

  constructor(options: AnthropicModelOptions) {
    const env = options.env ?? process.env;
    this.model = options.model;
    this.id = `${provider}:${options.model}`;
    this.#apiKey = options.apiKey || env['ANTHROPIC_API_KEY'] || undefined;
    this.#baseURL = options.baseURL || env['ANTHROPIC_BASE_URL'] || 'https://api.anthropic.com';
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#maxOutputTokens = options.maxOutputTokens ?? defaultMaxOutputTokens;
    // A key given in code is scrubbed everywhere (logs, stored runs), as one from the environment is.
    registerSecret(this.#apiKey);
    this.#redact = secretRedactor({ ...env, [keyVariable]: this.#apiKey });
  }

  async generate(request: ModelRequest, options: ModelCallOptions = {}): Promise<ModelResponse> {
    const { signal } = options;
    if (signal?.aborted) throw abortedCall(this.id, signal);
    const client = await this.#client();
    const params = this.#params(request);
    const { raw, status } = await sendForRawBody(
      (bounded) => client.messages.create(params, { signal: bounded, timeout: this.#timeoutMs, maxRetries: 0 }),
      this.#timeoutMs,
      signal,
      (error, call, readingBody) => this.#failure(error, call, signal, readingBody),
    );
    return readMessage(raw, status, this.model, request.output?.name);
  }

  async #client(): Promise<Anthropic> {
    if (!this.#apiKey) throw new ProviderAuthError(provider, keyVariable, { details: { reason: 'missing' } });
    // The base URL is always passed so that the SDK does not read process.env behind `env`.
    this.#sdk ??= new (await loadSdk()).default({ apiKey: this.#apiKey, baseURL: this.#baseURL, timeout: this.#timeoutMs, maxRetries: 0 });
    return this.#sdk;
  }

  #params(request: ModelRequest): CreateParams {
    const tools: AnthropicTool[] = (request.tools ?? []).map((tool) => ({
      name: tool.name,
      description: tool.description,
      input_schema: tool.inputSchema as AnthropicTool['input_schema'],
    }));
    let toolChoice = tools.length > 0 && request.toolChoice ? toAnthropicToolChoice(request.toolChoice) : undefined;
    // The Messages API has no JSON mode: structured output is a tool the model is forced to call.
    if (request.output) {
      tools.push({
        name: request.output.name,
        description: 'Give your final answer by calling this tool with it.',
        input_schema: request.output.schema as AnthropicTool['input_schema'],
      });
      toolChoice = { type: 'tool', name: request.output.name };
    }
    return {
      model: this.model,
      max_tokens: request.maxOutputTokens ?? this.#maxOutputTokens,
      messages: toAnthropicMessages(request.messages),
      ...(request.system ? { system: request.system } : {}),
      ...(tools.length > 0 ? { tools } : {}),
      ...(toolChoice ? { tool_choice: toolChoice } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    };
  }

  #failure(error: unknown, call: CallSignal, signal: AbortSignal | undefined, readingBody: boolean): Error {
    if (signal?.aborted) return abortedCall(this.id, signal);
    const context: ProviderContext = { provider, keyVariable, timeoutMs: this.#timeoutMs, redact: this.#redact };
    if (call.timedOut()) return toProviderError({ kind: 'timeout', cause: error }, context);
    const failure = describeFailure(error, readingBody);
    if (!failure) return error instanceof Error ? error : new Error(String(error));
    return toProviderError(failure, context);
  }
}

/** `anthropic:<model>` with retries (unless `retry: false`). */
export function anthropicModel(options: AnthropicModelOptions): ModelClient {
  const model = new AnthropicModel(options);
  return options.retry === false ? model : withRetry(model, options.retry);
}

function describeFailure(error: unknown, readingBody: boolean): Failure | undefined {
  const { APIConnectionError, APIConnectionTimeoutError, APIError } = sdk!;
  if (error instanceof APIConnectionTimeoutError) return { kind: 'timeout', cause: error };
  if (error instanceof APIConnectionError) return { kind: 'connection', detail: connectionDetail(error), cause: error };
  if (error instanceof APIError && typeof error.status === 'number') {
    return { kind: 'status', status: error.status, headers: error.headers, vendorMessage: error.apiMessage ?? error.message };
  }
  // The body stream broke after the headers came: the connection dropped.
  if (readingBody && error instanceof Error) return { kind: 'connection', detail: error.message, cause: error };
  return undefined;
}

function connectionDetail(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = (cause?.cause as { code?: unknown } | undefined)?.code ?? (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${error.message} (${code})` : error.message;
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

/** Reads a Messages API response body, checking the fields we use instead of trusting the SDK's types. */
function readMessage(raw: string, status: number, model: string, outputTool: string | undefined): ModelResponse {
  const body = parseJson(raw);
  if (!isRecord(body)) throw unreadableResponse(provider, 'the body is not a JSON object.', raw, status);
  if (!Array.isArray(body['content'])) throw unreadableResponse(provider, 'the body has no "content" array.', raw, status);
  const content: Array<TextPart | ToolCallPart> = [];
  let toolCalls = 0;
  for (const block of body['content'] as unknown[]) {
    if (!isRecord(block)) throw unreadableResponse(provider, 'a content block is not an object.', raw, status);
    if (block['type'] === 'text' && typeof block['text'] === 'string') {
      content.push({ type: 'text', text: block['text'] });
    } else if (block['type'] === 'tool_use') {
      const { id, name } = block;
      if (typeof id !== 'string' || typeof name !== 'string') {
        throw unreadableResponse(provider, 'a tool_use block has no id or name.', raw, status);
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
  return {
    content,
    stopReason,
    usage: readUsage(body['usage']),
    model: typeof body['model'] === 'string' ? body['model'] : model,
  };
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
