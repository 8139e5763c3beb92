import type { Message, ModelRequest, TokenUsage } from '../model/model-client.js';
import { costOf, priceOf } from '../observe/pricing.js';
import type { NextStep, RunProgress } from './termination.js';

/*
 * Budgets are checked before a call, so the call's input must be estimated without a tokenizer.
 * The estimate must not fall short: English prose is about 4 characters a token, but JSON, code
 * and most other scripts take fewer, and every message and tool block costs framing tokens of its
 * own (ids, names, separators). So the figures below lean high, and a margin is added on top. Once
 * a call has been made, its real input count replaces the estimate of everything sent so far.
 */
const charsPerToken = 3;
const margin = 1.15;
const messageOverhead = 8;
const toolCallOverhead = 32;
const toolResultOverhead = 24;
const toolDefinitionOverhead = 24;
// Providers add a system prompt of their own when tools are offered (Anthropic: about 350 tokens).
const toolUsePrompt = 400;
const firstOutputGuess = 256;

/**
 * Estimates the next call's input tokens and cost so that budgets can refuse a call that cannot
 * fit and cap the output of one that can: the last call's real input count plus what the
 * conversation grew by since, scaled by how far the last real count was above our own estimate.
 * The expected output is the average so far (or a modest guess before the first call).
 */
export class CallEstimator {
  readonly #baseTokens: number;
  readonly #firstOutput: number;
  #countedMessages = 0;
  /** Estimated tokens of everything sent so far (system, tools, counted messages), without margin. */
  #tokens = 0;
  #tokensAtLastCall = 0;
  #lastInputTokens = 0;
  /** Real input over estimated input at the last call, at least 1: content that tokenizes densely keeps doing so. */
  #density = 1;
  /** The last reply's output tokens: the assistant message that holds it costs at least as much as input. */
  #lastOutputTokens = 0;

  constructor(request: ModelRequest, maxOutputTokens: number | undefined) {
    const tools = request.tools ?? [];
    let base = textTokens(request.system ?? '');
    if (tools.length > 0) base += toolUsePrompt;
    for (const tool of tools) base += toolDefinitionOverhead + textTokens(JSON.stringify(tool));
    this.#baseTokens = base;
    this.#tokens = base;
    this.#firstOutput = Math.min(maxOutputTokens ?? firstOutputGuess, firstOutputGuess);
  }

  next(modelId: string, progress: RunProgress, transcript: readonly Message[]): NextStep {
    this.#count(transcript);
    const estimatedInputTokens =
      this.#lastInputTokens > 0
        ? this.#lastInputTokens + Math.ceil((this.#tokens - this.#tokensAtLastCall) * margin * this.#density)
        : Math.ceil(this.#tokens * margin);
    const expectedOutputTokens = Math.max(1, progress.turns > 0 ? Math.ceil(progress.usage.outputTokens / progress.turns) : this.#firstOutput);
    const estimatedInputCostUsd = costOf(modelId, { inputTokens: estimatedInputTokens, outputTokens: 0 });
    const outputTokenCostUsd = (priceOf(modelId)?.outputPerMillion ?? 0) / 1_000_000;
    return {
      kind: 'model-call',
      estimatedTokens: estimatedInputTokens + expectedOutputTokens,
      estimatedCostUsd: estimatedInputCostUsd + expectedOutputTokens * outputTokenCostUsd,
      estimatedInputTokens,
      expectedOutputTokens,
      estimatedInputCostUsd,
      outputTokenCostUsd,
    };
  }

  /** Called with a call's usage before its reply joins the transcript. */
  observe(usage: TokenUsage, transcript: readonly Message[]): void {
    this.#count(transcript);
    // Cached input is input too, as far as the size of the next request goes.
    const input = usage.inputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0);
    if (input > 0 && this.#tokens > this.#baseTokens) this.#density = Math.max(1, input / this.#tokens);
    this.#lastInputTokens = input;
    this.#tokensAtLastCall = this.#tokens;
    this.#lastOutputTokens = usage.outputTokens;
  }

  #count(transcript: readonly Message[]): void {
    for (; this.#countedMessages < transcript.length; this.#countedMessages++) {
      const message = transcript[this.#countedMessages]!;
      let tokens = messageOverhead;
      if (message.role === 'user') tokens += textTokens(message.content);
      else if (message.role === 'tool') {
        for (const part of message.content) tokens += toolResultOverhead + textTokens(part.callId) + textTokens(part.output);
      } else {
        let content = 0;
        for (const part of message.content) {
          content +=
            part.type === 'text'
              ? textTokens(part.text)
              : toolCallOverhead + textTokens(part.id) + textTokens(part.name) + textTokens(part.invalidInput?.raw ?? JSON.stringify(part.input ?? {}));
        }
        tokens += Math.max(content, this.#lastOutputTokens);
        this.#lastOutputTokens = 0;
      }
      this.#tokens += tokens;
    }
  }
}

function textTokens(text: string): number {
  return Math.ceil(text.length / charsPerToken);
}
