import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, ConfigurationError, defineTool, FinishValidationError, type ToolMessage } from 'troupe';
import { collectTrace, reply, scriptedModel, sequentialIds } from 'troupe/testing';
import { agentWithExits } from '../../src/agent/agent.js';

const add = defineTool({
  name: 'add',
  description: 'Adds two numbers.',
  input: z.object({ a: z.number(), b: z.number() }),
  run: ({ a, b }) => a + b,
});

const sum = z.object({ total: z.number() });

describe('Agent', () => {
  it('calls tools, feeds their results back, and finishes with a typed result', async () => {
    const model = scriptedModel([reply.toolCall('add', { a: 2, b: 3 }), reply.finish({ total: 5 })]);
    const agent = new Agent({ name: 'calculator', instructions: 'Add numbers.', tools: [add], model, output: sum });

    const result = await agent.run('What is 2 + 3?', { ids: sequentialIds() });

    expect(result.status).toBe('finished');
    expect(result.output).toEqual({ total: 5 });
    expect(result.stop).toEqual({ kind: 'finish', reason: 'calculator called finish' });
    expect(result.turns).toBe(2);
    expect(result.toolCalls).toBe(1);
    expect(result.runId).toBe('run_1');
    const secondRequest = model.calls[1]!;
    const toolMessage = secondRequest.messages.find((m): m is ToolMessage => m.role === 'tool');
    expect(toolMessage?.content[0]).toMatchObject({ name: 'add', output: '5' });
    expect(secondRequest.system).toContain('call the `finish` tool');
    expect(secondRequest.tools?.map((t) => t.name)).toEqual(['add', 'finish']);
    expect(result.usage.inputTokens).toBe(20);
  });

  it('wraps a non-object output schema as { result } and unwraps it', async () => {
    const model = scriptedModel([reply.finish({ result: 'hello' })]);
    const agent = new Agent({ name: 'greeter', model });
    const result = await agent.run('Say hello');
    expect(result.output).toBe('hello');
    expect(model.calls[0]!.tools?.[0]?.inputSchema).toMatchObject({ properties: { result: { type: 'string' } }, required: ['result'] });
  });

  it('returns finish validation errors to the model and accepts a corrected result', async () => {
    const model = scriptedModel([reply.finish({ total: 'five' }), reply.finish({ total: 5 })]);
    const trace = collectTrace();
    const agent = new Agent({ name: 'calculator', model, output: sum });

    const result = await agent.run('2 + 3?', { trace });

    expect(result.output).toEqual({ total: 5 });
    const feedback = model.calls[1]!.messages.at(-1) as ToolMessage;
    expect(feedback.content[0]!.isError).toBe(true);
    expect(feedback.content[0]!.output).toMatch(/total: Invalid input: expected number/);
    expect(trace.events.filter((e) => e.type === 'validation-failure')).toHaveLength(1);
  });

  it('fails with a typed error holding the transcript after too many invalid results', async () => {
    const model = scriptedModel(() => reply.finish({ total: 'five' }));
    const agent = new Agent({ name: 'calculator', model, output: sum, maxFinishAttempts: 2 });

    const error = await agent.run('2 + 3?').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FinishValidationError);
    const failure = error as FinishValidationError;
    expect(failure.code).toBe('finish_invalid');
    expect(failure.attempts).toBe(2);
    expect(failure.message).toMatch(/called its finish tool 2 times without a valid result; last problems: total:/);
    expect(failure.transcript).toHaveLength(5);
    expect(model.callCount).toBe(2);
  });

  it('tells a model that answers in text to call finish', async () => {
    const model = scriptedModel(['I think it is 5.', reply.finish({ total: 5 })]);
    const agent = new Agent({ name: 'calculator', model, output: sum });
    const result = await agent.run('2 + 3?');
    expect(result.status).toBe('finished');
    expect(model.calls[1]!.messages.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('call the `finish` tool') });
  });

  it('tells the model that a tool call cut off by the output limit hit it, and does not run it', async () => {
    let runs = 0;
    const save = defineTool({ name: 'save', description: 'Saves a text.', input: z.object({ text: z.string() }), run: () => ++runs });
    const model = scriptedModel([
      // What arrived of the cut-off arguments may even parse; a reply stopped at max tokens is cut off all the same.
      { toolCalls: [{ name: 'save', input: { text: 'a long te' } }], stopReason: 'max-tokens' },
      reply.toolCall('save', { text: 'short' }),
      reply.finish({ result: 'saved' }),
    ]);
    const result = await new Agent({ name: 'a', model, tools: [save] }).run('save a long text');
    expect(result.status).toBe('finished');
    expect(runs).toBe(1);
    const answer = (result.transcript[2] as ToolMessage).content[0]!;
    expect(answer.isError).toBe(true);
    expect(answer.output).toContain('hit the output limit (max tokens)');
    expect(answer.output).toContain('Make the call shorter, or split the work into several smaller calls.');
  });

  it('tells the model when its finish call was cut off by the output limit', async () => {
    const model = scriptedModel([
      { toolCalls: [{ name: 'finish', input: { result: 'half an ans' } }], stopReason: 'max-tokens' },
      reply.finish({ result: 'whole' }),
    ]);
    const result = await new Agent({ name: 'a', model }).run('answer');
    expect(result.status === 'finished' && result.output).toBe('whole');
    expect((result.transcript[2] as ToolMessage).content[0]!.output).toContain('hit the output limit (max tokens)');
  });

  it('runs several tool calls of one turn and answers each in order', async () => {
    const model = scriptedModel([
      reply.toolCalls({ name: 'add', input: { a: 1, b: 1 }, id: 'a' }, { name: 'add', input: { a: 2, b: 2 }, id: 'b' }, { name: 'nope', input: {}, id: 'c' }),
      reply.finish({ total: 6 }),
    ]);
    const agent = new Agent({ name: 'calculator', model, tools: [add], output: sum });
    const result = await agent.run('sums');
    const results = (result.transcript[2] as ToolMessage).content;
    expect(results.map((r) => [r.callId, r.output])).toEqual([
      ['a', '2'],
      ['b', '4'],
      ['c', 'Unknown tool "nope". Available tools: add, finish.'],
    ]);
    expect(result.toolCalls).toBe(3);
  });

  it('runs tools requested with the finish call before finishing', async () => {
    let ran = 0;
    const record = defineTool({ name: 'record', description: 'Records.', input: z.object({}), run: () => ++ran });
    const model = scriptedModel([reply.toolCalls({ name: 'record', input: {} }, { name: 'finish', input: { total: 1 } })]);
    const result = await new Agent({ name: 'a', model, tools: [record], output: sum }).run('go');
    expect(ran).toBe(1);
    expect(result.output).toEqual({ total: 1 });
    expect((result.transcript.at(-1) as ToolMessage).content.map((r) => r.output)).toEqual(['1', 'Finished.']);
  });

  it('continues a conversation from its history', async () => {
    const model = scriptedModel([reply.finish({ result: 'again' })]);
    const agent = new Agent({ name: 'a', model });
    const result = await agent.run('and now?', {
      history: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
      ],
    });
    expect(model.calls[0]!.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(result.transcript).toHaveLength(5);
  });

  it('emits trace events in order', async () => {
    const model = scriptedModel([reply.toolCall('add', { a: 1, b: 2 }), reply.finish({ total: 3 })]);
    const trace = collectTrace();
    await new Agent({ name: 'calc', model, tools: [add], output: sum }).run('1+2', { trace, runId: 'r1' });
    expect(trace.events.map((e) => e.type)).toEqual([
      'model-call-start',
      'model-call-end',
      'tool-call-start',
      'tool-call-end',
      'model-call-start',
      'model-call-end',
      'agent-finish',
    ]);
    expect(trace.events.every((e) => e.runId === 'r1' && e.agent === 'calc')).toBe(true);
  });

  it('rejects bad definitions with errors naming the field', () => {
    expect(() => new Agent({ name: ' ' })).toThrow(ConfigurationError);
    const finish = defineTool({ name: 'finish', description: 'x', input: z.object({}), run: () => 1 });
    expect(() => new Agent({ name: 'a', tools: [finish] })).toThrow(/field "tools": Agent "a" has a tool named "finish"/);
  });

  it('says which variable to set when no model is given', async () => {
    const agent = new Agent({ name: 'a' });
    const saved = process.env.TROUPE_MODEL;
    delete process.env.TROUPE_MODEL;
    try {
      await expect(agent.run('hi')).rejects.toThrow(/TROUPE_MODEL/);
    } finally {
      if (saved !== undefined) process.env.TROUPE_MODEL = saved;
    }
  });
});

describe('agents with several exits', () => {
  it('reports which finish tool was called, with its validated value', async () => {
    const model = scriptedModel([reply.finish({ bad: true }, 'reply'), reply.finish({ message: 'Add tests too.' }, 'reply')]);
    const proxy = agentWithExits({
      name: 'proxy',
      model,
      exits: {
        reply: { description: 'Ask for more work.', output: z.object({ message: z.string() }) },
        accept: { description: 'The goal is met.', output: z.object({ summary: z.string() }) },
      },
    });
    const result = await proxy.run('Review this.');
    expect(result.output).toEqual({ exit: 'reply', value: { message: 'Add tests too.' } });
    expect(model.calls[0]!.system).toContain('call one of the tools `reply` or `accept`');
    expect(model.calls[0]!.tools?.map((t) => t.name)).toEqual(['reply', 'accept']);
  });

  it('with() makes a copy with a different output schema', async () => {
    const base = new Agent({ name: 'writer', model: scriptedModel([reply.finish({ title: 'T' })]) });
    const titled = base.with({ output: z.object({ title: z.string() }) });
    const result = await titled.run('Title?');
    expect(result.output).toEqual({ title: 'T' });
    expect(base.outputSchema).not.toBe(titled.outputSchema);
  });

  it('with() keeps the output schema and the finish tools when the overrides do not replace them', async () => {
    const schema = z.object({ title: z.string() });
    const base = new Agent({ name: 'writer', output: schema });
    const renamed = base.with({ name: 'editor', model: scriptedModel([reply.finish({ title: 7 }), reply.finish({ title: 'T' })]) });
    expect(renamed.outputSchema).toBe(schema);
    const result = await renamed.run('Title?');
    expect(result.output).toEqual({ title: 'T' });
    expect(result.turns).toBe(2);

    const model = scriptedModel([reply.finish({ message: 'More.' }, 'reply')]);
    const proxy = agentWithExits({
      name: 'proxy',
      exits: { reply: { output: z.object({ message: z.string() }) }, accept: { output: z.object({ summary: z.string() }) } },
    });
    const copied = await proxy.with({ model }).run('Review this.');
    expect(copied.output).toEqual({ exit: 'reply', value: { message: 'More.' } });
    expect(model.calls[0]!.tools?.map((t) => t.name)).toEqual(['reply', 'accept']);
  });
});
