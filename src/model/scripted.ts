import { TroupeError } from '../core/errors/troupe-error.js';
import {
  deliverAsDeltas,
  type ModelCallOptions,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
  type StopReason,
  type TextPart,
  type TokenUsage,
  type ToolCallPart,
} from './model-client.js';

/** One answer of a scripted model: plain text, or text and tool calls. */
export type ScriptedReply =
  | string
  | {
      text?: string;
      toolCalls?: Array<{ name: string; input: unknown; id?: string }>;
      stopReason?: StopReason;
      usage?: TokenUsage;
    };

/** Computes an answer from the request; `index` counts calls from 0. */
export type ScriptedResponder = (request: ModelRequest, index: number) => ScriptedReply | Promise<ScriptedReply>;

export interface ScriptedModelOptions {
  /** Reported as the model's id (default `scripted`); prices are looked up by it. */
  id?: string;
  /** Waits this long before each answer, to simulate a slow model. */
  latencyMs?: number;
  /** Keeps every request in `calls` (default true). */
  recordCalls?: boolean;
}

/** A scripted model was asked for more answers than its script has. */
export class ScriptExhaustedError extends TroupeError {
  readonly code = 'script_exhausted';
  readonly fault = 'configuration' as const;

  constructor(id: string, count: number) {
    super(`Scripted model "${id}" was called ${count + 1} times but its script has ${count} replies. Add replies to the script.`);
  }
}

/**
 * A model whose answers are given in code: a list of replies used in order, or a function of the
 * request. It records the requests it receives so tests can assert on what the model was shown.
 */
export class ScriptedModel implements ModelClient {
  readonly id: string;
  readonly calls: ModelRequest[] = [];
  readonly #replies: ScriptedResponder;
  readonly #latencyMs: number;
  readonly #record: boolean;
  #count = 0;

  constructor(script: readonly ScriptedReply[] | ScriptedResponder, options: ScriptedModelOptions = {}) {
    this.id = options.id ?? 'scripted';
    this.#latencyMs = options.latencyMs ?? 0;
    this.#record = options.recordCalls ?? true;
    if (typeof script === 'function') {
      this.#replies = script;
    } else {
      const replies = [...script];
      this.#replies = (_, index) => {
        const reply = replies[index];
        if (reply === undefined) throw new ScriptExhaustedError(this.id, replies.length);
        return reply;
      };
    }
  }

  get callCount(): number {
    return this.#count;
  }

  async generate(request: ModelRequest, options?: ModelCallOptions): Promise<ModelResponse> {
    const index = this.#count++;
    // A copy: agents keep appending to the conversation they passed, and tests want what the model saw.
    if (this.#record) this.calls.push({ ...request, messages: [...request.messages] });
    if (this.#latencyMs > 0) await delay(this.#latencyMs, options?.signal);
    const reply = await this.#replies(request, index);
    const response = toResponse(reply, this.id, index);
    // A script has no stream: the whole reply is one delta per part, so streaming consumers need no special case.
    deliverAsDeltas(response.content, options?.onDelta);
    return response;
  }
}

export function scriptedModel(script: readonly ScriptedReply[] | ScriptedResponder, options?: ScriptedModelOptions): ScriptedModel {
  return new ScriptedModel(script, options);
}

/** Builders for scripted replies, so scripts read like a conversation. */
export const reply = {
  text: (text: string): ScriptedReply => ({ text }),
  toolCall: (name: string, input: unknown, id?: string): ScriptedReply => ({ toolCalls: [id ? { name, input, id } : { name, input }] }),
  toolCalls: (...calls: Array<{ name: string; input: unknown; id?: string }>): ScriptedReply => ({ toolCalls: calls }),
  finish: (output: unknown, toolName = 'finish'): ScriptedReply => ({ toolCalls: [{ name: toolName, input: output }] }),
};

function toResponse(reply: ScriptedReply, model: string, index: number): ModelResponse {
  if (typeof reply === 'string') {
    return { content: [{ type: 'text', text: reply }], stopReason: 'end-turn', usage: estimateUsage(reply), model };
  }
  const content: Array<TextPart | ToolCallPart> = [];
  if (reply.text) content.push({ type: 'text', text: reply.text });
  const calls = reply.toolCalls ?? [];
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i]!;
    content.push({ type: 'tool-call', id: call.id ?? `call_${index + 1}_${i + 1}`, name: call.name, input: call.input });
  }
  return {
    content,
    stopReason: reply.stopReason ?? (calls.length > 0 ? 'tool-calls' : 'end-turn'),
    usage: reply.usage ?? estimateUsage(reply.text ?? ''),
    model,
  };
}

// A scripted model has no tokenizer; a fixed small input count and ~4 characters per output token keep budgets meaningful in tests.
function estimateUsage(text: string): TokenUsage {
  return { inputTokens: 10, outputTokens: Math.max(1, Math.ceil(text.length / 4)) };
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
