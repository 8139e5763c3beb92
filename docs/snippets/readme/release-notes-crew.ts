import { z } from 'zod';
import { Agent, defineTask, sequentialCrew } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

// #region crew
const crew = sequentialCrew({
  name: 'release-notes',
  agents: [
    new Agent({ name: 'analyst', role: 'Release analyst', goal: 'Sort changes by who they affect.' }),
    new Agent({ name: 'writer', role: 'Technical writer', goal: 'Write clear release notes.' }),
  ],
  tasks: [
    defineTask({
      name: 'classify',
      description: 'Sort the changes in the request into features, fixes and breaking changes.',
      agent: 'analyst',
      expectedOutput: z.object({ features: z.array(z.string()), fixes: z.array(z.string()), breaking: z.array(z.string()) }),
    }),
    defineTask({ name: 'notes', description: 'Write the release notes.', agent: 'writer', context: ['classify'], expectedOutput: 'Markdown.' }),
  ],
});

// Offline: a scripted model plays both agents, each ending with its finish tool.
// Live: leave `model` out and set ANTHROPIC_API_KEY.
const model = scriptedModel([
  reply.finish({ features: ['--json for troupe run'], fixes: ['replay of parallel tool calls'], breaking: ['--verbose removed'] }),
  reply.finish({ result: '**Breaking:** `--verbose` is gone.\n\nNew: `troupe run --json`. Fixed: replay of parallel tool calls.' }),
]);
const result = await crew.run('Added --json to troupe run; fixed replay of parallel tool calls; removed the --verbose flag.', { model });
console.log(result.status === 'finished' ? result.output : result.stop.reason);
// #endregion
