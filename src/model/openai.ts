import { defaultMaxOutputTokens, type ProviderOptions } from './provider-options.js';
import type OpenAI from 'openai';
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
type Sdk = typeof import('openai');
let sdk: Sdk | undefined;
async function loadSdk(): Promise<Sdk> {
  return (sdk ??= await import('openai'));
}

type ChatMessage = OpenAI.ChatCompletionMessageParam;
type ChatToolChoice = OpenAI.ChatCompletionToolChoiceOption;
type CreateParams = OpenAI.ChatCompletionCreateParamsNonStreaming;

const provider = 'openai';
const keyVariable = 'OPENAI_API_KEY';
const officialBaseURL = 'https://api.openai.com/v1';
// Local OpenAI-compatible servers (Ollama, vLLM, LM Studio) ignore the key but the SDK wants one.
const placeholderKey = 'not-needed';

export type OpenAIModelOptions = ProviderOptions;

/**
 * OpenAI Chat Completions, and any server that speaks it. One HTTP call per `generate` (the SDK's
 * own retries are off; `openaiModel` adds `withRetry` so retries show in traces). A missing key
 * fails at the first call, not here.
 */
export class OpenAIModel implements ModelClient {
  readonly id: string;
  readonly model: string;
  readonly #apiKey: string | undefined;
  readonly #baseURL: string | undefined;
  readonly #timeoutMs: number;
  readonly #maxOutputTokens: number;
  readonly #organization: string | null;
  readonly #project: string | null;
  readonly #redact: (text: string) => string;
  #sdk: OpenAI | undefined;

  constructor(options: OpenAIModelOptions) {
    const env = options.env ?? process.env;
    this.model = options.model;
    this.id = `${provider}:${options.model}`;
    this.#apiKey = options.apiKey || env['OPENAI_API_KEY'] || undefined;
    this.#baseURL = options.baseURL || env['OPENAI_BASE_URL'] || undefined;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#maxOutputTokens = options.maxOutputTokens ?? defaultMaxOutputTokens;
    // A key given in code is scrubbed everywhere (logs, stored runs), as one from the environment is.
    registerSecret(this.#apiKey);
    this.#redact = secretRedactor({ ...env, [keyVariable]: this.#apiKey });
    this.#organization = env['OPENAI_ORG_ID'] || null;
    this.#project = env['OPENAI_PROJECT_ID'] || null;
  }

  async generate(request: ModelRequest, options: ModelCallOptions = {}): Promise<ModelResponse> {
    const { signal } = options;
    if (signal?.aborted) throw abortedCall(this.id, signal);
    const client = await this.#client();
    const params = this.#params(request);
    const { raw, status } = await sendForRawBody(
      (bounded) => client.chat.completions.create(params, { signal: bounded, timeout: this.#timeoutMs, maxRetries: 0 }),
      this.#timeoutMs,
      signal,
      (error, call, readingBody) => this.#failure(error, call, signal, readingBody),
    );
    return readCompletion(raw, status, this.model);
  }

  async #client(): Promise<OpenAI> {
    const apiKey = this.#apiKey ?? (this.#baseURL ? placeholderKey : undefined);
    if (!apiKey) throw new ProviderAuthError(provider, keyVariable, { details: { reason: 'missing' } });
    // Everything is passed explicitly so that the SDK does not read process.env behind `env`.
    this.#sdk ??= new (await loadSdk()).default({
      apiKey,
      baseURL: this.#baseURL ?? officialBaseURL,
      organization: this.#organization,
      project: this.#project,
      timeout: this.#timeoutMs,
      maxRetries: 0,
    });
    return this.#sdk;
  }

  #params(request: ModelRequest): CreateParams {
    const tools = (request.tools ?? []).map((tool) => ({
      type: 'function' as const,
      function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
    }));
    const maxTokens = request.maxOutputTokens ?? this.#maxOutputTokens;
    return {
      model: this.model,
      messages: toOpenAIMessages(request.system, request.messages),
      // OpenAI's reasoning models refuse the older `max_tokens`; many compatible servers (Ollama) know only it.
      ...(isOfficialAPI(this.#baseURL) ? { max_completion_tokens: maxTokens } : { max_tokens: maxTokens }),
      ...(tools.length > 0 ? { tools } : {}),
      ...(tools.length > 0 && request.toolChoice ? { tool_choice: toOpenAIToolChoice(request.toolChoice) } : {}),
      ...(request.output
        ? { response_format: { type: 'json_schema' as const, json_schema: { name: request.output.name, schema: request.output.schema } } }
        : {}),
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

/** `openai:<model>` with retries (unless `retry: false`). */
export function openaiModel(options: OpenAIModelOptions): ModelClient {
  const model = new OpenAIModel(options);
  return options.retry === false ? model : withRetry(model, options.retry);
}

function describeFailure(error: unknown, readingBody: boolean): Failure | undefined {
  const { APIConnectionError, APIConnectionTimeoutError, APIError } = sdk!;
  if (error instanceof APIConnectionTimeoutError) return { kind: 'timeout', cause: error };
  if (error instanceof APIConnectionError) return { kind: 'connection', detail: connectionDetail(error), cause: error };
  if (error instanceof APIError && typeof error.status === 'number') {
    const body = error.error as { message?: unknown } | undefined;
    const vendorMessage = typeof body?.message === 'string' ? body.message : error.message;
    return { kind: 'status', status: error.status, headers: error.headers, vendorMessage };
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

export function toOpenAIToolChoice(choice: ToolChoice): ChatToolChoice {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  return { type: 'function', function: { name: choice.name } };
}

/** Our conversation as chat messages: the system message first, one `tool` message per tool result. */
export function toOpenAIMessages(system: string | undefined, messages: readonly Message[]): ChatMessage[] {
  const out: ChatMessage[] = system ? [{ role: 'system', content: system }] : [];
  for (const message of messages) {
    if (message.role === 'user') {
      out.push({ role: 'user', content: message.content, ...speaker(message.name) });
    } else if (message.role === 'assistant') {
      let text = '';
      const toolCalls: OpenAI.ChatCompletionMessageFunctionToolCall[] = [];
      for (const part of message.content) {
        if (part.type === 'text') text += part.text;
        // Unreadable arguments are replayed as `{}`: compatible servers (Ollama) reject history whose arguments are not JSON.
        else
          toolCalls.push({ id: part.id, type: 'function', function: { name: part.name, arguments: JSON.stringify(isRecord(part.input) ? part.input : {}) } });
      }
      out.push({
        role: 'assistant',
        content: text || null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        ...speaker(message.name),
      });
    } else {
      for (const part of message.content) {
        // Chat Completions has no error flag on tool results, so the text says it.
        out.push({ role: 'tool', tool_call_id: part.callId, content: part.isError ? `Error: ${part.output}` : part.output });
      }
    }
  }
  return out;
}

function isOfficialAPI(baseURL: string | undefined): boolean {
  if (!baseURL) return true;
  try {
    return new URL(baseURL).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

// The API rejects names with whitespace or any of < | \ / >.
function speaker(name: string | undefined): { name?: string } {
  if (!name) return {};
  return { name: name.replace(/[\s<|\\/>]+/g, '_').slice(0, 64) };
}

const stopReasons: Record<string, StopReason> = {
  stop: 'end-turn',
  tool_calls: 'tool-calls',
  function_call: 'tool-calls',
  length: 'max-tokens',
  content_filter: 'content-filter',
};

/** Reads a chat.completion body, checking the fields we use instead of trusting the SDK's types. */
function readCompletion(raw: string, status: number, model: string): ModelResponse {
  const body = parseJson(raw);
  if (!isRecord(body)) throw unreadableResponse(provider, 'the body is not a JSON object.', raw, status);
  const choices = body['choices'];
  if (!Array.isArray(choices) || choices.length === 0) {
    throw unreadableResponse(provider, 'the body has no "choices".', raw, status);
  }
  const choice: unknown = choices[0];
  if (!isRecord(choice) || !isRecord(choice['message'])) {
    throw unreadableResponse(provider, 'the first choice has no "message".', raw, status);
  }
  const message = choice['message'];
  const content: Array<TextPart | ToolCallPart> = [];
  if (typeof message['content'] === 'string' && message['content']) content.push({ type: 'text', text: message['content'] });
  const refusal = typeof message['refusal'] === 'string' && message['refusal'] ? message['refusal'] : undefined;
  if (refusal) content.push({ type: 'text', text: refusal });

  const calls = Array.isArray(message['tool_calls']) ? (message['tool_calls'] as unknown[]) : [];
  let toolCalls = 0;
  for (const call of calls) {
    if (!isRecord(call) || !isRecord(call['function']) || typeof call['function']['name'] !== 'string') {
      throw unreadableResponse(provider, 'a tool call has no function name.', raw, status);
    }
    toolCalls++;
    // Some compatible servers leave out the id; one is made up so results can still be matched.
    const id = typeof call['id'] === 'string' && call['id'] ? call['id'] : `call_${toolCalls}`;
    content.push({ type: 'tool-call', id, name: call['function']['name'], ...readToolInput(call['function']['arguments']) });
  }

  const vendorReason = typeof choice['finish_reason'] === 'string' ? choice['finish_reason'] : '';
  let stopReason = refusal ? 'content-filter' : (stopReasons[vendorReason] ?? 'other');
  // Some compatible servers report `stop` even when the turn is tool calls.
  if (toolCalls > 0 && stopReason === 'end-turn') stopReason = 'tool-calls';
  return {
    content,
    stopReason,
    usage: readUsage(body['usage']),
    model: typeof body['model'] === 'string' ? body['model'] : model,
  };
}

function readUsage(usage: unknown): TokenUsage {
  if (!isRecord(usage)) return { inputTokens: 0, outputTokens: 0 };
  const number = (value: unknown) => (typeof value === 'number' ? value : 0);
  const details = usage['prompt_tokens_details'];
  const cached = isRecord(details) ? number(details['cached_tokens']) : 0;
  // Troupe counts input as Anthropic does (see costOf in observe/pricing.ts): cached tokens apart,
  // while OpenAI's prompt_tokens include them.
  return {
    inputTokens: Math.max(0, number(usage['prompt_tokens']) - cached),
    outputTokens: number(usage['completion_tokens']),
    ...(cached > 0 ? { cacheReadTokens: cached } : {}),
  };
}
