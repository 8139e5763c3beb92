// #region crew
import { z } from 'zod';
import { Agent, defineTask, sequentialCrew } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const crew = sequentialCrew({
  name: 'release-notes',
  agents: [
    new Agent({ name: 'analyst', role: 'Release analyst', goal: 'Sort changes by who they affect.' }),
    new Agent({ name: 'writer', role: 'Technical writer', goal: 'Write clear, short release notes.' }),
  ],
  tasks: [
    defineTask({
      name: 'classify',
      description: 'Sort the changes in the request into features, fixes and breaking changes.',
      agent: 'analyst',
      expectedOutput: z.object({ features: z.array(z.string()), fixes: z.array(z.string()), breaking: z.array(z.string()) }),
    }),
    defineTask({
      name: 'notes',
      description: 'Write the release notes in Markdown, breaking changes first.',
      agent: 'writer',
      context: ['classify'], // the writer is shown the analyst's result
      expectedOutput: 'Markdown, breaking changes first.',
    }),
  ],
});
// #endregion

// #region run
// One scripted model answers every agent, in the order they are called: the analyst, then the writer.
// A task described in words has a string result, which a finish tool carries as { result }.
const model = scriptedModel([
  reply.finish({ features: ['Export reports as CSV'], fixes: ['No more redirect loop after login'], breaking: ['The v1 API is removed'] }),
  reply.finish({ result: '## Breaking\n- The v1 API is removed.\n## Features\n- Reports export as CSV.\n## Fixes\n- No login redirect loop.' }),
]);

const result = await crew.run('Added CSV export; fixed the login redirect loop; removed the v1 API.', { model });
if (result.status === 'finished') console.log(result.output);
for (const task of result.tasks) console.log(`${task.task} by ${task.agent}: ${task.status}`);
console.log(`${result.usage.total.turns} model calls; stopped: ${result.stop.reason}`);
// #endregion
