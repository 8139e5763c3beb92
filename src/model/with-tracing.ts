import { isTroupeError } from '../core/errors/troupe-error.js';
import { systemClock, type Clock } from '../core/ids.js';
import { costOf } from '../observe/pricing.js';
import { attachModelExchange, type ModelCallEndEvent, type TraceSink } from '../observe/trace-event.js';
import type { ModelCallOptions, ModelClient, ModelRequest, ModelResponse } from './model-client.js';

export interface TracingOptions {
  trace: TraceSink;
  /** Stamps every event and times each call; injected so traces repeat exactly in tests. */
  clock?: Clock;
  runId: string;
  /** Who calls the model: the agent's name, or the workflow task's. */
  agent: string;
  /**
   * The turn a call is, read when the call starts: an agent's turn count, a workflow step's
   * attempt. Default: the calls made through this wrapper, from 1.
   */
  turn?: () => number;
  /**
   * Ask the model to stream (see `ModelCallOptions.onDelta`) and report what it writes as it
   * arrives: `model-text-delta` and `model-tool-call-delta` events. A caller's own `onDelta` is
   * reported the same way, streaming or not.
   */
  streaming?: boolean;
}

/**
 * Wraps a model so that each call is reported to `trace`: `model-call-start`, then
 * `model-call-end` (usage, cost, tool calls) or `model-call-error`, and a `model-call-retry` for
 * each retry the model below makes (a provider wrapped by `withRetry` reports them through
 * `onRetry`). Agents and workflow model steps both trace through it, so their events have one
 * shape. A call ended by its caller's signal is not an error of the model, so it is not reported
 * as one: the caller says why it stopped. With `streaming`, the reply's text and tool calls are
 * reported as they arrive, before `model-call-end`.
 */
// Numbers the streamed calls of the process, so the deltas of calls made at once can be told apart.
let streamedCalls = 0;

export function withTracing(client: ModelClient, options: TracingOptions): ModelClient {
  const { trace, runId, agent } = options;
  const clock = options.clock ?? systemClock;
  const model = client.id;
  let calls = 0;

  async function generate(request: ModelRequest, callOptions: ModelCallOptions = {}): Promise<ModelResponse> {
    calls++;
    const turn = options.turn ? options.turn() : calls;
    const startedAt = clock.now();
    trace({ type: 'model-call-start', at: startedAt, runId, agent, model, turn });
    const { onRetry, onDelta } = callOptions;
    const streamed: ModelCallOptions = {};
    if (onDelta || options.streaming) {
      const call = ++streamedCalls;
      streamed.onDelta = (delta) => {
        if (delta.type === 'text') trace({ type: 'model-text-delta', at: clock.now(), runId, agent, model, turn, call, text: delta.text });
        else trace({ type: 'model-tool-call-delta', at: clock.now(), runId, agent, model, turn, call, callId: delta.id, tool: delta.name });
        onDelta?.(delta);
      };
    }
    let response: ModelResponse;
    try {
      response = await client.generate(request, {
        ...callOptions,
        ...streamed,
        onRetry: (notice) => {
          trace({
            type: 'model-call-retry',
            at: clock.now(),
            runId,
            agent,
            model,
            attempt: notice.attempt,
            delayMs: notice.delayMs,
            errorCode: notice.error.code ?? notice.error.name,
            message: notice.error.message,
            ...(notice.discardsDeltas ? { discardsDeltas: true } : {}),
          });
          onRetry?.(notice);
        },
      });
    } catch (error) {
      if (!callOptions.signal?.aborted) {
        trace({
          type: 'model-call-error',
          at: clock.now(),
          runId,
          agent,
          model,
          errorCode: isTroupeError(error) ? error.code : 'unknown',
          message: (error as Error).message,
        });
      }
      throw error;
    }
    const end: ModelCallEndEvent = {
      type: 'model-call-end',
      at: clock.now(),
      runId,
      agent,
      model,
      turn,
      durationMs: clock.now() - startedAt,
      stopReason: response.stopReason,
      usage: response.usage,
      costUsd: costOf(model, response.usage),
      toolCalls: response.content.filter((part) => part.type === 'tool-call').length,
    };
    // By reference and hidden: nothing is copied or walked unless a run recorder asks for it.
    trace(
      attachModelExchange(end, () => ({
        ...(request.system === undefined ? {} : { system: request.system }),
        messages: request.messages,
        reply: response.content,
      })),
    );
    return response;
  }

  return { id: client.id, generate };
}
