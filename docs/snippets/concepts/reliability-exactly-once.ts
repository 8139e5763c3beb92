// A trigger delivered twice (a webhook sender's retry, a queue job redelivered after a worker
// died) sends its email once: the outbox answers the repeated call from its record.
import { z } from 'zod';
import { Handler, defineConfiguration, defineTool, openStateStore } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

// #region tool
const sent: string[] = [];
const sendEmail = defineTool({
  name: 'send_email',
  description: 'Sends an email.',
  input: z.object({ to: z.string(), subject: z.string() }),
  sideEffects: 'external', // recorded in the outbox the moment the call ends
  run: ({ to, subject }, context) => {
    // Pass the key on to the mail service, so that it can refuse a repeat the outbox never saw.
    sent.push(`${to}: ${subject} (Idempotency-Key ${context.idempotencyKey?.slice(0, 14)}…)`);
    return `sent to ${to}`;
  },
});
// #endregion

const configuration = defineConfiguration(
  {
    name: 'welcome',
    trigger: { kind: 'event', source: 'signup' },
    prompt: 'Welcome each new customer by email.',
    tools: ['send_email'],
  },
  { tools: [sendEmail] },
);

// #region deliver
const store = await openStateStore(); // the outbox lives in the store: here TROUPE_HOME's SQLite file
const handler = new Handler({ configurations: [configuration], tools: [sendEmail], store });
const trigger = { kind: 'event', id: 'signup-77', source: 'signup', data: { email: 'ada@example.com' } } as const;

for (const delivery of [1, 2]) {
  // Each delivery is a new run, whose model makes the same call again.
  const model = scriptedModel([
    reply.toolCall('send_email', { to: 'ada@example.com', subject: 'Welcome!' }),
    reply.finish({ answer: 'welcomed ada@example.com' }),
  ]);
  const outcome = await handler.handle(trigger, { model });
  console.log(`delivery ${delivery}: ${outcome.status}, ${outcome.toolCalls.map((call) => `${call.tool} = ${call.output}`).join('; ')}`);
}
console.log(`emails actually sent: ${sent.length}`);
for (const email of sent) console.log(`  ${email}`);
await store.close();
// #endregion
