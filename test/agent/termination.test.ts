import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  abortSignal,
  Agent,
  costBudget,
  defineTool,
  maxToolCalls,
  maxTurns,
  textMention,
  timeout,
  tokenBudget,
} from 'troupe';
import { collectTrace, reply, scriptedModel } from 'troupe/testing';
import { registerPrice } from '../../src/observe/pricing.js';

let runs = 0;
const work = defineTool({ name: 'work', description: 'Does a unit of work.', input: z.object({}), run: () => ++runs });
const forever = () => reply.toolCall('work', {});

describe('termination conditions', () => {
  it('maxTurns stops before the call past the limit and says so with its numbers', async () => {
    const model = scriptedModel(forever);
    const trace = collectTrace();
    const result = await new Agent({ name: 'a', model, tools: [work], termination: maxTurns(3) }).run('go', { trace });
    expect(result.status).toBe('stopped');
    expect(result.stop).toEqual({ kind: 'termination', condition: 'max-turns', reason: 'reached the limit of 3 model calls', detail: { limit: 3, turns: 3 } });
    expect(model.callCount).toBe(3);
    expect(trace.events.at(-1)).toMatchObject({ type: 'termination', condition: 'max-turns' });
  });

  it('maxToolCalls refuses a batch that would pass the limit without running it', async () => {
    runs = 0;
    const model = scriptedModel([reply.toolCall('work', {}), reply.toolCalls({ name: 'work', input: {} }, { name: 'work', input: {} })]);
    const result = await new Agent({ name: 'a', model, tools: [work], termination: maxToolCalls(2) }).run('go');
    expect(runs).toBe(1);
    expect(result.stop).toMatchObject({ condition: 'max-tool-calls', detail: { limit: 2, toolCalls: 1, requested: 2 } });
    expect(result.transcript.at(-1)).toMatchObject({ role: 'tool', content: [{ isError: true }, { isError: true }] });
  });

  it('tokenBudget does not make a call whose estimate would exceed what is left', async () => {
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'work', input: {} }], usage: { inputTokens: 400, outputTokens: 100 } }));
    const result = await new Agent({ name: 'a', model, tools: [work], termination: tokenBudget(1200) }).run('go');
    // Two calls use 1000 tokens; the third is estimated at ~500 more and is never made.
    expect(model.callCount).toBe(2);
    expect(result.stop).toMatchObject({ condition: 'token-budget', detail: { limit: 1200, used: 1000 } });
    expect(result.stop.kind === 'termination' && result.stop.reason).toMatch(/next model call \(about \d+ tokens\) would exceed/);
  });

  it('costBudget checks the next call against the price table', async () => {
    registerPrice('scripted:priced', { inputPerMillion: 1_000_000, outputPerMillion: 1_000_000 });
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'work', input: {} }], usage: { inputTokens: 1, outputTokens: 1 } }), { id: 'scripted:priced' });
    const result = await new Agent({ name: 'a', model, tools: [work], termination: costBudget(5) }).run('go');
    expect(result.costUsd).toBeLessThanOrEqual(5);
    expect(result.stop).toMatchObject({ condition: 'cost-budget', detail: { limitUsd: 5 } });
  });

  it('timeout aborts a model call in flight', async () => {
    const model = scriptedModel([reply.finish({ result: 'late' })], { latencyMs: 5_000 });
    const started = Date.now();
    const result = await new Agent({ name: 'a', model, termination: timeout(50) }).run('go');
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(result.stop).toMatchObject({ condition: 'timeout', detail: { limitMs: 50 } });
  });

  it('textMention stops when the agent says the word', async () => {
    const model = scriptedModel(['All done. TERMINATE']);
    const result = await new Agent({ name: 'a', model, termination: textMention('TERMINATE') }).run('go');
    expect(result.stop).toMatchObject({ condition: 'text-mention', detail: { text: 'TERMINATE' } });
    expect(model.callCount).toBe(1);
  });

  it('an AbortSignal stops the run, also during a model call', async () => {
    const controller = new AbortController();
    const model = scriptedModel([reply.finish({ result: 'x' })], { latencyMs: 5_000 });
    setTimeout(() => controller.abort(new Error('user pressed stop')), 20);
    const result = await new Agent({ name: 'a', model }).run('go', { signal: controller.signal });
    expect(result.stop).toMatchObject({ condition: 'abort-signal', reason: 'aborted by the caller: user pressed stop' });

    const already = await new Agent({ name: 'a', model: scriptedModel([]), termination: abortSignal(AbortSignal.abort()) }).run('go');
    expect(already.stop).toMatchObject({ condition: 'abort-signal' });
  });

  it('composes with or / and', async () => {
    const either = await new Agent({ name: 'a', model: scriptedModel(forever), tools: [work], termination: maxTurns(10).or(maxToolCalls(2)) }).run('go');
    expect(either.stop).toMatchObject({ condition: 'max-tool-calls' });

    const model = scriptedModel((_, i) => (i === 3 ? 'now TERMINATE' : forever()));
    const both = await new Agent({ name: 'a', model, tools: [work], termination: maxTurns(2).and(textMention('TERMINATE')) }).run('go');
    expect(both.stop).toMatchObject({ condition: 'max-turns and text-mention', detail: { limit: 2, turns: 4, text: 'TERMINATE' } });
  });
});

describe('a stopped run can be continued', () => {
  it('answers tool calls that a stop cut off, so the conversation stays valid', async () => {
    const slow = defineTool({ name: 'slow', description: 'Takes long.', input: z.object({}), run: () => new Promise((resolve) => setTimeout(() => resolve('late'), 2_000)) });
    const model = scriptedModel([reply.toolCall('slow', {}, 'call_slow')]);
    const result = await new Agent({ name: 'a', model, tools: [slow], termination: timeout(50) }).run('go');
    expect(result.stop).toMatchObject({ condition: 'timeout' });
    expect(result.transcript.at(-1)).toEqual({ role: 'tool', content: [{ type: 'tool-result', callId: 'call_slow', name: 'slow', output: expect.stringMatching(/^not run: /), isError: true }] });
  });
});
