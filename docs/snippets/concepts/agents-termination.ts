// #region conditions
import { z } from 'zod';
import { Agent, defineTool, maxToolCalls, maxTurns, type TerminationCondition, textMention, timeout, tokenBudget } from 'troupe';
import { scriptedModel } from 'troupe/testing';

const ping = defineTool({
  name: 'ping',
  description: 'Checks that a host answers.',
  input: z.object({ host: z.string() }),
  run: ({ host }) => `${host} answered`,
});

// A model that never finishes: it pings one host after another, saying so (each call ~1,000 tokens).
const restless = () =>
  scriptedModel((_request, index) => ({
    text: `Checking host ${index + 1}.`,
    toolCalls: [{ name: 'ping', input: { host: `10.0.0.${index + 1}` } }],
    usage: { inputTokens: 900 + 50 * index, outputTokens: 40 },
  }));

const watcher = (termination: TerminationCondition) =>
  new Agent({ name: 'watcher', instructions: 'Check the hosts.', tools: [ping], model: restless(), termination });

for (const termination of [
  maxTurns(3),
  maxTurns(20).or(maxToolCalls(4)),
  maxTurns(20).or(tokenBudget(3_000)), // the call that would pass it is not made
  textMention('host 2'),
  maxTurns(2).and(textMention('host 4')), // both must hold: the run goes on to turn 4
]) {
  const result = await watcher(termination).run('Check the hosts.');
  console.log(`${termination.name}: ${result.status} after ${result.turns} calls, ${result.toolCalls} tool calls`);
  if (result.status === 'stopped') console.log(`  ${result.stop.condition}: ${result.stop.reason}`, result.stop.detail);
}
// #endregion

// #region per-run
// A run can bring its own limits; either the agent's or the run's stops it.
const result = await watcher(maxTurns(50)).run('Check the hosts.', { termination: maxTurns(2).or(timeout(60_000)) });
console.log(result.stop);
// #endregion
