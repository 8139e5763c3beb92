// A tool marked needsApproval, called by an agent inside a workflow: the item waits for a person,
// whatever the model says; once approved, the step runs again and the call goes through, once.
import { z } from 'zod';
import { Agent, agentTask, decideReview, defineTool, defineWorkflow, listReviews, openStateStore } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

// #region tool
const sendEmail = defineTool({
  name: 'send_email',
  description: 'Sends an email to a customer.',
  input: z.object({ to: z.string(), body: z.string() }),
  needsApproval: true, // a person decides every call; a model cannot
  sideEffects: 'external', // done once: a repeated step is answered from the run's record
  run: ({ to }) => {
    console.log(`  (the email to ${to} is sent)`);
    return { sent: true };
  },
});

const mailer = new Agent({
  name: 'mailer',
  instructions: 'Write to the customer about their delayed order, then finish.',
  tools: [sendEmail],
});

const notify = agentTask({
  name: 'notify',
  input: z.object({ email: z.string() }),
  output: z.object({ sent: z.boolean() }),
  agent: mailer,
  prompt: ({ email }) => `Tell ${email} that order 1001 ships on Monday.`,
});
// #endregion

// The scripted model calls send_email, and finishes once it has the tool's answer.
const model = scriptedModel((request) =>
  request.messages.at(-1)?.role === 'tool'
    ? reply.finish({ sent: true })
    : reply.toolCall('send_email', { to: 'ada@example.com', body: 'Your order 1001 ships on Monday.' }),
);

const workflow = defineWorkflow({ name: 'delays', input: z.object({ email: z.string() }), tasks: [notify] });
const store = await openStateStore();
const first = await workflow.run([{ id: 'ada', input: { email: 'ada@example.com' } }], { store, model });
const [review] = await listReviews(store, { runId: first.runId });
console.log(`${first.status}: [${review!.kind}, ${review!.policy}] ${review!.what}`);

await decideReview(store, review!.id, { approved: true, by: 'dana', note: 'date confirmed with the warehouse' });
const second = await workflow.resume(first.runId, { store, model });
console.log(`${second.status}:`, second.items[0]?.outputs.notify);
await store.close();
