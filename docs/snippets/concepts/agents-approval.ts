// #region tool
import { z } from 'zod';
import { Agent, type Approver, AwaitingReviewError, defineTool } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const issueRefund = defineTool({
  name: 'issue_refund',
  description: 'Refunds an order, in euros.',
  input: z.object({ orderId: z.string(), amount: z.number().positive() }),
  run: ({ orderId, amount }) => `refunded ${amount} EUR on ${orderId}`,
  needsApproval: ({ amount }) => amount > 100, // small refunds go through
  sideEffects: 'external',
});

const script = () =>
  scriptedModel([
    reply.toolCall('issue_refund', { orderId: 'A-1001', amount: 240 }),
    reply.finish({ result: 'I could not refund the order: a receipt is needed first.' }), // a string result travels as { result }
  ]);
const agent = () => new Agent({ name: 'refunds', instructions: 'Handle refund requests.', tools: [issueRefund], model: script() });
// #endregion

// #region no-approver
// No approver: the run stops and waits for a person (the CLI exits 3; a workflow persists a review).
try {
  await agent().run('Refund order A-1001, 240 EUR.');
} catch (error) {
  if (!(error instanceof AwaitingReviewError)) throw error;
  console.log(error.code, error.exitCode, error.message);
  console.log(error.approval?.tool, error.approval?.input);
}
// #endregion

// #region person
// An approver is where a person's decision comes in: here one who says no, with a reason.
// The model never approves anything; a rejection's note goes back to it as the tool's result.
const person: Approver = (request) => {
  console.log(`asked: may ${request.agent} call ${request.tool}`, request.input, '?');
  return { approved: false, note: 'refunds over 100 EUR need the receipt.', by: 'dana@support' };
};
const result = await agent().run('Refund order A-1001, 240 EUR.', { approver: person });
const toolResult = result.transcript.find((message) => message.role === 'tool');
console.log(toolResult?.content[0]?.output);
console.log(result.output);
// #endregion
