import { z } from 'zod';
import { Agent, defineTool } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const add = defineTool({
  name: 'add',
  description: 'Adds two numbers.',
  input: z.object({ a: z.number(), b: z.number() }),
  run: ({ a, b }) => a + b,
});

const calculator = new Agent({
  name: 'calculator',
  description: 'Does arithmetic with its tools.', // the line managers choose by
  instructions: 'Do the work you are asked with your tools, check your results, and report exactly what you did.',
  tools: [add],
  output: z.object({ total: z.number() }),
  model: scriptedModel([reply.toolCall('add', { a: 17, b: 25 }), reply.finish({ total: 42 })]),
});

const result = await calculator.run('What is 17 + 25? Use the tool.');
console.log(result.status === 'finished' ? result.output.total : result.stop);
console.log(calculator.tools.names); // its own tools and its finish tool
