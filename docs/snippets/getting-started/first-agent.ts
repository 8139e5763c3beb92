// #region agent
import { z } from 'zod';
import { Agent, defineTool, maxTurns } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const orders: Record<string, { status: string; carrier: string }> = {
  'A-1001': { status: 'shipped', carrier: 'DHL' },
};

// A tool: a name, what it does (the model reads this), a zod schema for its input, and code.
const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Looks up an order by its id.',
  input: z.object({ orderId: z.string().describe('Order id such as A-1001') }),
  run: ({ orderId }) => orders[orderId] ?? { error: `No order ${orderId}` },
});

const support = new Agent({
  name: 'support',
  instructions: 'You answer customers about their orders. Look the order up; never guess.',
  tools: [lookupOrder],
  // The finish tool's arguments must match this schema: it is the run's typed output.
  output: z.object({ orderId: z.string(), status: z.enum(['processing', 'shipped', 'delivered', 'unknown']), reply: z.string() }),
  termination: maxTurns(4),
});
// #endregion

// #region run
// A scripted model plays the LLM: it calls the tool, then the finish tool.
const model = scriptedModel([
  reply.toolCall('lookup_order', { orderId: 'A-1001' }),
  reply.finish({ orderId: 'A-1001', status: 'shipped', reply: 'Your order A-1001 has shipped with DHL.' }),
]);

const result = await support.run('Where is my order A-1001?', { model });
if (result.status === 'finished') {
  console.log(result.output); // typed: { orderId: string; status: ...; reply: string }
  console.log(result.stop, `after ${result.turns} model calls and ${result.toolCalls} tool call`);
}
// #endregion

// #region stopped
// A model that never finishes: it keeps looking the order up. maxTurns(4) stops it.
const stubborn = scriptedModel(() => reply.toolCall('lookup_order', { orderId: 'A-1001' }));
const stopped = await support.run('Where is my order A-1001?', { model: stubborn });
if (stopped.status === 'stopped') {
  console.log(stopped.status, stopped.output, stopped.stop);
}
// #endregion
