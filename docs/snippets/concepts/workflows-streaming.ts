// Items that arrive while the run goes on: pass an async iterable instead of a list.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { codeTask, defineWorkflow, openStateStore } from 'troupe';

const wordCount = codeTask({
  name: 'count',
  input: z.object({ text: z.string() }),
  output: z.number(),
  run: ({ text }) => text.split(/\s+/).length,
});
const counter = defineWorkflow({ name: 'word-count', input: z.object({ text: z.string() }), tasks: [wordCount] });

// #region stream
// A queue, a webhook, a folder being watched: anything that yields items one by one.
async function* arriving() {
  for (const [index, text] of ['first message', 'a second, longer message', 'third'].entries()) {
    await sleep(20);
    yield { id: `msg-${index + 1}`, input: { text } };
  }
}

const store = await openStateStore();
const summary = await counter.run(arriving(), { store });
// #endregion
console.log(summary.status, summary.items.map((item) => `${item.id}=${item.outputs.count}`).join(' '));
await store.close();
