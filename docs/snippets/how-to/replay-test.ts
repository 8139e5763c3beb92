// A test on a recorded cassette: the quickstart's agent answers from examples/cassettes/quickstart.json,
// offline and the same every time. Change what the model would be sent and the cassette no longer
// matches: the test fails with ReplayMissError instead of guessing.
import assert from 'node:assert/strict';
import { z } from 'zod';
import { Agent, defineTool, maxTurns, ReplayMissError, ReplayModel } from 'troupe';

const orders: Record<string, object> = { 'A-1001': { status: 'shipped', carrier: 'DHL', eta: '2026-11-24' } };

const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Looks up an order by its id.',
  input: z.object({ orderId: z.string().describe('Order id such as A-1001') }),
  run: ({ orderId }) => orders[orderId] ?? { error: `No order ${orderId}` },
});

// #region replay
const support = new Agent({
  name: 'support',
  instructions: 'You answer customers about their orders. Look the order up; never guess.',
  tools: [lookupOrder],
  output: z.object({ orderId: z.string(), status: z.enum(['processing', 'shipped', 'delivered', 'unknown']), reply: z.string() }),
  model: new ReplayModel({ cassette: 'examples/cassettes/quickstart.json', mode: 'replay' }),
  termination: maxTurns(6),
});

const result = await support.run('Hi, where is my order A-1001?');
assert.equal(result.status, 'finished');
assert.equal(result.output?.status, 'shipped');
console.log('replayed:', result.output);

// New instructions are a new request: nothing was recorded for it.
const reworded = support.with({ instructions: 'You answer customers about their orders.' });
const error = await reworded.run('Hi, where is my order A-1001?').catch((caught: unknown) => caught);
assert.ok(error instanceof ReplayMissError);
console.log(`${error.code}: ${error.cassette} has no recording for the reworded agent`);
// #endregion
