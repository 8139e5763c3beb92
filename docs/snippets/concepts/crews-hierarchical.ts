// #region crew
import { z } from 'zod';
import { Agent, defineTask, defineTool, hierarchicalCrew, type TraceEvent } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const notes: Record<string, string> = {
  n1: 'The bridge opens on 3 March.',
  n2: 'It cost 41 million euros, 6 over budget.',
};
const searchNotes = defineTool({
  name: 'search_notes',
  description: 'Returns the notes about a subject, by id.',
  input: z.object({ subject: z.string() }),
  run: () => notes,
});

const researcher = new Agent({
  name: 'researcher',
  description: 'Finds facts in the notes, with the note each comes from.',
  role: 'Researcher',
  tools: [searchNotes],
  model: scriptedModel([
    reply.toolCall('search_notes', { subject: 'bridge' }),
    reply.finish({
      facts: [
        { fact: 'Opens on 3 March', note: 'n1' },
        { fact: 'Cost 41 M EUR, 6 M over budget', note: 'n2' },
      ],
    }),
  ]),
});
const writer = new Agent({
  name: 'writer',
  description: 'Writes short news items from given facts.',
  role: 'Writer',
  model: scriptedModel([reply.finish({ result: 'The new bridge opens on 3 March, at 41 million euros: 6 million over budget.' })]),
});

// The manager delegates the defined task by name, then free-form work with the context it writes.
const managerModel = scriptedModel([
  reply.toolCall('delegate_task', { member: 'researcher', task: 'find_facts', context: 'Subject: the new bridge.' }),
  reply.toolCall('delegate_task', {
    member: 'writer',
    task: 'Write a two-sentence news item from these facts.',
    context: 'Opens on 3 March (n1). Cost 41 M EUR, 6 M over budget (n2).',
  }),
  reply.finish({ headline: 'Bridge opens 3 March, 6 M over budget', item: 'The new bridge opens on 3 March, at 41 million euros: 6 million over budget.' }),
]);

const crew = hierarchicalCrew({
  name: 'newsroom',
  agents: [researcher, writer],
  tasks: [
    defineTask({
      name: 'find_facts',
      description: 'Find the facts about the subject in the notes.',
      agent: 'researcher',
      expectedOutput: z.object({ facts: z.array(z.object({ fact: z.string(), note: z.string() })) }),
    }),
  ],
  manager: { name: 'editor_in_chief', model: managerModel },
  output: z.object({ headline: z.string(), item: z.string() }),
  maxDelegations: 5, // default 10
});

const show = (event: TraceEvent) => {
  if (event.type === 'delegation-start') console.log(`${event.agent} delegates "${event.task}" to ${event.member}`);
  if (event.type === 'delegation-end') console.log(`  ${event.member}: ${event.status}`);
};
const result = await crew.run('A news item on the new bridge.', { trace: show });
console.log(result.status === 'finished' ? result.output : result.stop);
for (const [agent, used] of Object.entries(result.usage.byAgent)) console.log(`${agent}: ${used.runs} run(s), ${used.turns} model calls`);
// #endregion

// #region loop
// A manager that delegates the same thing again and again is stopped by code.
const looping = hierarchicalCrew({
  name: 'newsroom',
  agents: [writer.with({ model: scriptedModel((_request, index) => reply.finish({ result: `Draft ${index + 1}.` })) })],
  manager: {
    model: scriptedModel(() => reply.toolCall('delegate_task', { member: 'writer', task: 'Write the item.', context: '' })),
  },
});
const stopped = await looping.run('A news item on the new bridge.', { trace: show });
console.log(stopped.status, stopped.stop);
// #endregion
