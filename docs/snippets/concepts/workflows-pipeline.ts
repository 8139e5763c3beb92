// A pipeline of two tasks: plain code, then a templated prompt. The scripted model stands in for
// the LLM, so this runs offline; `workflow.run` records every step in the store.
// #region workflow
import { z } from 'zod';
import { codeTask, defineWorkflow, openStateStore, promptTask } from 'troupe';
import { scriptedModel } from 'troupe/testing';

const ticketSchema = z.object({ customer: z.string(), text: z.string() });

// Plain code: no model, and its output is still validated against its schema.
const clean = codeTask({
  name: 'clean',
  input: ticketSchema,
  output: ticketSchema,
  run: (ticket) => ({ customer: ticket.customer.trim(), text: ticket.text.replace(/\s+/g, ' ').trim() }),
});

// A templated prompt: {{customer}} and {{text}} come from the input; an object output is asked for as JSON.
const triage = promptTask({
  name: 'triage',
  stage: 'triaged',
  input: ticketSchema,
  output: z.object({ team: z.enum(['billing', 'shipping', 'other']), urgent: z.boolean() }),
  prompt: 'Which team handles this ticket, and is it urgent?\n\nFrom {{customer}}: {{text}}',
});

// No edges: the tasks form a pipeline in the order given.
const tickets = defineWorkflow({ name: 'tickets', input: ticketSchema, tasks: [clean, triage] });
// #endregion

// #region run
// The scripted model answers from the prompt it is shown.
const model = scriptedModel((request) =>
  JSON.stringify(request.messages).includes('charged twice') ? '{"team":"billing","urgent":true}' : '{"team":"shipping","urgent":false}',
);

const store = await openStateStore(); // the local store under .troupe/ (or Redis when REDIS_URL is set)
const summary = await tickets.run(
  [
    { id: 'T-1', input: { customer: ' Ada ', text: 'I was   charged twice for order 1001.' } },
    { id: 'T-2', input: { customer: 'Linus', text: 'When does order 1002 ship?' } },
  ],
  { store, model },
);
console.log(summary.status, summary.counts);
for (const item of summary.items) console.log(item.id, item.state, item.outputs.triage);
await store.close();
// #endregion
