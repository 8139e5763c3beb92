// #region crew
import { z } from 'zod';
import { Agent, defineTask, sequentialCrew } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const analystModel = scriptedModel([
  reply.finish({ features: ['--json for troupe run'], fixes: ['replay of parallel tool calls'], breaking: ['--verbose removed'] }),
]);
const writerModel = scriptedModel([
  reply.finish({ result: '## Breaking\n- `--verbose` is gone.\n## New\n- `troupe run --json`.\n## Fixed\n- Replay of parallel tool calls.' }),
]);

const crew = sequentialCrew({
  name: 'release-notes',
  agents: [
    new Agent({ name: 'analyst', role: 'Release analyst', goal: 'Sort changes by who they affect.', model: analystModel }),
    new Agent({ name: 'writer', role: 'Technical writer', goal: 'Write clear release notes.', model: writerModel }),
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
      description: 'Write the release notes.',
      agent: 'writer',
      context: ['classify'], // the writer is shown the output of classify
      expectedOutput: 'Markdown, breaking changes first.', // words: the result is a non-empty string
    }),
  ],
});

const result = await crew.run('Added --json to troupe run; fixed replay of parallel tool calls; removed the --verbose flag.', {
  trace: (event) => {
    if (event.type === 'task-start') console.log(`${event.task} -> ${event.agent}`);
  },
});
// #endregion

// #region shown
console.log(`\nWhat the writer was given:\n${writerModel.calls[0]?.messages[0]?.content}`);
console.log(`\n${result.status}: ${result.stop.reason}`);
console.log(result.output); // typed string: the last task's output
// #endregion
