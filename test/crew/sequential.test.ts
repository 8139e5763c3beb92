import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, ConfigurationError, defineTask, sequentialCrew } from 'troupe';
import { collectTrace, reply, scriptedModel } from 'troupe/testing';

const outline = z.object({ points: z.array(z.string()).min(2) });

function crewWith(researcherScript: Parameters<typeof scriptedModel>[0], writerScript: Parameters<typeof scriptedModel>[0]) {
  const researcherModel = scriptedModel(researcherScript);
  const writerModel = scriptedModel(writerScript);
  const crew = sequentialCrew<string>({
    name: 'blog',
    agents: [
      new Agent({ name: 'researcher', role: 'Researcher', goal: 'Find the key points', model: researcherModel }),
      new Agent({ name: 'writer', role: 'Writer', goal: 'Write clearly', model: writerModel }),
    ],
    tasks: [
      defineTask({ name: 'research', description: 'List the key points about the topic.', expectedOutput: outline, agent: 'researcher' }),
      defineTask({
        name: 'draft',
        description: 'Write a paragraph from the points.',
        expectedOutput: 'One paragraph of plain text.',
        agent: 'writer',
        context: ['research'],
      }),
    ],
  });
  return { crew, researcherModel, writerModel };
}

describe('sequential crew', () => {
  it('runs tasks in order, passes named outputs as context, and returns the last output', async () => {
    const { crew, writerModel } = crewWith([reply.finish({ points: ['fast', 'typed'] })], [reply.finish({ result: 'Troupe is fast and typed.' })]);
    const trace = collectTrace();

    const result = await crew.run('Write about Troupe', { trace, runId: 'r1' });

    expect(result.status).toBe('finished');
    expect(result.output).toBe('Troupe is fast and typed.');
    expect(result.tasks.map((t) => [t.task, t.agent, t.status])).toEqual([
      ['research', 'researcher', 'finished'],
      ['draft', 'writer', 'finished'],
    ]);
    expect(result.tasks[0]!.output).toEqual({ points: ['fast', 'typed'] });
    const writerPrompt = writerModel.calls[0]!.messages[0]!;
    expect(writerPrompt).toMatchObject({ role: 'user', content: expect.stringContaining('### research\n{\n  "points": [\n    "fast"') });
    expect(writerPrompt.content).toContain('## Expected output\nOne paragraph of plain text.');
    expect(Object.keys(result.usage.byAgent)).toEqual(['researcher', 'writer']);
    expect(result.usage.total.turns).toBe(2);
    expect(result.transcripts.writer).toHaveLength(3);
    expect(trace.events.filter((e) => e.type.startsWith('task') || e.type === 'crew-end').map((e) => e.type)).toEqual([
      'task-start',
      'task-end',
      'task-start',
      'task-end',
      'crew-end',
    ]);
  });

  it('a member that keeps returning an invalid output fails the crew there, keeping earlier outputs', async () => {
    const bad = () => reply.finish({ points: ['only one'] });
    const { crew, writerModel } = crewWith(bad, []);

    const result = await crew.run('Write about Troupe');

    expect(result.status).toBe('failed');
    expect(result.stop).toMatchObject({ kind: 'failed', condition: 'invalid-output', detail: { task: 'research', agent: 'researcher', attempts: 3 } });
    expect(result.stop.reason).toMatch(/task "research" \(researcher\) failed: Agent "researcher" called its finish tool 3 times/);
    expect(result.transcripts.researcher!.length).toBeGreaterThan(0);
    expect(writerModel.callCount).toBe(0);
  });

  it('rejects tasks that name unknown agents or later tasks', () => {
    const agents = [new Agent({ name: 'a' })];
    expect(() => sequentialCrew({ name: 'c', agents, tasks: [defineTask({ name: 't', description: 'd', expectedOutput: 'x', agent: 'zed' })] })).toThrow(
      /field "tasks.t.agent": Task "t" names agent "zed", who is not a member of crew "c" \(members: a\)/,
    );
    expect(() =>
      sequentialCrew({ name: 'c', agents, tasks: [defineTask({ name: 't', description: 'd', expectedOutput: 'x', agent: 'a', context: ['later'] })] }),
    ).toThrow(ConfigurationError);
  });
});
