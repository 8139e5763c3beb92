// A script coordinator that uses a model only where it chooses to, through `subagent`.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Handler, defineConfiguration, defineTool } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const addLabel = defineTool({
  name: 'add_label',
  description: 'Adds a label to a ticket.',
  input: z.object({ ticket: z.string(), label: z.enum(['urgent', 'normal']) }),
  sideEffects: 'external',
  run: ({ ticket, label }) => `${ticket} is now ${label}`,
});

const configuration = defineConfiguration(
  {
    name: 'severity',
    trigger: { kind: 'event', source: 'helpdesk' },
    prompt: 'Label urgent tickets.',
    tools: ['add_label'],
    coordinator: 'script',
    coordinator_script: './_coordinator-summary.js',
  },
  { tools: [addLabel], dir: dirname(fileURLToPath(import.meta.url)) },
);

// The subagent's model: it reads the file, then finishes with the schema's fields.
const model = scriptedModel([
  reply.toolCall('read_file', { name: 'ticket.txt' }),
  reply.finish({ severity: 'high', reason: 'checkout is down for every user' }),
]);

const handler = new Handler({ configurations: [configuration], tools: [addLabel], model });
const outcome = await handler.handle({
  kind: 'event',
  id: 'ticket-1043',
  source: 'helpdesk',
  data: { ticket: 'T-1043' },
  files: [{ name: 'ticket.txt', uri: 'data:,Checkout%20is%20down%20for%20every%20user' }],
});
for (const call of outcome.toolCalls) console.log(`${call.by} → ${call.tool} ${JSON.stringify(call.input)}`);
console.log(`${outcome.status}: ${outcome.answer} (${model.calls.length} model calls)`);
