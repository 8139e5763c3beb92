import type OpenAI from 'openai';
import { assembleOpenAIStream } from './openai-stream.js';
import { HttpProvider, retryingFactory, type HttpProviderSettings, type Unreadable, type VendorMapping } from './http-provider.js';
import type { Message, ModelClient, ModelRequest, ModelResponse, StopReason, TextPart, TokenUsage, ToolCallPart, ToolChoice } from './model-client.js';
import { isRecord, readToolInput } from './provider-failure.js';
import type { ProviderOptions } from './provider-options.js';

type Sdk = typeof import('openai');
type ChatMessage = OpenAI.ChatCompletionMessageParam;
type ChatToolChoice = OpenAI.ChatCompletionToolChoiceOption;
type CreateParams = OpenAI.ChatCompletionCreateParamsNonStreaming;

const officialBaseURL = 'https://api.openai.com/v1';
// Local OpenAI-compatible servers (Ollama, vLLM, LM Studio) ignore the key but the SDK wants one.
const placeholderKey = 'not-needed';

export type OpenAIModelOptions = ProviderOptions;

/** The Chat Completions wire format; the rest of the provider is `HttpProvider`'s. */
const openai: VendorMapping<Sdk, OpenAI, CreateParams> = {
  provider: 'openai',
  loadSdk: () => import('openai'),
  fallbackKey: ({ baseURL }) => (baseURL ? placeholderKey : undefined),
  // Everything is passed explicitly so that the SDK does not read process.env behind `env`.
  createClient: (sdk, { apiKey, baseURL, timeoutMs, env }) =>
    new sdk.default({
      apiKey,
      baseURL: baseURL ?? officialBaseURL,
      organization: env['OPENAI_ORG_ID'] || null,
      project: env['OPENAI_PROJECT_ID'] || null,
      timeout: timeoutMs,
      maxRetries: 0,
    }),
  toParams,
  send: (client, params, options) => client.chat.completions.create(params, options),
  readResponse: (body, _request, unreadable) => readCompletion(body, unreadable),
  vendorMessage(error) {
    const body = error.error as { message?: unknown } | undefined;
    return typeof body?.message === 'string' ? body.message : error.message;
  },
  streaming: {
    // Without include_usage a stream reports no tokens, and budgets and costs would read zero.
    send: (client, params, options) => client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, options),
    assemble: assembleOpenAIStream,
    errorStatus(error) {
      const body = error.error as { type?: unknown; code?: unknown } | undefined;
      const kind = `${typeof body?.code === 'string' ? body.code : ''} ${typeof body?.type === 'string' ? body.type : ''}`;
      if (/rate_limit|insufficient_quota|requests|tokens/.test(kind)) return 429;
      if (/invalid_request|context_length/.test(kind)) return 400;
      // An error in the middle of a stream is, short of evidence otherwise, the server's.
      return 500;
    },
  },
};

/**
 * OpenAI Chat Completions, and any server that speaks it. One HTTP call per `generate` (the SDK's
 * own retries are off; `openaiModel` adds `withRetry` so retries show in traces). A missing key
 * fails at the first call, not here.
 */
export class OpenAIModel extends HttpProvider<Sdk, OpenAI, CreateParams> {
  constructor(options: OpenAIModelOptions) {
    super(openai, options);
  }
}

/** `openai:<model>` with retries (unless `retry: false`). */
export const openaiModel: (options: OpenAIModelOptions) => ModelClient = retryingFactory(OpenAIModel);

function toParams(request: ModelRequest, settings: HttpProviderSettings): CreateParams {
  const tools = (request.tools ?? []).map((tool) => ({
    type: 'function' as const,
    function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
  }));
  const maxTokens = request.maxOutputTokens ?? settings.maxOutputTokens;
  return {
    model: settings.model,
    messages: toOpenAIMessages(request.system, request.messages),
    // OpenAI's reasoning models refuse the older `max_tokens`; many compatible servers (Ollama) know only it.
    ...(isOfficialAPI(settings.baseURL) ? { max_completion_tokens: maxTokens } : { max_tokens: maxTokens }),
    ...(tools.length > 0 ? { tools } : {}),
    ...(tools.length > 0 && request.toolChoice ? { tool_choice: toOpenAIToolChoice(request.toolChoice) } : {}),
    ...(request.output ? { response_format: { type: 'json_schema' as const, json_schema: { name: request.output.name, schema: request.output.schema } } } : {}),
    ...(request.temperature !== undefined && !rejectsTemperature.test(settings.model) ? { temperature: request.temperature } : {}),
  };
}

/**
 * OpenAI's reasoning models (the o-series and GPT-5, but not its `-chat` variants) refuse any
 * temperature but the default with a 400 ("Only the default (1) value is supported"), wherever
 * they are served (the API, Azure, a proxy). Temperature is a tuning hint, so it is left out for
 * them rather than failing every call, as for the Claude models that refuse it.
 */
const rejectsTemperature = /^(?:[\w-]+\/)?(?:o[1-9]|gpt-5)(?![\w.-]*-chat)/;

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

/** Reads a chat.completion body. */
function readCompletion(body: Record<string, unknown>, unreadable: Unreadable): Omit<ModelResponse, 'model'> {
  const choices = body['choices'];
  if (!Array.isArray(choices) || choices.length === 0) {
    throw unreadable('the body has no "choices".');
  }
  const choice: unknown = choices[0];
  if (!isRecord(choice) || !isRecord(choice['message'])) {
    throw unreadable('the first choice has no "message".');
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
      throw unreadable('a tool call has no function name.');
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
  return { content, stopReason, usage: readUsage(body['usage']) };
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
