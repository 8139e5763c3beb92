// Two of a handler's trigger sources, in code: a queue (each message a `queue` trigger) and a
// schedule (a `schedule` trigger on every tick). `troupe serve` and `troupe worker --handler` do
// the same from configuration files. A scripted model stands in for the llm coordinator.
import { z } from 'zod';
import { defineConfiguration, defineTool, Handler, openRuntime, schedule, type HandlerOutcome } from 'troupe';
import { enqueueTrigger, serveTriggerQueues } from 'troupe/workers';
import { reply, scriptedModel } from 'troupe/testing';

const labels: string[] = [];
const labelTicket = defineTool({
  name: 'label_ticket',
  description: 'Puts a label on a ticket.',
  input: z.object({ id: z.string(), label: z.enum(['bug', 'question']) }),
  sideEffects: 'external',
  run: ({ id, label }) => {
    labels.push(`${id}=${label}`);
    return 'ok';
  },
});
const tools = { label_ticket: labelTicket };

// #region configurations
const triage = defineConfiguration(
  {
    name: 'ticket-triage',
    trigger: { kind: 'queue', source: 'tickets' },
    prompt: 'Label the ticket in the message as a bug or a question with label_ticket.',
    tools: ['label_ticket'],
    final_answer: 'discard',
  },
  { tools },
);
const digest = defineConfiguration({
  name: 'nightly-digest',
  trigger: { kind: 'schedule', source: 'nightly', every: '24h' },
  prompt: 'Write a one-line digest of the day.',
});
// #endregion

// The "model": label a ticket when asked to, then finish; the digest just finishes.
const model = scriptedModel((request) => {
  const last = request.messages.at(-1)!;
  if (request.tools?.some((tool) => tool.name === 'label_ticket') && last.role === 'user')
    return reply.toolCall('label_ticket', { id: 'T-7', label: /crash/.test(String(last.content)) ? 'bug' : 'question' });
  return reply.finish({ answer: last.role === 'tool' ? 'Labelled.' : 'A quiet day: one ticket, labelled.' });
});

// #region sources
const runtime = await openRuntime();
const handler = new Handler({ configurations: [triage, digest], tools, model, store: runtime.store });
const show = (outcome: HandlerOutcome) =>
  console.log(
    `${outcome.configuration}: ${outcome.status}, ${outcome.toolCalls.length} tool calls, answer ${outcome.disposition}${outcome.answer ? `: ${outcome.answer}` : ''}`,
  );

// Queue triggers: every message on troupe-trigger-tickets becomes a `queue` trigger.
const served = await serveTriggerQueues(handler, { queue: runtime.queue, onOutcome: show });
const tickets = served.queues.get('tickets')!;
await enqueueTrigger(tickets, 'tickets', { text: 'The app crashes on start' }, { id: 'T-7' });
await tickets.waitUntilIdle({ timeoutMs: 10_000 });

// A schedule trigger: a tick every `everyMs`, never two runs at once (here: stop after the first).
let nightly: ReturnType<typeof schedule> | undefined;
await new Promise<void>((ticked) => {
  nightly = schedule(handler, { name: 'nightly', everyMs: 50, onOutcome: (outcome) => (show(outcome), ticked()) });
});
await nightly?.stop();
// #endregion

console.log(`labels: ${labels.join(', ')}`);
await served.close();
await runtime.store.close();
