// One configuration, two coordinators: a model choosing among the approved tools (llm), then
// reviewed code using the very same tools, trigger and files (script).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Handler, type HandlerOutcome, type Trigger, defineConfiguration, defineTool } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

// #region configuration
const lookupCustomer = defineTool({
  name: 'lookup_customer',
  description: 'Looks up the customer who opened a ticket.',
  input: z.object({ ticket: z.string() }),
  sideEffects: 'read',
  run: ({ ticket }) => ({ ticket, customer: 'Acme', plan: 'enterprise' }),
});
const addLabel = defineTool({
  name: 'add_label',
  description: 'Adds a label to a ticket.',
  input: z.object({ ticket: z.string(), label: z.enum(['urgent', 'normal']) }),
  sideEffects: 'external',
  run: ({ ticket, label }) => `${ticket} is now ${label}`,
});

const configuration = defineConfiguration(
  {
    name: 'triage',
    trigger: { kind: 'event', source: 'helpdesk', match: { 'data.type': 'ticket.created' } },
    prompt: 'Label each new ticket urgent (enterprise customers, outages) or normal.',
    tools: ['lookup_customer', 'add_label'],
    limits: { max_tool_calls: 4, max_turns: 6 },
    final_answer: 'used',
    coordinator: 'llm',
    coordinator_script: './_coordinator-triage.js',
  },
  // coordinator_script is relative to `dir`: here the compiled script beside this program.
  // Tools are checked by name against the registered ones.
  { tools: [lookupCustomer, addLabel], dir: dirname(fileURLToPath(import.meta.url)) },
);
// #endregion

// #region handle
const handler = new Handler({ configurations: [configuration], tools: [lookupCustomer, addLabel] });

const trigger: Trigger = {
  kind: 'event',
  id: 'ticket-1042',
  source: 'helpdesk',
  data: { type: 'ticket.created', ticket: 'T-1042' },
  files: [{ name: 'ticket.txt', uri: 'data:,Checkout%20is%20down%20for%20all%20our%20users' }],
};

// The llm coordinator: a scripted model plays the LLM here.
const model = scriptedModel([
  reply.toolCall('lookup_customer', { ticket: 'T-1042' }),
  reply.toolCall('add_label', { ticket: 'T-1042', label: 'urgent' }),
  reply.finish({ answer: 'T-1042 labelled urgent' }),
]);
show(await handler.handle(trigger, { coordinator: 'llm', model }));

// The script coordinator: the same trigger and tools, no model at all.
show(await handler.handle(trigger, { coordinator: 'script' }));

// A trigger no configuration handles is an outcome too, with the reason.
show(await handler.handle({ kind: 'event', id: 'ping-1', source: 'helpdesk', data: { type: 'ping' } }));
// #endregion

function show(outcome: HandlerOutcome): void {
  console.log(`[${outcome.coordinator ?? 'none'}] ${outcome.status}: ${outcome.why}`);
  for (const call of outcome.toolCalls) console.log(`  ${call.by} → ${call.tool} ${JSON.stringify(call.input)} = ${call.output}`);
  if (outcome.answer !== undefined) console.log(`  answer (${outcome.disposition}): ${outcome.answer}`);
  console.log(`  files listed: ${outcome.files.listed.join(', ') || 'none'}; read: ${outcome.files.read}`);
}
