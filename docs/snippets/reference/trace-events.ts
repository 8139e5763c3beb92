// The trace of an agent run: every event a sink receives, in order, with a few of its fields.
import { z } from 'zod';
import { Agent, defineTool, type TraceEvent } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Looks up an order by its id.',
  input: z.object({ orderId: z.string() }),
  run: ({ orderId }) => ({ orderId, status: 'shipped' }),
});

const support = new Agent({
  name: 'support',
  instructions: 'Look the order up, then answer with its status.',
  tools: [lookupOrder],
  output: z.object({ status: z.string() }),
  model: scriptedModel([reply.toolCall('lookup_order', { orderId: 'A-1001' }), reply.finish({ status: 'shipped' })]),
});

// #region sink
const events: TraceEvent[] = [];
await support.run('Where is order A-1001?', { trace: (event) => events.push(event) });

for (const event of events) {
  switch (event.type) {
    case 'model-call-end':
      console.log(`${event.type}  turn ${event.turn}, ${event.toolCalls} tool call(s), stop ${event.stopReason}`);
      break;
    case 'tool-call-start':
      console.log(`${event.type}  ${event.tool} ${JSON.stringify(event.input)}`);
      break;
    case 'tool-call-end':
      console.log(`${event.type}  ${event.tool} → ${event.output}`);
      break;
    case 'agent-finish':
      console.log(`${event.type}  ${JSON.stringify(event.output)}`);
      break;
    default:
      console.log(`${event.type}  (agent ${event.agent})`);
  }
}
// #endregion
