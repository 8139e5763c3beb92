// A work graph: three items, each owned by a task agent (or decided by code), and a change that
// flows from the item a person edits to the items that depend on it, until the graph is quiet.
import { describeWorkEvent, openWorkGraph } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

// A scripted model plays every item's agent: it answers by what the agent was asked.
const model = scriptedModel((request) => {
  const asked = String(request.messages.at(-1)?.content ?? '');
  if (asked.startsWith('A person asks about your item "schema"'))
    return reply.finish({ content: 'order: id, total, currency', summary: 'Orders carry a currency.' }, 'update_item');
  if (asked.includes('"schema", which your item depends on'))
    return reply.finish({ content: 'GET /orders/:id → { id, total, currency }', summary: 'The API returns the currency.' }, 'update_item');
  return reply.finish({ reason: 'nothing to do' }, 'no_change');
});

// #region graph
const graph = await openWorkGraph({
  name: 'shop',
  model, // every item agent's model unless an item names its own
  items: [
    { id: 'schema', description: 'the order record', content: 'order: id, total' },
    { id: 'api', description: 'the orders endpoint', dependsOn: ['schema'], content: 'GET /orders/:id → { id, total }' },
    {
      id: 'docs',
      description: 'the API reference',
      dependsOn: ['schema', 'api'],
      content: 'Returns id and total.',
      // Code decides for this item, before (and instead of) asking its agent.
      react: (notification) =>
        notification.source === 'api'
          ? { kind: 'update', content: `Returns: ${notification.content.split('→ ')[1]}`, summary: 'Follows the API.' }
          : { kind: 'no-change', reason: 'the docs follow the API, not the schema' },
    },
  ],
});

await graph.seed(); // creates the items that do not exist yet; safe from every process
await graph.work(); // handle notifications in this process
const { answer, notified } = await graph.chat('schema', 'Orders need a currency.');
console.log(`schema> ${answer} (notified: ${notified.join(', ')})`);
await graph.waitUntilQuiet(); // no notification waiting, running or due for a retry

for (const { entry } of await graph.events()) console.log(`  ${describeWorkEvent(entry)}`);
for (const item of await graph.items()) console.log(`${item.id} v${item.version}: ${item.content}`);
await graph.close();
// #endregion
