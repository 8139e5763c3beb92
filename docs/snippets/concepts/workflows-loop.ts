// A cycle with a limit: code checks a model's draft and sends it back with feedback, at most twice.
import { z } from 'zod';
import { codeTask, defineWorkflow, openStateStore, promptTask, type TraceEvent } from 'troupe';
import { scriptedModel } from 'troupe/testing';

// #region loop
const draft = promptTask({
  name: 'draft',
  input: z.object({ change: z.string() }),
  output: z.string(),
  prompt: 'Write a one-line release note, at most 8 words, for: {{change}}',
});

const check = codeTask({
  name: 'check',
  input: z.string(),
  output: z.object({ ok: z.boolean(), note: z.string(), problem: z.string() }),
  run: (note) => {
    const words = note.split(/\s+/).length;
    return { ok: words <= 8, note, problem: words <= 8 ? '' : `${words} words; at most 8` };
  },
});

const publish = codeTask({ name: 'publish', input: z.string(), output: z.string(), run: (note) => `published: ${note}` });

const notes = defineWorkflow({
  name: 'release-notes',
  input: z.object({ change: z.string() }),
  tasks: [draft, check, publish],
  edges: [
    { from: 'draft', to: 'check' },
    { from: 'check', to: 'publish', when: (c) => c.ok, route: 'passed', map: (c) => c.note },
    // The only way back upstream: a loop edge, with an attempt limit and feedback for the next attempt.
    { from: 'check', to: 'draft', when: (c) => !c.ok, loop: { maxAttempts: 2, feedback: (c) => `Too long: ${c.problem}.` } },
  ],
});
// #endregion

// The scripted model shortens the note about search when it is told it was too long; the one about sync it never does.
const model = scriptedModel((request) => {
  const prompt = JSON.stringify(request.messages);
  if (prompt.includes('date range') && prompt.includes('Too long')) return 'Search now filters by date and author';
  if (prompt.includes('date range')) return 'Search results can now be filtered by date range and by author';
  return 'Documents now stay editable offline and sync again when the connection returns';
});

const transitions: TraceEvent[] = [];
const store = await openStateStore();
const summary = await notes.run(
  [
    { id: 'search', input: { change: 'Search filters by date range and author' } },
    { id: 'sync', input: { change: 'Offline editing with sync' } },
  ],
  { store, model, trace: (event) => event.type === 'item-transition' && transitions.push(event) },
);
for (const item of summary.items) {
  console.log(`${item.id}: ${item.state}`);
  for (const t of transitions) if (t.type === 'item-transition' && t.item === item.id && t.policy) console.log(`  [${t.policy}] ${t.why}`);
}
if (summary.status === 'awaiting-review') console.log(`run ${summary.status}, reviews pending: ${summary.reviews.length}`);
await store.close();
