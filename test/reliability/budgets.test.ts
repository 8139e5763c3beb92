import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  costBudget,
  defineTool,
  FinishValidationError,
  maxTurns,
  registerPrice,
  tokenBudget,
  type Message,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
  type TerminationCondition,
  type TextPart,
  type ToolCallPart,
} from 'troupe';
import { costOf } from '../../src/observe/pricing.js';

/**
 * A budget is a promise: over many seeded random runs against a model that counts tokens the way
 * providers do (per-block overhead for tool calls and results, a system prompt for tool use, some
 * variation around ~4 characters a token) and honours the request's max output tokens by cutting
 * its answer off, no run may end over its token or cost budget.
 */

// mulberry32: small, seeded, the same sequence on every machine.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (next: () => number, low: number, high: number) => low + Math.floor(next() * (high - low + 1));
const words = ['invoice', 'total', 'the', 'customer', 'shipped', '{"a":1}', 'naïve', 'résumé', 'ok', '42', 'data', 'é'];
const textOf = (next: () => number, length: number) => {
  let text = '';
  while (text.length < length) text += `${words[int(next, 0, words.length - 1)]} `;
  return text.slice(0, length);
};

/** Tokens of a text as a provider might count them: about 4 characters a token, varying with the content. */
function tokens(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i += 7) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
  const variation = 1 + (hash % 16) / 100; // 1.00 .. 1.15
  return Math.ceil((text.length / 4) * variation);
}

function inputTokens(request: ModelRequest): number {
  let count = tokens(request.system ?? '');
  if (request.tools?.length) {
    count += 346; // Anthropic's tool-use system prompt
    for (const tool of request.tools) count += 12 + tokens(JSON.stringify(tool));
  }
  for (const message of request.messages) count += 4 + messageTokens(message);
  return count;
}

function messageTokens(message: Message): number {
  if (message.role === 'user') return tokens(message.content);
  let count = 0;
  for (const part of message.content) {
    if (part.type === 'text') count += tokens(part.text);
    else if (part.type === 'tool-call') count += 22 + tokens(part.id) + tokens(part.name) + tokens(part.invalidInput?.raw ?? JSON.stringify(part.input));
    else count += 14 + tokens(part.callId) + tokens(part.output);
  }
  return count;
}

type Planned = { text: string; calls: Array<{ name: string; input: unknown }> };

/** Answers with the planned reply, cut off where the request's max output tokens end, and reports usage as a provider does. */
function budgetModel(id: string, plan: (request: ModelRequest, index: number) => Planned): ModelClient & { overLimit: number } {
  let index = 0;
  const model = {
    id,
    overLimit: 0,
    async generate(request: ModelRequest): Promise<ModelResponse> {
      const turn = index++;
      const planned = plan(request, turn);
      const limit = request.maxOutputTokens ?? 4096;
      const content: Array<TextPart | ToolCallPart> = [];
      let output = 0;
      let cut = false;
      const room = () => limit - output;
      if (planned.text) {
        const need = tokens(planned.text);
        if (need <= room()) {
          content.push({ type: 'text', text: planned.text });
          output += need;
        } else {
          content.push({ type: 'text', text: planned.text.slice(0, room() * 4) });
          output = limit;
          cut = true;
        }
      }
      for (let i = 0; i < planned.calls.length && !cut; i++) {
        const call = planned.calls[i]!;
        const json = JSON.stringify(call.input);
        const need = 8 + tokens(call.name) + tokens(json);
        const id = `toolu_${turn}_${i}_01A09q90qw90lq917835lq9`;
        if (need <= room()) {
          content.push({ type: 'tool-call', id, name: call.name, input: call.input });
          output += need;
        } else {
          const raw = json.slice(0, Math.max(0, room() - 8) * 4);
          content.push({
            type: 'tool-call',
            id,
            name: call.name,
            input: undefined,
            invalidInput: { raw, error: 'The arguments are not valid JSON: Unexpected end of JSON input' },
          });
          output = limit;
          cut = true;
        }
      }
      if (output > limit) model.overLimit++;
      const hasCalls = content.some((part) => part.type === 'tool-call');
      return {
        content,
        stopReason: cut ? 'max-tokens' : hasCalls ? 'tool-calls' : 'end-turn',
        usage: { inputTokens: inputTokens(request), outputTokens: Math.max(1, output) },
        model: id,
      };
    },
  };
  return model;
}

const priced = 'scripted:budget-property';
const unregister = registerPrice(priced, { inputPerMillion: 3, outputPerMillion: 15 });
afterAll(() => unregister());

interface Case {
  seed: number;
  tokenLimit: number | undefined;
  costLimit: number | undefined;
}

async function runCase(
  seed: number,
): Promise<{ used: number; costUsd: number; status: string; condition?: string; calls: number } & Case & { overLimit: number }> {
  const next = random(seed);
  const toolCount = int(next, 0, 3);
  const tools = Array.from({ length: toolCount }, (_, i) =>
    defineTool({
      name: `tool_${i}`,
      description: textOf(next, int(next, 10, 200)),
      input: z.object({ query: z.string(), note: z.string().optional() }),
      run: () => textOf(next, int(next, 0, 2500)),
    }),
  );
  const mode = int(next, 0, 2);
  const tokenLimit = mode !== 1 ? int(next, 300, 12_000) : undefined;
  const costLimit = mode !== 0 ? int(next, 10, 400) / 10_000 : undefined;
  let termination: TerminationCondition = maxTurns(40);
  if (tokenLimit !== undefined) termination = termination.or(tokenBudget(tokenLimit));
  if (costLimit !== undefined) termination = termination.or(costBudget(costLimit));
  const maxOutputTokens = next() < 0.3 ? int(next, 50, 3000) : undefined;

  const model = budgetModel(priced, () => {
    const roll = next();
    if (roll < 0.12 || toolCount === 0)
      return { text: textOf(next, int(next, 0, 200)), calls: [{ name: 'finish', input: { result: textOf(next, int(next, 1, 1500)) } }] };
    if (roll < 0.2) return { text: textOf(next, int(next, 0, 2000)), calls: [] };
    const count = int(next, 1, 3);
    return {
      text: next() < 0.5 ? textOf(next, int(next, 0, 300)) : '',
      calls: Array.from({ length: count }, () => ({
        name: `tool_${int(next, 0, toolCount - 1)}`,
        input: { query: textOf(next, int(next, 0, 900)), ...(next() < 0.3 ? { note: textOf(next, 40) } : {}) },
      })),
    };
  });
  const agent = new Agent({
    name: 'spender',
    instructions: textOf(next, int(next, 20, 1500)),
    tools,
    model,
    termination,
    ...(maxOutputTokens ? { maxOutputTokens } : {}),
  });
  let result: Awaited<ReturnType<typeof agent.run>>;
  try {
    result = await agent.run(textOf(next, int(next, 5, 3000)));
  } catch (error) {
    // A model that keeps writing a result too long for what is left ends in a typed failure; it must not have overspent either.
    if (!(error instanceof FinishValidationError)) throw error;
    const { usage, costUsd, turns } = error.spent;
    return {
      seed,
      tokenLimit,
      costLimit,
      used: usage.inputTokens + usage.outputTokens,
      costUsd,
      status: 'failed',
      condition: error.code,
      calls: turns,
      overLimit: model.overLimit,
    };
  }
  const used = result.usage.inputTokens + result.usage.outputTokens;
  expect(result.costUsd).toBeCloseTo(costOf(priced, result.usage), 12);
  return {
    seed,
    tokenLimit,
    costLimit,
    used,
    costUsd: result.costUsd,
    status: result.status,
    ...(result.stop.kind === 'termination' ? { condition: result.stop.condition } : {}),
    calls: result.turns,
    overLimit: model.overLimit,
  };
}

describe('budgets are never exceeded', () => {
  it('holds over 400 seeded random runs with realistic token counts', async () => {
    const over: string[] = [];
    const outcomes = { finished: 0, stopped: 0, callsMade: 0 };
    const stops: Record<string, number> = {};
    const fractions: number[] = [];
    for (let seed = 1; seed <= 400; seed++) {
      const run = await runCase(seed);
      expect(run.overLimit).toBe(0);
      outcomes.callsMade += run.calls;
      stops[run.condition ?? run.status] = (stops[run.condition ?? run.status] ?? 0) + 1;
      if (run.tokenLimit !== undefined && run.condition === 'token-budget') fractions.push(run.used / run.tokenLimit);
      if (run.status === 'finished') outcomes.finished++;
      else if (run.status === 'stopped') outcomes.stopped++;
      if (run.tokenLimit !== undefined && run.used > run.tokenLimit) over.push(`seed ${seed}: used ${run.used} tokens of ${run.tokenLimit}`);
      if (run.costLimit !== undefined && run.costUsd > run.costLimit) over.push(`seed ${seed}: spent $${run.costUsd.toFixed(6)} of $${run.costLimit}`);
    }
    if (process.env.DEBUG_BUDGETS) console.log(outcomes, stops, fractions.reduce((a, b) => a + b, 0) / fractions.length);
    expect(over).toEqual([]);
    // The property is not met by stopping everything at once: runs make calls, and some finish.
    expect(outcomes.finished).toBeGreaterThan(60);
    expect(outcomes.callsMade).toBeGreaterThan(400);
  });
});
