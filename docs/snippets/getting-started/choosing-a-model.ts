import { Agent, defaultModel, registerModel, registerPrice } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const agent = new Agent({ name: 'greeter', instructions: 'Greet the user in one sentence.' });

// #region no-model
// No model on the agent, none for the run, no TROUPE_MODEL: refused before any call, never a guess.
await agent.run('Hello').catch((error: Error) => console.log(`${error.name}: ${error.message}`));
// #endregion

// #region no-key
// A live model without its key fails at its first call, naming the variable to set.
await agent.run('Hello', { model: defaultModel }).catch((error: Error) => console.log(`${error.name}: ${error.message}`));
// #endregion

// #region troupe-model
// TROUPE_MODEL names the model of every run that names none (usually set in the shell, not in code).
registerModel(
  'greetings',
  scriptedModel(() => reply.finish({ result: 'Hello, and welcome!' }), { id: 'openai:my-local-model' }),
);
process.env.TROUPE_MODEL = 'scripted:greetings';
// #endregion

// #region price
// Costs come from a price table of Anthropic's and OpenAI's list prices; add your own models to it.
registerPrice('openai:my-local-model', { inputPerMillion: 0.5, outputPerMillion: 1.5 });
const result = await agent.run('Hello');
console.log(result.output, `(${result.model}: ${result.usage.inputTokens}+${result.usage.outputTokens} tokens, ${result.costUsd} USD)`);
// #endregion
