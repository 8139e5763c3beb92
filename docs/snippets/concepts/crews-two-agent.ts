// #region chat
import { Agent, twoAgentCrew, UserProxy } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const assistant = new Agent({
  name: 'coder',
  instructions: 'You write TypeScript functions.',
  model: scriptedModel([
    reply.finish({ result: 'export const slug = (s: string) => s.toLowerCase().replace(/ /g, "-");' }),
    reply.finish({ result: 'export const slug = (s: string) => s.trim().toLowerCase().replace(/[^a-z0-9]+/g, "-");' }),
  ]),
});
// Only the proxy knows the goal: it writes the request, reviews each answer, replies, accepts or fails.
const userProxy = new UserProxy({
  goal: 'A slug function that also drops punctuation and surrounding spaces.',
  model: scriptedModel([
    reply.toolCall('reply', { message: 'Write slug(s): a URL slug of a title.' }),
    reply.toolCall('reply', { message: 'Punctuation and surrounding spaces must go too.' }),
    reply.toolCall('accept', { summary: 'slug() lower-cases, trims and keeps only letters, digits and dashes.' }),
  ]),
});

const chat = twoAgentCrew({ name: 'slugs', assistant, userProxy, maxRounds: 5 });
// No input: the proxy writes the first request. Each agent-finish event is one turn of the conversation.
const result = await chat.run(undefined, {
  trace: (event) => {
    if (event.type === 'agent-finish') console.log(`${event.agent}: ${JSON.stringify(event.output)}`);
  },
});
console.log(result.status, result.output);
// #endregion
