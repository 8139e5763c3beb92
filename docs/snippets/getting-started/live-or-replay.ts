// The quickstart agent (examples/quickstart.ts): live with ANTHROPIC_API_KEY set, else its recorded cassette.
import { z } from 'zod';
import { Agent, defaultModel, defineTool, liveOrReplay, maxTurns } from 'troupe';

const orders: Record<string, object> = { 'A-1001': { status: 'shipped', carrier: 'DHL', eta: '2026-11-24' } };

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
  output: z.object({ orderId: z.string(), status: z.enum(['processing', 'shipped', 'delivered', 'unknown']), reply: z.string() }),
  // #region choose
  // defaultModel is the live model the examples name; without its key this replays the cassette and says so on stderr.
  model: liveOrReplay(defaultModel, 'examples/cassettes/quickstart.json'),
  // #endregion
  termination: maxTurns(6),
});

const result = await support.run('Hi, where is my order A-1001?');
console.log(result.status === 'finished' ? result.output : result.stop);
console.log(`model ${result.model}, ${result.usage.inputTokens}+${result.usage.outputTokens} tokens, ${result.costUsd.toFixed(4)} USD`);
