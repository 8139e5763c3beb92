import { z } from 'zod';
import { Agent, costBudget, defineTool, registerPrice } from 'troupe';
import { scriptedModel } from 'troupe/testing';

// #region usage
// A price per million tokens, for a model that has none in the built-in table.
registerPrice('scripted:support', { inputPerMillion: 3, outputPerMillion: 15 });

const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Looks up an order by its id.',
  input: z.object({ orderId: z.string() }),
  run: ({ orderId }) => ({ orderId, status: 'shipped' }),
});

const model = scriptedModel(
  [
    // Scripted replies may say what they cost in tokens, as a provider's would.
    { toolCalls: [{ name: 'lookup_order', input: { orderId: 'A-1001' } }], usage: { inputTokens: 1200, outputTokens: 40 } },
    { toolCalls: [{ name: 'finish', input: { status: 'shipped' } }], usage: { inputTokens: 1300, outputTokens: 25 } },
  ],
  { id: 'scripted:support' },
);
const support = new Agent({
  name: 'support',
  instructions: 'Look the order up; never guess.',
  tools: [lookupOrder],
  output: z.object({ status: z.string() }),
  model,
  termination: costBudget(0.05), // USD; refused at the start for a model without a price
});

const result = await support.run('Where is order A-1001?');
const { runId: _runId, transcript, durationMs: _durationMs, ...figures } = result;
console.log(figures);
console.log(`${transcript.length} messages in the transcript`);
// #endregion
