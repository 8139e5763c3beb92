import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, defineTask, defineTool, deriveRunContext, maxTurns, runContext, sequentialCrew, type ToolContext } from 'troupe';
import { collectTrace, manualClock, reply, scriptedModel, sequentialIds } from 'troupe/testing';

describe('run context', () => {
  it('fills what the caller left out and keeps only its own fields', () => {
    const context = runContext({ ids: sequentialIds(), history: [] } as never);
    expect(context.runId).toBe('run_1');
    expect(typeof context.clock.now()).toBe('number');
    const model = scriptedModel([]);
    expect(context.models(model)).toBe(model);
    expect(Object.keys(context).sort()).toEqual(['clock', 'ids', 'models', 'runId']);
  });

  it('scrubs secrets from its trace once, however deep the runs nest', () => {
    process.env.TROUPE_TEST_API_KEY = 'sk-run-context-secret-123456';
    try {
      const trace = collectTrace();
      const parent = runContext({ trace, runId: 'r' });
      const child = deriveRunContext(deriveRunContext(parent, { runId: 'c' }));
      expect(child.trace).toBe(parent.trace);
      child.trace!({ type: 'agent-finish', at: 0, runId: 'c', agent: 'a', output: 'key sk-run-context-secret-123456' });
      expect(JSON.stringify(trace.events)).not.toContain('sk-run-context-secret-123456');
    } finally {
      delete process.env.TROUPE_TEST_API_KEY;
    }
  });

  it("derives a child's context from its parent's: overrides replace, undefined keeps the parent's", () => {
    const approver = () => ({ approved: true });
    const parent = runContext({ runId: 'parent', model: 'scripted', approver, termination: maxTurns(3) });
    const child = deriveRunContext(parent, { runId: 'child', model: undefined });
    expect(child).toMatchObject({ runId: 'child', model: 'scripted', approver, termination: parent.termination, clock: parent.clock, ids: parent.ids });
    expect(parent.runId).toBe('parent');
  });

  it('an agent runs in the context it is given: run id, clock, model override, budgets and approver reach its tool calls', async () => {
    const seen: ToolContext[] = [];
    const send = defineTool({
      name: 'send',
      description: 'sends',
      input: z.object({ to: z.string() }),
      sideEffects: 'external',
      needsApproval: true,
      run: (_, context) => (seen.push(context), 'sent'),
    });
    const agent = new Agent({ name: 'mailer', tools: [send], model: scriptedModel([]) });
    const model = scriptedModel([reply.toolCall('send', { to: 'a' }), reply.toolCall('send', { to: 'b' }), reply.finish({ result: 'done' })]);
    const asked: string[] = [];
    const context = runContext({
      runId: 'run-ctx',
      clock: manualClock(1000),
      model,
      termination: maxTurns(2),
      approver: (request) => (asked.push(`${request.runId}:${request.tool}`), { approved: true }),
    });

    const result = await agent.run('mail a and b', context);

    expect(result.status).toBe('stopped');
    expect(result.stop).toMatchObject({ condition: 'max-turns' });
    expect(result.runId).toBe('run-ctx');
    expect(model.calls).toHaveLength(2);
    expect(asked).toEqual(['run-ctx:send', 'run-ctx:send']);
    expect(seen.map((c) => c.runId)).toEqual(['run-ctx', 'run-ctx']);
  });

  it("a crew's members run in contexts derived from the crew's", async () => {
    const trace = collectTrace();
    const model = scriptedModel([reply.finish({ result: 'one' }), reply.finish({ result: 'two' })]);
    const crew = sequentialCrew<string>({
      name: 'pair',
      agents: [new Agent({ name: 'first' }), new Agent({ name: 'second' })],
      tasks: [
        defineTask({ name: 'a', description: 'A.', expectedOutput: 'text', agent: 'first' }),
        defineTask({ name: 'b', description: 'B.', expectedOutput: 'text', agent: 'second' }),
      ],
    });

    const result = await crew.run('go', runContext({ runId: 'crew-run', model, trace, clock: manualClock(5) }));

    expect(result.status).toBe('finished');
    const starts = trace.events.filter((e) => e.type === 'model-call-start');
    expect(starts.map((e) => [e.runId, e.at])).toEqual([
      ['crew-run', 5],
      ['crew-run', 5],
    ]);
  });
});
