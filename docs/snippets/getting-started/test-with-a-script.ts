// What a test of an agent checks, on a scripted model: the result, what the model was shown, the trace.
import assert from 'node:assert/strict';
import { z } from 'zod';
import { Agent, defineTool } from 'troupe';
import { collectTrace, reply, scriptedModel } from 'troupe/testing';

const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Looks up an order by its id.',
  input: z.object({ orderId: z.string() }),
  run: ({ orderId }) => ({ orderId, status: 'shipped' }),
});
const support = new Agent({
  name: 'support',
  instructions: 'Look the order up; never guess.',
  tools: [lookupOrder],
  output: z.object({ orderId: z.string(), status: z.string() }),
});

// #region test
const model = scriptedModel([reply.toolCall('lookup_order', { orderId: 'A-1001' }), reply.finish({ orderId: 'A-1001', status: 'shipped' })]);
const trace = collectTrace();
const result = await support.run('Where is A-1001?', { model, trace });

assert.equal(result.status, 'finished');
assert.deepEqual(result.output, { orderId: 'A-1001', status: 'shipped' });
// What the model saw on its second call: the tool's result.
assert.equal(model.calls[1]!.messages.at(-1)!.role, 'tool');
console.log(
  'events:',
  trace.events.map((event) => event.type),
);
// #endregion
