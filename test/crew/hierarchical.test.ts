import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, defineTask, hierarchicalCrew, type ToolMessage } from 'troupe';
import { collectTrace, reply, scriptedModel } from 'troupe/testing';

const delegate = (member: string, task: string, context = '') => reply.toolCall('delegate_task', { member, task, context });
const lastToolOutput = (model: ReturnType<typeof scriptedModel>, call: number) =>
  (model.calls[call]!.messages.at(-1) as ToolMessage).content.map((r) => r.output).join('\n');

function members(researcher: Parameters<typeof scriptedModel>[0], writer: Parameters<typeof scriptedModel>[0] = []) {
  return [
    new Agent({ name: 'researcher', description: 'Finds facts', model: scriptedModel(researcher) }),
    new Agent({ name: 'writer', description: 'Writes prose', model: scriptedModel(writer) }),
  ];
}

describe('hierarchical crew', () => {
  it('the manager delegates, checks results and finishes with the crew output', async () => {
    const manager = scriptedModel([
      delegate('researcher', 'facts', 'Topic: queues'),
      delegate('writer', 'Write one sentence from the facts.', 'Facts: ["durable","fast"]'),
      reply.finish({ summary: 'Queues are durable and fast.', sources: 1 }),
    ]);
    const trace = collectTrace();
    const crew = hierarchicalCrew({
      name: 'research',
      agents: members([reply.finish({ facts: ['durable', 'fast'] })], [reply.finish({ result: 'Queues are durable and fast.' })]),
      tasks: [
        defineTask({
          name: 'facts',
          description: 'List facts about the topic.',
          expectedOutput: z.object({ facts: z.array(z.string()) }),
          agent: 'researcher',
        }),
      ],
      manager: { model: manager },
      output: z.object({ summary: z.string(), sources: z.number() }),
    });

    const result = await crew.run('Explain queues', { trace });

    expect(result.status).toBe('finished');
    expect(result.output).toEqual({ summary: 'Queues are durable and fast.', sources: 1 });
    expect(lastToolOutput(manager, 1)).toBe('{\n  "facts": [\n    "durable",\n    "fast"\n  ]\n}');
    expect(result.tasks.map((t) => [t.task, t.agent, t.status])).toEqual([
      ['facts', 'researcher', 'finished'],
      ['Write one sentence from the facts.', 'writer', 'finished'],
    ]);
    expect(Object.keys(result.usage.byAgent).sort()).toEqual(['manager', 'researcher', 'writer']);
    const delegations = trace.events.filter((e) => e.type === 'delegation-start');
    expect(delegations.map((e) => e.type === 'delegation-start' && [e.agent, e.member, e.depth])).toEqual([
      ['manager', 'researcher', 1],
      ['manager', 'writer', 1],
    ]);
    expect(manager.calls[0]!.system).toContain('- researcher: Finds facts');
  });

  it('a delegation to an unknown member is corrected, not crashed', async () => {
    const manager = scriptedModel([delegate('editor', 'Check it.'), delegate('writer', 'Check it.'), reply.finish({ result: 'checked' })]);
    const crew = hierarchicalCrew({ name: 'c', agents: members([], [reply.finish({ result: 'looks fine' })]), manager: { model: manager } });

    const result = await crew.run('Check the text');

    expect(result.output).toBe('checked');
    expect(lastToolOutput(manager, 1)).toMatch(/Invalid arguments for "delegate_task": member: Invalid option: expected one of "researcher"\|"writer"/);
  });

  it('a member returning an invalid output is reported to the manager, who can carry on', async () => {
    const manager = scriptedModel([delegate('researcher', 'facts'), reply.finish({ result: 'gave up on facts' })]);
    const crew = hierarchicalCrew({
      name: 'c',
      agents: members(() => reply.finish({ facts: 'not a list' })),
      tasks: [defineTask({ name: 'facts', description: 'List facts.', expectedOutput: z.object({ facts: z.array(z.string()) }), agent: 'researcher' })],
      manager: { model: manager },
    });

    const result = await crew.run('Facts please');

    expect(result.status).toBe('finished');
    expect(lastToolOutput(manager, 1)).toMatch(/researcher did not deliver \(failed\): Agent "researcher" called its finish tool 3 times/);
    expect(result.tasks[0]).toMatchObject({ task: 'facts', status: 'failed' });
  });

  it('a delegation loop ends the run with a clear reason', async () => {
    const manager = scriptedModel(() => delegate('writer', 'Write it again.', 'same'));
    const crew = hierarchicalCrew({ name: 'c', agents: members([], () => reply.finish({ result: 'text' })), manager: { model: manager }, maxDelegations: 50 });

    const result = await crew.run('Write');

    expect(result.status).toBe('stopped');
    expect(result.stop).toMatchObject({ kind: 'stopped', condition: 'repeated-delegation', detail: { from: 'manager', member: 'writer', times: 3, limit: 1 } });
    expect(result.stop.reason).toMatch(/manager delegated the same task to writer 3 times with the same context; a loop, so the run stops/);
    expect(manager.callCount).toBe(3);
  });

  it('bounds the number of delegations and how deep they nest', async () => {
    let n = 0;
    const manager = scriptedModel(() => delegate('researcher', `question ${++n}`));
    const crew = hierarchicalCrew({ name: 'c', agents: members(() => reply.finish({ result: 'answer' })), manager: { model: manager }, maxDelegations: 4 });
    const result = await crew.run('Go');
    expect(result.stop).toMatchObject({ condition: 'max-delegations', detail: { limit: 4 } });
    expect(result.tasks).toHaveLength(4);

    // A member allowed to delegate gets the tool at depth 2, not deeper.
    const leadModel = scriptedModel([delegate('writer', 'draft'), reply.finish({ result: 'lead done' })]);
    const writerModel = scriptedModel([reply.finish({ result: 'draft text' })]);
    const nested = hierarchicalCrew({
      name: 'nested',
      agents: [new Agent({ name: 'lead', allowDelegation: true, model: leadModel }), new Agent({ name: 'writer', allowDelegation: true, model: writerModel })],
      manager: { model: scriptedModel([delegate('lead', 'run the writing'), reply.finish({ result: 'all done' })]) },
      maxDepth: 2,
    });
    const trace = collectTrace();
    const deep = await nested.run('Go', { trace });
    expect(deep.output).toBe('all done');
    expect(leadModel.calls[0]!.tools?.map((t) => t.name)).toEqual(['delegate_task', 'finish']);
    expect(writerModel.calls[0]!.tools?.map((t) => t.name)).toEqual(['finish']);
    expect(trace.events.filter((e) => e.type === 'delegation-start').map((e) => e.type === 'delegation-start' && `${e.agent}->${e.member}@${e.depth}`)).toEqual(
      ['manager->lead@1', 'lead->writer@2'],
    );
  });
});

describe('hierarchical crews run concurrently', () => {
  it("keeps each run's delegation count apart, even under one run id", async () => {
    const manager = scriptedModel((request) =>
      request.messages.length === 1 ? delegate('writer', 'Write it.', JSON.stringify(request.messages[0]!.content)) : reply.finish({ result: 'done' }),
    );
    const crew = hierarchicalCrew({ name: 'c', agents: members([], () => reply.finish({ result: 'text' })), manager: { model: manager }, maxDelegations: 1 });
    const results = await Promise.all([crew.run('one', { runId: 'shared' }), crew.run('two', { runId: 'shared' }), crew.run('three', { runId: 'shared' })]);
    expect(results.map((r) => r.status)).toEqual(['finished', 'finished', 'finished']);
    expect(results.map((r) => r.tasks.length)).toEqual([1, 1, 1]);
  });
});
