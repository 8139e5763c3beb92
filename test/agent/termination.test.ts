import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { abortSignal, Agent, ConfigurationError, costBudget, defineTool, maxToolCalls, maxTurns, textMention, timeout, tokenBudget } from 'troupe';
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
    expect(result.stop.kind === 'termination' && result.stop.reason).toMatch(
      /next model call \(about \d+ tokens: \d+ in, 100 out\) would exceed the budget: 1000 of 1200 used, 200 left/,
    );
  });

  it('costBudget checks the next call against the price table', async () => {
    registerPrice('scripted:priced', { inputPerMillion: 1_000_000, outputPerMillion: 1_000_000 });
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'work', input: {} }], usage: { inputTokens: 1, outputTokens: 1 } }), { id: 'scripted:priced' });
    const result = await new Agent({ name: 'a', model, tools: [work], termination: costBudget(5) }).run('go');
    expect(result.costUsd).toBeLessThanOrEqual(5);
    expect(result.stop).toMatchObject({ condition: 'cost-budget', detail: { limitUsd: 5 } });
  });

  it("tokenBudget caps each call's max output tokens at what is left after the input estimate", async () => {
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'work', input: {} }], usage: { inputTokens: 300, outputTokens: 50 } }));
    const result = await new Agent({ name: 'a', model, tools: [work], termination: tokenBudget(1000) }).run('go');
    const caps = model.calls.map((call) => call.maxOutputTokens);
    expect(caps.length).toBeGreaterThan(0);
    // The first call: 1000 minus a conservative input estimate; each later one: what is left then.
    expect(caps[0]).toBeLessThan(1000);
    expect(caps[1]).toBeLessThan(1000 - 350);
    for (const cap of caps) expect(cap).toBeGreaterThan(0);
    expect(result.usage.inputTokens + result.usage.outputTokens).toBeLessThanOrEqual(1000);
  });

  it("tokenBudget keeps an agent's own smaller maxOutputTokens, and sets one when the agent has none", async () => {
    const model = scriptedModel([reply.finish({ result: 'ok' })]);
    await new Agent({ name: 'a', model, maxOutputTokens: 100, termination: tokenBudget(100_000) }).run('go');
    expect(model.calls[0]!.maxOutputTokens).toBe(100);
    const unbounded = scriptedModel([reply.finish({ result: 'ok' })]);
    await new Agent({ name: 'a', model: unbounded, termination: tokenBudget(100_000) }).run('go');
    expect(unbounded.calls[0]!.maxOutputTokens).toBe(4096);
  });

  it('a stop before a call that cannot fit names the budget, the estimate and what is left', async () => {
    const model = scriptedModel([reply.finish({ result: 'never' })]);
    const result = await new Agent({ name: 'a', model, instructions: 'x'.repeat(3000), termination: tokenBudget(500) }).run('go');
    expect(model.callCount).toBe(0);
    expect(result.stop).toMatchObject({
      kind: 'termination',
      condition: 'token-budget',
      detail: { limit: 500, used: 0, remaining: 500, estimate: expect.any(Number) },
    });
    const detail = (result.stop as unknown as { detail: { estimate: number } }).detail;
    expect(detail.estimate).toBeGreaterThan(500);
    expect(result.stop.kind === 'termination' && result.stop.reason).toContain(`the next model call (about ${detail.estimate} tokens`);
  });

  it('costBudget caps the reply at what the money left pays for', async () => {
    const unregister = registerPrice('scripted:capped', { inputPerMillion: 1_000, outputPerMillion: 10_000 });
    try {
      const model = scriptedModel(() => ({ toolCalls: [{ name: 'work', input: {} }], usage: { inputTokens: 100, outputTokens: 20 } }), {
        id: 'scripted:capped',
      });
      const result = await new Agent({ name: 'a', model, tools: [work], termination: costBudget(5) }).run('go');
      // $5 at $0.01 an output token is at most 500 output tokens, less what the input costs.
      expect(model.callCount).toBeGreaterThan(0);
      expect(model.calls[0]!.maxOutputTokens).toBeLessThan(500);
      expect(result.costUsd).toBeLessThanOrEqual(5);
    } finally {
      unregister();
    }
  });

  it('refuses a cost budget on a model without a price, at the start, naming the model and registerPrice', async () => {
    const model = scriptedModel([reply.finish({ result: 'free?' })], { id: 'scripted:unpriced' });
    const run = new Agent({ name: 'a', model, termination: maxTurns(5).or(costBudget(1)) }).run('go');
    await expect(run).rejects.toBeInstanceOf(ConfigurationError);
    await expect(run).rejects.toThrow(/model "scripted:unpriced" has no known price.*registerPrice\('scripted:unpriced'/);
    expect(model.callCount).toBe(0);
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
    const slow = defineTool({
      name: 'slow',
      description: 'Takes long.',
      input: z.object({}),
      run: () => new Promise((resolve) => setTimeout(() => resolve('late'), 2_000)),
    });
    const model = scriptedModel([reply.toolCall('slow', {}, 'call_slow')]);
    const result = await new Agent({ name: 'a', model, tools: [slow], termination: timeout(50) }).run('go');
    expect(result.stop).toMatchObject({ condition: 'timeout' });
    expect(result.transcript.at(-1)).toEqual({
      role: 'tool',
      content: [{ type: 'tool-result', callId: 'call_slow', name: 'slow', output: expect.stringMatching(/^not run: /), isError: true }],
    });
  });
});
