// #region stream
import { Agent } from 'troupe';
import { scriptedModel } from 'troupe/testing';

const haiku = 'Jobs wait in the queue / one worker takes each in turn / the queue empties out';
const model = scriptedModel([
  { text: 'Drafting a haiku. ' },
  { text: 'One more pass. ', toolCalls: [{ name: 'finish', input: { result: haiku } }] }, // a string result travels as { result }
]);
const poet = new Agent({ name: 'poet', instructions: 'You write haiku.', model });

// The run's trace events as they happen, the model's text among them, then the result.
for await (const event of poet.stream('A haiku about job queues.')) {
  if (event.type === 'model-text-delta') console.log(`text:      ${JSON.stringify(event.text)}`);
  else if (event.type === 'model-tool-call-delta') console.log(`tool call: ${event.tool}`);
  else if (event.type === 'run-end') console.log(`result:    ${event.result.output}`);
}
// #endregion

// #region on-delta
// Below the agent: any model client takes onDelta and still returns the whole response.
// (Scripted and replay models deliver their reply whole, as one delta per part.)
const direct = scriptedModel(['Hello from the model.']);
const response = await direct.generate({ messages: [{ role: 'user', content: 'Say hello.' }] }, { onDelta: (delta) => console.log('delta:', delta) });
console.log('whole:', response.content);
// #endregion
