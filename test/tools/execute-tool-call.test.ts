import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  AwaitingReviewError,
  defineTool,
  type ApprovalRequest,
  type Approver,
  type ToolCallPart,
  type ToolContext,
  type ToolExecution,
  type TraceEvent,
} from 'troupe';
import { collectTrace, manualClock } from 'troupe/testing';
import { executeToolCall } from '../../src/tools/execute-tool-call.js';
import { ToolSet } from '../../src/tools/tool-set.js';

function call(name: string, input: unknown, extra: Partial<ToolCallPart> = {}): ToolCallPart {
  return { type: 'tool-call', id: 'call_1', name, input, ...extra };
}

function setup(overrides: Partial<ToolExecution> = {}) {
  const clock = manualClock(1_000);
  const trace = collectTrace();
  const execution: ToolExecution = { runId: 'run_1', agent: 'tester', clock, trace, ...overrides };
  return { clock, trace, execution };
}

function addTool(run = vi.fn(({ a, b }: { a: number; b: number }) => a + b)) {
  const tool = defineTool({
    name: 'add',
    description: 'Adds two numbers.',
    input: z.object({ a: z.number(), b: z.number() }),
    run,
  });
  return { tool, run };
}

const types = (events: TraceEvent[]) => events.map((event) => event.type);

describe('executeToolCall', () => {
  it('runs a tool with validated input and returns its output as text, traced with the injected clock', async () => {
    const { execution, trace, clock } = setup();
    const run = vi.fn(({ a, b }: { a: number; b: number }, context: ToolContext) => {
      expect(context).toMatchObject({ callId: 'call_1', runId: 'run_1', agent: 'tester' });
      clock.advance(25);
      return { sum: a + b };
    });
    const { tool } = addTool(run as never);
    const result = await executeToolCall(call('add', { a: 2, b: 3 }), new ToolSet([tool]), execution);
    expect(result).toEqual({ type: 'tool-result', callId: 'call_1', name: 'add', output: '{"sum":5}' });
    expect(trace.events).toEqual([
      { type: 'tool-call-start', at: 1_000, runId: 'run_1', agent: 'tester', callId: 'call_1', tool: 'add', input: { a: 2, b: 3 } },
      {
        type: 'tool-call-end',
        at: 1_025,
        runId: 'run_1',
        agent: 'tester',
        callId: 'call_1',
        tool: 'add',
        durationMs: 25,
        isError: false,
        output: '{"sum":5}',
      },
    ]);
  });

  it('never runs a tool whose arguments fail validation, and tells the model which field is wrong', async () => {
    const { execution, trace } = setup();
    const { tool, run } = addTool();
    const result = await executeToolCall(call('add', { a: 'two', b: 3 }), new ToolSet([tool]), execution);
    expect(run).not.toHaveBeenCalled();
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/^Invalid arguments for "add": a: .*expected number/);
    expect(types(trace.events)).toEqual(['validation-failure']);
    expect(trace.events[0]).toMatchObject({ target: 'tool-input', tool: 'add', callId: 'call_1', at: 1_000 });
    expect((trace.events[0] as Extract<TraceEvent, { type: 'validation-failure' }>).issues[0]).toMatchObject({ path: ['a'] });
  });

  it('answers an unknown tool name with the list of available tools', async () => {
    const { execution } = setup();
    const { tool, run } = addTool();
    const other = defineTool({ name: 'echo', description: 'Echo.', input: z.object({}), run: () => '' });
    const result = await executeToolCall(call('multiply', { a: 1, b: 2 }), new ToolSet([tool, other]), execution);
    expect(run).not.toHaveBeenCalled();
    expect(result).toMatchObject({ isError: true, name: 'multiply', callId: 'call_1' });
    expect(result.output).toBe('Unknown tool "multiply". Available tools: add, echo.');
  });

  it('answers arguments that are not JSON with an error result', async () => {
    const { execution, trace } = setup();
    const { tool, run } = addTool();
    // As the providers read it (readToolInput): the problem is a sentence of its own.
    const invalidInput = { raw: '{"a": 1,', error: 'The arguments are not valid JSON: Unexpected end of JSON input' };
    const result = await executeToolCall(call('add', undefined, { invalidInput }), new ToolSet([tool]), execution);
    expect(run).not.toHaveBeenCalled();
    expect(result.isError).toBe(true);
    expect(result.output).toBe(
      'The call to "add" was not run. The arguments are not valid JSON: Unexpected end of JSON input. Send a JSON object that matches the tool\'s schema.',
    );
    expect(result.output.match(/not valid JSON/g)).toHaveLength(1);
    expect(trace.events).toEqual([
      expect.objectContaining({ type: 'validation-failure', target: 'tool-input', issues: [{ path: [], message: expect.stringContaining('not valid JSON') }] }),
    ]);
  });

  it('tells the model that arguments cut off by the output limit were cut off, not only that they are broken', async () => {
    const { execution, trace } = setup();
    const { tool, run } = addTool();
    const invalidInput = {
      raw: '{"a": 1, "b"',
      error: 'The answer hit the output limit (max tokens) while writing these arguments, so they are cut off.',
      cutOff: true,
    };
    const result = await executeToolCall(call('add', undefined, { invalidInput }), new ToolSet([tool]), execution);
    expect(run).not.toHaveBeenCalled();
    expect(result.isError).toBe(true);
    expect(result.output).toContain('your answer hit the output limit (max tokens)');
    expect(result.output).toContain('Make the call shorter, or split the work into several smaller calls.');
    expect(result.output).not.toContain('not valid JSON');
    expect(trace.events).toEqual([expect.objectContaining({ type: 'validation-failure', issues: [expect.objectContaining({ code: 'cut_off' })] })]);
  });

  it('turns a tool that throws into an error result and an error trace event', async () => {
    const { execution, trace } = setup();
    const tool = defineTool({
      name: 'explode',
      description: 'Fails.',
      input: z.object({}),
      run: () => {
        throw new Error('disk full');
      },
    });
    const result = await executeToolCall(call('explode', {}), new ToolSet([tool]), execution);
    expect(result).toEqual({ type: 'tool-result', callId: 'call_1', name: 'explode', output: 'Tool "explode" failed: disk full', isError: true });
    expect(types(trace.events)).toEqual(['tool-call-start', 'tool-call-end']);
    expect(trace.events[1]).toMatchObject({ isError: true, output: 'Tool "explode" failed: disk full' });
  });

  it('abandons a tool that runs past timeoutMs and aborts its signal', async () => {
    const { execution, trace } = setup();
    let signal: AbortSignal | undefined;
    const tool = defineTool({
      name: 'slow',
      description: 'Never answers.',
      input: z.object({}),
      timeoutMs: 20,
      run: (_, context) => {
        signal = context.signal;
        return new Promise<string>(() => undefined);
      },
    });
    const result = await executeToolCall(call('slow', {}), new ToolSet([tool]), execution);
    expect(result).toMatchObject({ isError: true, output: 'Tool "slow" timed out after 20 ms.' });
    expect(signal?.aborted).toBe(true);
    expect(trace.events[1]).toMatchObject({ type: 'tool-call-end', isError: true });
  });

  it('reports output that does not match the output schema as an error', async () => {
    const { execution, trace } = setup();
    const tool = defineTool({
      name: 'count',
      description: 'Counts.',
      input: z.object({}),
      output: z.object({ count: z.number() }),
      run: () => ({ count: 'many' }) as unknown as { count: number },
    });
    const result = await executeToolCall(call('count', {}), new ToolSet([tool]), execution);
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/does not match its output schema: count: /);
    expect(types(trace.events)).toEqual(['tool-call-start', 'validation-failure', 'tool-call-end']);
    expect(trace.events[1]).toMatchObject({ target: 'tool-output', tool: 'count' });
  });

  it('returns output that matches the output schema, as parsed', async () => {
    const { execution } = setup();
    const tool = defineTool({
      name: 'count',
      description: 'Counts.',
      input: z.object({}),
      output: z.object({ count: z.number() }),
      run: () => ({ count: 3, extra: 'dropped' }),
    });
    expect((await executeToolCall(call('count', {}), new ToolSet([tool]), execution)).output).toBe('{"count":3}');
  });

  it('passes strings through and serializes values JSON cannot express without crashing', async () => {
    const { execution, trace } = setup();
    const outputs: unknown[] = ['plain', undefined, () => 1, 10n];
    const tool = defineTool({ name: 'odd', description: 'Odd outputs.', input: z.object({ i: z.number() }), run: ({ i }) => outputs[i] });
    const results = [];
    for (let i = 0; i < outputs.length; i++) results.push(await executeToolCall(call('odd', { i }), new ToolSet([tool]), execution));
    expect(results.map((result) => [result.output, result.isError])).toEqual([
      ['plain', undefined],
      ['', undefined],
      ['() => 1', undefined],
      ['10', undefined],
    ]);
    expect(trace.events.filter((event) => event.type === 'tool-call-end')).toHaveLength(4);
  });

  describe('approval', () => {
    function guarded(needsApproval: boolean | ((input: { path: string }) => boolean) = true) {
      const run = vi.fn(({ path }: { path: string }) => `deleted ${path}`);
      const tool = defineTool({
        name: 'delete_file',
        description: 'Deletes a file.',
        input: z.object({ path: z.string() }),
        sideEffects: 'write',
        needsApproval,
        run,
      });
      return { tools: new ToolSet([tool]), run };
    }

    it('runs the tool when the approver approves, after asking with the validated input', async () => {
      const requests: ApprovalRequest[] = [];
      const approver: Approver = (request) => {
        requests.push(request);
        return { approved: true };
      };
      const { execution } = setup({ approver });
      const { tools, run } = guarded();
      const result = await executeToolCall(call('delete_file', { path: 'a.txt' }), tools, execution);
      expect(result.output).toBe('deleted a.txt');
      expect(run).toHaveBeenCalledOnce();
      expect(requests).toEqual([{ tool: 'delete_file', callId: 'call_1', input: { path: 'a.txt' }, sideEffects: 'write', runId: 'run_1', agent: 'tester' }]);
    });

    it('returns a rejection with its note to the model without running the tool', async () => {
      const { execution } = setup({ approver: async () => ({ approved: false, note: 'keep the logs', by: 'ana' }) });
      const { tools, run } = guarded();
      const result = await executeToolCall(call('delete_file', { path: 'app.log' }), tools, execution);
      expect(run).not.toHaveBeenCalled();
      expect(result.isError).toBe(true);
      expect(result.output).toContain('rejected by ana: keep the logs');
    });

    it('stops with AwaitingReviewError when there is no approver', async () => {
      const { execution, trace } = setup();
      const { tools, run } = guarded();
      const running = executeToolCall(call('delete_file', { path: 'a.txt' }), tools, execution);
      await expect(running).rejects.toBeInstanceOf(AwaitingReviewError);
      await expect(running).rejects.toMatchObject({ details: { request: { tool: 'delete_file', input: { path: 'a.txt' } } } });
      expect(run).not.toHaveBeenCalled();
      expect(trace.events).toEqual([]);
    });

    it('asks only when the needsApproval function says so', async () => {
      const { execution } = setup();
      const { tools, run } = guarded(({ path }) => path.startsWith('/'));
      expect((await executeToolCall(call('delete_file', { path: 'tmp.txt' }), tools, execution)).output).toBe('deleted tmp.txt');
      await expect(executeToolCall(call('delete_file', { path: '/etc/hosts' }), tools, execution)).rejects.toBeInstanceOf(AwaitingReviewError);
      expect(run).toHaveBeenCalledOnce();
    });
  });

  describe('cancellation by the caller', () => {
    it('does not start a tool when the run is already cancelled', async () => {
      const controller = new AbortController();
      const reason = new Error('run cancelled');
      controller.abort(reason);
      const { execution } = setup({ signal: controller.signal });
      const { tool, run } = addTool();
      await expect(executeToolCall(call('add', { a: 1, b: 2 }), new ToolSet([tool]), execution)).rejects.toBe(reason);
      expect(run).not.toHaveBeenCalled();
    });

    it('stops waiting for a tool that ignores its signal, and aborts that signal', async () => {
      const controller = new AbortController();
      const reason = new Error('run cancelled');
      const { execution } = setup({ signal: controller.signal });
      let signal: AbortSignal | undefined;
      const tool = defineTool({
        name: 'stubborn',
        description: 'Ignores its signal.',
        input: z.object({}),
        run: (_, context) => {
          signal = context.signal;
          queueMicrotask(() => controller.abort(reason));
          return new Promise<string>(() => undefined);
        },
      });
      await expect(executeToolCall(call('stubborn', {}), new ToolSet([tool]), execution)).rejects.toBe(reason);
      expect(signal?.aborted).toBe(true);
    });
  });
});
