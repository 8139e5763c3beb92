import { describe, expect, it } from 'vitest';
import { manualClock } from '../../src/core/ids.js';
import { ProviderRequestError, ProviderUnavailableError } from '../../src/model/errors/provider-error.js';
import type { ModelClient, ModelRequest, RetryNotice } from '../../src/model/model-client.js';
import { ScriptedModel } from '../../src/model/scripted.js';
import { withRetry } from '../../src/model/with-retry.js';
import { withTracing } from '../../src/model/with-tracing.js';
import { registerPrice } from '../../src/observe/pricing.js';
import { collectTrace } from '../../src/observe/trace-event.js';

const request: ModelRequest = { messages: [{ role: 'user', content: 'hi' }] };

/** A model that fails with the given errors, in order, then asks for one tool call; each call takes 40 ms on `clock`. */
function slowModel(clock: ReturnType<typeof manualClock>, ...failures: Error[]): ModelClient {
  let calls = 0;
  const scripted = new ScriptedModel([{ text: 'one', toolCalls: [{ name: 'look', input: {} }], usage: { inputTokens: 1000, outputTokens: 500 } }, 'two'], {
    id: 'test:priced',
  });
  return {
    id: scripted.id,
    async generate(request, options) {
      clock.advance(40);
      const failure = failures[calls++];
      if (failure) throw failure;
      return scripted.generate(request, options);
    },
  };
}

describe('withTracing', () => {
  it('reports each call as start and end, stamped and timed by the injected clock, with cost and tool calls', async () => {
    const clock = manualClock(1000);
    const trace = collectTrace();
    const unregister = registerPrice('test:priced', { inputPerMillion: 3, outputPerMillion: 15 });
    try {
      const model = withTracing(slowModel(clock), { trace, clock, runId: 'run_1', agent: 'clerk' });
      expect(model.id).toBe('test:priced');
      await model.generate(request);
      await model.generate(request);
    } finally {
      unregister();
    }
    expect(trace.events).toEqual([
      { type: 'model-call-start', at: 1000, runId: 'run_1', agent: 'clerk', model: 'test:priced', turn: 1 },
      {
        type: 'model-call-end',
        at: 1040,
        runId: 'run_1',
        agent: 'clerk',
        model: 'test:priced',
        turn: 1,
        durationMs: 40,
        stopReason: 'tool-calls',
        usage: { inputTokens: 1000, outputTokens: 500 },
        costUsd: 0.0105,
        toolCalls: 1,
      },
      { type: 'model-call-start', at: 1040, runId: 'run_1', agent: 'clerk', model: 'test:priced', turn: 2 },
      expect.objectContaining({ type: 'model-call-end', at: 1080, turn: 2, durationMs: 40, toolCalls: 0 }),
    ]);
  });

  it('reads the turn from the caller when it says', async () => {
    const trace = collectTrace();
    const model = withTracing(new ScriptedModel(['a', 'b']), { trace, runId: 'run_1', agent: 'extract', turn: () => 3 });
    await model.generate(request);
    await model.generate(request);
    expect(trace.events.map((event) => (event as { turn?: number }).turn)).toEqual([3, 3, 3, 3]);
  });

  it('reports the retries of the model below, and still hands them to the caller', async () => {
    const clock = manualClock(0);
    const trace = collectTrace();
    const retried = withRetry(slowModel(clock, new ProviderUnavailableError('test', 'down')), { random: () => 0, sleep: async () => {} });
    const notices: RetryNotice[] = [];
    await withTracing(retried, { trace, clock, runId: 'run_1', agent: 'clerk' }).generate(request, { onRetry: (notice) => notices.push(notice) });
    expect(trace.events.map((event) => event.type)).toEqual(['model-call-start', 'model-call-retry', 'model-call-end']);
    expect(trace.events[1]).toEqual({
      type: 'model-call-retry',
      at: 40,
      runId: 'run_1',
      agent: 'clerk',
      model: 'test:priced',
      attempt: 1,
      delayMs: 0,
      errorCode: 'provider_unavailable',
      message: 'test is unavailable: down',
    });
    expect(notices).toHaveLength(1);
  });

  it('reports a failed call as model-call-error and rethrows', async () => {
    const clock = manualClock(0);
    const trace = collectTrace();
    const failure = new ProviderRequestError('test', 'bad request');
    const model = withTracing(slowModel(clock, failure), { trace, clock, runId: 'run_1', agent: 'clerk' });
    await expect(model.generate(request)).rejects.toBe(failure);
    expect(trace.events).toEqual([
      { type: 'model-call-start', at: 0, runId: 'run_1', agent: 'clerk', model: 'test:priced', turn: 1 },
      {
        type: 'model-call-error',
        at: 40,
        runId: 'run_1',
        agent: 'clerk',
        model: 'test:priced',
        errorCode: 'provider_request_rejected',
        message: 'test rejected the request: bad request',
      },
    ]);
  });

  it('does not report a call its caller aborted as an error of the model', async () => {
    const controller = new AbortController();
    const trace = collectTrace();
    const aborting: ModelClient = {
      id: 'test:aborted',
      async generate() {
        controller.abort();
        throw new Error('aborted');
      },
    };
    const model = withTracing(aborting, { trace, runId: 'run_1', agent: 'clerk' });
    await expect(model.generate(request, { signal: controller.signal })).rejects.toThrow('aborted');
    expect(trace.events.map((event) => event.type)).toEqual(['model-call-start']);
  });
});
