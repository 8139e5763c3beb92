// A crew tested offline: a scripted model plays every agent, and the test asserts on the result,
// on what the model was shown, and on the trace. The same assertions work in vitest with `expect`.
import assert from 'node:assert/strict';
import { z } from 'zod';
import { Agent, defineTask, defineTool, sequentialCrew } from 'troupe';
import { collectTrace, reply, scriptedModel } from 'troupe/testing';

// #region crew
const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Looks up an order by its id.',
  input: z.object({ orderId: z.string() }),
  run: ({ orderId }) => ({ orderId, status: 'shipped', carrier: 'DHL' }),
});

const support = new Agent({ name: 'support', instructions: 'Look the order up; never guess.', tools: [lookupOrder] });
const writer = new Agent({ name: 'writer', instructions: 'Write a short, friendly reply to the customer.' });

const crew = sequentialCrew({
  name: 'order-desk',
  agents: [support, writer],
  tasks: [
    defineTask({
      name: 'find-order',
      agent: 'support',
      description: 'Find the order the customer asks about.',
      expectedOutput: z.object({ orderId: z.string(), status: z.string() }),
    }),
    defineTask({
      name: 'answer',
      agent: 'writer',
      description: 'Answer the customer.',
      expectedOutput: 'One or two sentences.',
      context: ['find-order'],
    }),
  ],
});
// #endregion

// #region test
// One scripted model for the whole crew: its replies are used in order, across agents.
const model = scriptedModel([
  reply.toolCall('lookup_order', { orderId: 'A-1001' }),
  reply.finish({ orderId: 'A-1001', status: 'shipped' }),
  // A task whose expected output is words finishes with { result: text }.
  reply.finish({ result: 'Good news: order A-1001 has shipped with DHL.' }),
]);
const trace = collectTrace();

const result = await crew.run('Where is my order A-1001?', { model, trace });

// The result: finished, with the last task's output.
assert.equal(result.status, 'finished');
assert.equal(result.output, 'Good news: order A-1001 has shipped with DHL.');

// What the model was shown: its second call carries the tool's result.
const toolMessage = model.calls[1]!.messages.at(-1);
assert.equal(toolMessage?.role, 'tool');
assert.match(JSON.stringify(toolMessage), /shipped/);

// The trace: the tool ran once, and both tasks ended finished, in order.
const toolCalls = trace.events.filter((event) => event.type === 'tool-call-end');
assert.equal(toolCalls.length, 1);
const tasks = trace.events.flatMap((event) => (event.type === 'task-end' ? [`${event.task}: ${event.status}`] : []));
assert.deepEqual(tasks, ['find-order: finished', 'answer: finished']);
// #endregion

console.log(`${result.status}: ${result.output}`);
console.log(`model calls: ${model.calls.length}; tasks: ${tasks.join(', ')}`);
console.log(`trace events: ${[...new Set(trace.events.map((event) => event.type))].join(', ')}`);
