import type { JsonSchema } from '../core/json.js';

/** Plain text from the user or the model. */
export interface TextPart {
  type: 'text';
  text: string;
}

/**
 * The model asks for a tool to be called. `input` is the parsed JSON arguments. When the model
 * sent arguments that are not valid JSON, `input` is undefined and `invalidInput` holds the raw
 * text and the problem (a sentence), so the tool layer can tell the model what was wrong instead
 * of crashing. `cutOff` marks arguments the output limit cut short (the reply stopped at max tokens).
 */
export interface ToolCallPart {
  type: 'tool-call';
  id: string;
  name: string;
  input: unknown;
  invalidInput?: { raw: string; error: string; cutOff?: boolean };
}

/** The result of a tool call, sent back to the model. `isError` marks failures the model should react to. */
export interface ToolResultPart {
  type: 'tool-result';
  callId: string;
  name: string;
  output: string;
  isError?: boolean;
}

/** `name` identifies the speaker when several agents share one conversation. */
export interface UserMessage {
  role: 'user';
  content: string;
  name?: string;
}

export interface AssistantMessage {
  role: 'assistant';
  content: Array<TextPart | ToolCallPart>;
  name?: string;
}

export interface ToolMessage {
  role: 'tool';
  content: ToolResultPart[];
}

export type Message = UserMessage | AssistantMessage | ToolMessage;

/** A tool as the model sees it: the JSON Schema of its input comes from zod. */
export interface ToolSpec {
  name: string;
  description: string;
  inputSchema: JsonSchema;
}

/** `auto`: the model decides; `none`: no tools; `required`: some tool; `{ name }`: that tool. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface ModelRequest {
  system?: string;
  messages: readonly Message[];
  tools?: readonly ToolSpec[];
  toolChoice?: ToolChoice;
  /**
   * Ask for structured output: the answer's text is JSON matching `schema`. Providers without a
   * native mode implement it with a forced tool call and return the arguments as the text.
   */
  output?: { name: string; schema: JsonSchema };
  /** The most output tokens the reply may use; budgets lower it to what they leave (see tokenBudget). */
  maxOutputTokens?: number;
  temperature?: number;
}

/** Why the model stopped producing output. */
export type StopReason = 'end-turn' | 'tool-calls' | 'max-tokens' | 'stop-sequence' | 'content-filter' | 'other';

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

export interface ModelResponse {
  content: Array<TextPart | ToolCallPart>;
  stopReason: StopReason;
  usage: TokenUsage;
  /** The model that answered, as the provider names it (may be more specific than the one asked for). */
  model: string;
}

/** A retry the client is about to make; reported so traces can show it. */
export interface RetryNotice {
  attempt: number;
  delayMs: number;
  error: Error & { code?: string };
  /**
   * The failed attempt had already delivered deltas (see `ModelCallOptions.onDelta`): they are
   * void, and the next attempt streams its reply from the start.
   */
  discardsDeltas?: boolean;
}

/**
 * A piece of a reply as it streams: text as it is written, or a tool call as the model begins it
 * (its arguments come whole in the final response).
 */
export type ModelDelta = { type: 'text'; text: string } | { type: 'tool-call'; id: string; name: string };

/** Per-call options that are not part of what the model sees. */
export interface ModelCallOptions {
  signal?: AbortSignal;
  onRetry?: (notice: RetryNotice) => void;
  /**
   * Asks for the reply as it is produced: providers then use their streaming API and call this
   * with each delta, in order, and still return the same whole response. Models that cannot
   * stream (scripted, replay) deliver the whole reply as deltas just before returning it, so
   * consumers handle every model one way. A retried call starts over: the retry notice says
   * `discardsDeltas` when deltas already delivered are void.
   */
  onDelta?: (delta: ModelDelta) => void;
  /**
   * Who calls: the agent (or workflow task) and its run. Never sent to a provider; a model that
   * answers each agent from its own script (a replies file, `scripted:<file>`) needs to know.
   */
  caller?: { agent: string; runId: string };
}

/**
 * A language model. One implementation per provider, each in its own file. Implementations turn
 * vendor failures into the typed errors in `./errors` (auth, rate limit, unavailable, timeout,
 * rejected request, unparseable response) and never put API keys in messages.
 */
export interface ModelClient {
  /** `provider:model`, as accepted by `resolveModel`, e.g. `anthropic:claude-sonnet-5-5`. */
  readonly id: string;
  generate(request: ModelRequest, options?: ModelCallOptions): Promise<ModelResponse>;
}

export function emptyUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0 };
}

export function addUsage(total: TokenUsage, more: TokenUsage): void {
  total.inputTokens += more.inputTokens;
  total.outputTokens += more.outputTokens;
  if (more.cacheReadTokens) total.cacheReadTokens = (total.cacheReadTokens ?? 0) + more.cacheReadTokens;
  if (more.cacheWriteTokens) total.cacheWriteTokens = (total.cacheWriteTokens ?? 0) + more.cacheWriteTokens;
}

/** Delivers a whole reply's content as deltas: how a model that cannot stream honours `onDelta`. */
export function deliverAsDeltas(content: ReadonlyArray<TextPart | ToolCallPart>, onDelta: ((delta: ModelDelta) => void) | undefined): void {
  if (!onDelta) return;
  for (const part of content) {
    if (part.type === 'text') {
      if (part.text) onDelta({ type: 'text', text: part.text });
    } else onDelta({ type: 'tool-call', id: part.id, name: part.name });
  }
}

/** The text parts of a response, joined. */
export function textOf(content: ReadonlyArray<TextPart | ToolCallPart>): string {
  let text = '';
  for (const part of content) if (part.type === 'text') text += part.text;
  return text;
}
