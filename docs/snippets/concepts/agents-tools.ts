// #region tool
import { z } from 'zod';
import { Agent, defineTool } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const pages = [
  { title: 'Crews and their processes', url: 'docs/concepts/crews.md' },
  { title: 'Roles', url: 'docs/concepts/roles.md' },
  { title: 'Agents and finish tools', url: 'docs/concepts/agents-and-finish-tools.md' },
];

const searchDocs = defineTool({
  name: 'search_docs', // letters, digits, _ and -, at most 64
  description: 'Searches the product docs.',
  input: z.object({ query: z.string(), limit: z.number().int().max(20).default(5) }),
  output: z.array(z.object({ title: z.string(), url: z.string() })), // optional: results are checked too
  run: async ({ query, limit }, { signal }) => {
    signal.throwIfAborted(); // aborted when the call times out or the run is cancelled
    return pages.filter((page) => page.title.toLowerCase().includes(query.toLowerCase())).slice(0, limit);
  },
  timeoutMs: 10_000, // then the model is told it timed out
  needsApproval: false, // or true, or (input) => boolean
  sideEffects: 'read', // none | read | write | external
});
// #endregion

// #region mistakes
// The scripted model makes the mistakes a real one makes; each comes back to it as the tool's result.
const model = scriptedModel([
  reply.toolCall('search_docs', { query: 'crews', limit: 50 }), // fails the input schema: run is not called
  reply.toolCall('browse', { url: 'https://example.com' }), // a tool the agent does not have
  reply.toolCall('search_docs', { query: 'crews' }), // limit takes its default, 5
  reply.finish({ answer: 'See "Crews and their processes".', sources: ['docs/concepts/crews.md'] }),
]);

const helper = new Agent({
  name: 'docs_helper',
  instructions: 'Answer questions about Troupe from its docs, citing the pages you used.',
  tools: [searchDocs],
  output: z.object({ answer: z.string(), sources: z.array(z.string()) }),
  model,
});

const result = await helper.run('Where are crews explained?');
for (const message of result.transcript) {
  if (message.role !== 'tool') continue;
  for (const part of message.content) console.log(`${part.name} ->${part.isError ? ' (error)' : ''} ${part.output}`);
}
console.log(result.output);
// #endregion

// #region schema
// What the model is shown of the tool: zod 4's own JSON Schema of the input.
console.log(JSON.stringify(searchDocs.spec.inputSchema));
// #endregion
