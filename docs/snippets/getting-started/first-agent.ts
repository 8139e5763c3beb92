// #region agent
import { z } from 'zod';
import { Agent, defineTool } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Looks up an order by its id.',
  input: z.object({ orderId: z.string() }),
  run: ({ orderId }) => ({ orderId, status: 'shipped', carrier: 'DHL' }),
});

// A scripted model plays the LLM: it calls the tool, then the finish tool.
const model = scriptedModel([reply.toolCall('lookup_order', { orderId: 'A-1001' }), reply.finish({ orderId: 'A-1001', status: 'shipped' })]);

const support = new Agent({
  name: 'support',
  instructions: 'You answer customers about their orders. Look the order up; never guess.',
  tools: [lookupOrder],
  output: z.object({ orderId: z.string(), status: z.enum(['processing', 'shipped', 'delivered']) }),
  model,
});

const result = await support.run('Where is my order A-1001?');
console.log(result.status === 'finished' ? result.output : result.stop);
// #endregion
