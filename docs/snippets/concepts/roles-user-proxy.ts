// #region human
import { Agent, type HumanInput, twoAgentCrew, UserProxy } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

// A person in the proxy's seat. terminalHumanInput() asks on stdin/stdout; any object with
// ask(prompt) works, such as one that forwards to a chat UI. This one replays what a person typed.
const typed = ['Make it about message queues.', '/accept A 5-7-5 haiku about message queues.'];
const person: HumanInput = {
  ask: async (prompt) => {
    const answer = typed.shift() ?? '/fail no answer';
    console.log(`${prompt}${answer}\n`);
    return answer;
  },
};

const poet = new Agent({
  name: 'poet',
  instructions: 'You write poems.',
  model: scriptedModel([
    reply.finish({ result: 'Queues hold the work / one consumer takes each job / the backlog shrinks' }),
    reply.finish({ result: 'Messages wait / in the queue, in order / one by one they go' }),
  ]),
});
const chat = twoAgentCrew({
  name: 'haiku',
  assistant: poet,
  userProxy: new UserProxy({ goal: 'A haiku about message queues, 5-7-5.', humanInput: person }),
});

const result = await chat.run('Write a haiku.');
console.log(result.status, result.output);
// #endregion
