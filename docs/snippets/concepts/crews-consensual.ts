// #region panel
import { z } from 'zod';
import { Agent, consensualCrew, type ModelRequest } from 'troupe';
import { scriptedModel } from 'troupe/testing';

const Choice = z.object({ choice: z.string(), reasons: z.array(z.string()) });
const proposals: Record<string, z.infer<typeof Choice>> = {
  pragmatist: { choice: 'BullMQ on Redis', reasons: ['we run Redis already'] },
  skeptic: { choice: 'Postgres (SKIP LOCKED)', reasons: ['one less system'] },
  operator: { choice: 'SQS', reasons: ['nothing to operate'] },
};
const votes: Record<string, string> = { pragmatist: 'operator', skeptic: 'operator', operator: 'pragmatist' };

// Each member answers the phase it is in: the finish tool it is offered names the phase.
const panelist = (name: string) =>
  new Agent({
    name,
    role: `the ${name} of an architecture review`,
    model: scriptedModel((request: ModelRequest) => {
      const offered = (request.tools ?? []).map((tool) => tool.name);
      const others = Object.keys(proposals).filter((other) => other !== name);
      const call = (tool: string, input: unknown) => ({ toolCalls: [{ name: tool, input }] });
      if (offered.includes('propose')) return call('propose', proposals[name]);
      if (offered.includes('critique'))
        return call('critique', { critiques: others.map((of) => ({ of, critique: `${of}: what does it cost at 2,000 jobs a minute?` })) });
      if (offered.includes('revise')) return call('revise', { ...proposals[name], reasons: [...proposals[name]!.reasons, 'costed at 2,000 jobs a minute'] });
      return call('vote', { vote: votes[name], reason: 'cheapest to run at that rate' });
    }),
  });

const panel = consensualCrew({
  name: 'queue-choice',
  agents: ['pragmatist', 'skeptic', 'operator'].map(panelist),
  output: Choice,
  maxRounds: 2, // then a judge (when given) picks; without one the crew stops with no-consensus
});

const result = await panel.run('Pick a job queue for 2,000 jobs a minute: BullMQ on Redis, SQS or Postgres.', {
  trace: (event) => {
    if (event.type === 'task-end') console.log(`${event.task}: ${event.agent} ${event.status}`);
  },
});
console.log(result.rounds.map((round) => ({ round: round.round, tally: round.tally, winner: round.winner })));
console.log(result.decision);
console.log(result.output);
// #endregion
