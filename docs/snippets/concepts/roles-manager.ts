// #region manager
import { Agent, defineTask, hierarchicalCrew } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const member = (name: string, description: string) => new Agent({ name, description, role: name, model: scriptedModel([]) });

// The manager's model only looks at what it was given, and finishes.
const managerModel = scriptedModel([reply.finish({ result: 'Nothing to do.' })]);
const crew = hierarchicalCrew({
  name: 'newsroom',
  agents: [member('reporter', 'Finds the facts and quotes their sources.'), member('editor', 'Cuts a story to length.')],
  tasks: [defineTask({ name: 'report', description: 'Report the story with sources.', agent: 'reporter', expectedOutput: 'A sourced story.' })],
  manager: { name: 'chief', model: managerModel, instructions: 'You run the newsroom of a local paper.' },
});
await crew.run('A story on the new bridge.');

// What the manager was given: its instructions (yours first, then the crew's) and a delegation tool.
const [request] = managerModel.calls;
console.log(request?.system);
const delegate = request?.tools?.find((tool) => tool.name === 'delegate_task');
console.log(`\n${delegate?.name}: ${delegate?.description}`);
console.log(JSON.stringify(delegate?.inputSchema.properties));
// #endregion
