// An llm coordinator with a worklist: it plans, updates as results come in, and cannot finish
// while an item is still open.
import { z } from 'zod';
import { Handler, defineConfiguration, defineTool, openStateStore } from 'troupe';
import { collectTrace, reply, scriptedModel } from 'troupe/testing';

const searchNotes = defineTool({
  name: 'search_notes',
  description: "Searches the team's notes.",
  input: z.object({ query: z.string() }),
  sideEffects: 'read',
  run: ({ query }) => (query.includes('cache') ? 'The cache was cut to 256 MB on 3 March.' : 'Nothing found.'),
});

// #region configuration
const configuration = defineConfiguration(
  {
    name: 'research',
    trigger: { kind: 'manual' },
    prompt: "Answer the question from the team's notes.",
    tools: ['search_notes'],
    delegates: { worklist: true }, // also: tasks, crews, adhoc_agents
    limits: { max_tool_calls: 10, max_turns: 10 },
  },
  { tools: [searchNotes] },
);
// #endregion

const model = scriptedModel([
  reply.toolCall('plan_work', {
    items: [
      { id: 'cache', description: 'what changed in the cache', priority: 0 },
      { id: 'deploys', description: 'deploys that week', priority: 1 },
    ],
  }),
  reply.toolCall('search_notes', { query: 'cache changes' }),
  reply.toolCall('update_work', { id: 'cache', status: 'done', result: 'cut to 256 MB on 3 March' }),
  reply.finish({ answer: 'The cache was cut to 256 MB.' }), // refused: "deploys" is still open
  reply.toolCall('update_work', { id: 'deploys', status: 'dropped', result: 'the cache explains it' }),
  reply.finish({ answer: 'The cache was cut to 256 MB on 3 March.' }),
]);

const trace = collectTrace();
const store = await openStateStore(); // TROUPE_HOME's SQLite store: the worklist is kept with every change
const handler = new Handler({ configurations: [configuration], tools: [searchNotes], store, model, trace });
const outcome = await handler.handle({ kind: 'manual', id: 'q-7', data: { question: 'Why did latency jump?' } });

for (const event of trace.events) if (event.type === 'validation-failure') console.log(`refused: ${event.issues[0]?.message}`);
for (const entry of outcome.worklist ?? []) console.log(`${entry.priority} ${entry.id}: ${entry.status} — ${entry.result}`);
console.log(`${outcome.status}: ${outcome.answer}`);
await store.close();
