import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, ConfigurationError, type ModelRequest, type ToolMessage } from 'troupe';
import { collectTrace, reply, scriptedModel, type ScriptedReply } from 'troupe/testing';
import { consensualCrew } from '../../src/crew/consensual.js';

interface Plan {
  /** The first proposal (a string proposal travels as `{ result }`). */
  propose: unknown;
  /** The revision of each round, from 1; default: the proposal with " v<round+1>". */
  revise?: (round: number) => unknown;
  /** Whom to vote for in each round, from 1. */
  votes?: string[];
  /** Replaces the whole answer for a finish tool (to script failures). */
  override?: Partial<Record<'propose' | 'critique' | 'revise' | 'vote' | 'pick_winner', (index: number) => ScriptedReply>>;
}

const userText = (request: ModelRequest | undefined) => {
  const message = request?.messages.find((m) => m.role === 'user');
  return message?.role === 'user' ? message.content : '';
};
const roundOf = (request: ModelRequest) => Number(/round (\d+)/.exec(userText(request))?.[1] ?? 1);
const wrap = (value: unknown) => (typeof value === 'string' ? { result: value } : value);

/** A member whose scripted model answers by phase: the only tool it is offered names the phase. */
function member(name: string, plan: Plan) {
  const model = scriptedModel((request, index) => {
    const tool = request.tools?.[0]?.name as 'propose' | 'critique' | 'revise' | 'vote';
    const override = plan.override?.[tool];
    if (override) return override(index);
    const round = roundOf(request);
    switch (tool) {
      case 'propose':
        return reply.finish(wrap(plan.propose), 'propose');
      case 'critique': {
        const schema = request.tools![0]!.inputSchema as { properties: { critiques: { items: { properties: { of: { enum: string[] } } } } } };
        const others = schema.properties.critiques.items.properties.of.enum;
        return reply.finish({ critiques: others.map((of) => ({ of, critique: `${name} on ${of}, round ${round}` })) }, 'critique');
      }
      case 'revise':
        return reply.finish(wrap(plan.revise ? plan.revise(round) : `${String(plan.propose)} v${round + 1}`), 'revise');
      case 'vote':
        return reply.finish({ vote: plan.votes?.[round - 1], reason: `${name} likes it` }, 'vote');
    }
    throw new Error(`unexpected tool ${String(tool)}`);
  });
  return { agent: new Agent({ name, description: `${name} proposes`, instructions: `You are ${name}.`, model }), model };
}

const callFor = (model: { calls: ModelRequest[] }, tool: string, round = 1) => model.calls.find((c) => c.tools?.[0]?.name === tool && roundOf(c) === round);

describe('consensualCrew', () => {
  it('finishes with the proposal a majority voted for in round 1, recording every step', async () => {
    const alice = member('alice', { propose: 'Use Postgres', votes: ['bob'] });
    const bob = member('bob', { propose: 'Use SQLite', votes: ['carol'] });
    const carol = member('carol', { propose: 'Use files', votes: ['bob'] });
    const trace = collectTrace();
    const crew = consensualCrew({ name: 'storage', agents: [alice.agent, bob.agent, carol.agent] });

    const result = await crew.run('Choose where to store run state.', { trace });

    expect(result.status).toBe('finished');
    expect(result.output).toBe('Use SQLite v2');
    expect(result.stop).toEqual({ kind: 'finish', reason: "bob's proposal won 2 of 3 votes in round 1" });
    expect(result.decision).toEqual({ by: 'vote', winner: 'bob', reason: "bob's proposal won 2 of 3 votes in round 1" });
    expect(result.excluded).toEqual([]);
    expect(result.rounds).toEqual([
      {
        round: 1,
        proposals: { alice: 'Use Postgres', bob: 'Use SQLite', carol: 'Use files' },
        critiques: [
          { by: 'alice', of: 'bob', critique: 'alice on bob, round 1' },
          { by: 'alice', of: 'carol', critique: 'alice on carol, round 1' },
          { by: 'bob', of: 'alice', critique: 'bob on alice, round 1' },
          { by: 'bob', of: 'carol', critique: 'bob on carol, round 1' },
          { by: 'carol', of: 'alice', critique: 'carol on alice, round 1' },
          { by: 'carol', of: 'bob', critique: 'carol on bob, round 1' },
        ],
        revisions: { alice: 'Use Postgres v2', bob: 'Use SQLite v2', carol: 'Use files v2' },
        votes: [
          { by: 'alice', vote: 'bob', reason: 'alice likes it' },
          { by: 'bob', vote: 'carol', reason: 'bob likes it' },
          { by: 'carol', vote: 'bob', reason: 'carol likes it' },
        ],
        tally: { alice: 0, bob: 2, carol: 1 },
        winner: 'bob',
      },
    ]);
    // The record shows every proposal, critique, revision and vote, with its round, in member order.
    expect(result.tasks.map((t) => `${t.task} ${t.agent} ${t.status}`)).toEqual([
      'round-1/propose alice finished',
      'round-1/propose bob finished',
      'round-1/propose carol finished',
      'round-1/critique alice finished',
      'round-1/critique bob finished',
      'round-1/critique carol finished',
      'round-1/revise alice finished',
      'round-1/revise bob finished',
      'round-1/revise carol finished',
      'round-1/vote alice finished',
      'round-1/vote bob finished',
      'round-1/vote carol finished',
    ]);
    expect(result.tasks[1]!.output).toBe('Use SQLite');
    expect(result.tasks[10]!.output).toEqual({ vote: 'carol', reason: 'bob likes it' });

    expect(userText(callFor(alice.model, 'propose'))).toContain('## Goal\nChoose where to store run state.');
    const bobCritique = userText(callFor(bob.model, 'critique'));
    expect(bobCritique).toContain('## Your proposal\nUse SQLite');
    expect(bobCritique).toContain('### alice\nUse Postgres');
    expect(bobCritique).not.toContain('### bob');
    expect(callFor(bob.model, 'critique')!.tools![0]!.inputSchema).toMatchObject({
      properties: { critiques: { items: { properties: { of: { enum: ['alice', 'carol'] } } } } },
    });
    const bobRevise = userText(callFor(bob.model, 'revise'));
    expect(bobRevise).toContain('### from alice\nalice on bob, round 1');
    expect(bobRevise).toContain('### from carol\ncarol on bob, round 1');
    expect(bobRevise).not.toContain('on alice');
    const bobVote = userText(callFor(bob.model, 'vote'));
    expect(bobVote).toContain('### bob (yours)\nUse SQLite v2');
    expect(callFor(bob.model, 'vote')!.tools![0]!.inputSchema).toMatchObject({ properties: { vote: { enum: ['alice', 'carol'] } } });

    expect(trace.events.at(-1)).toMatchObject({ type: 'crew-end', crew: 'storage', process: 'consensual', status: 'finished', condition: 'finish' });
    expect(trace.events.filter((e) => e.type === 'task-end')).toHaveLength(12);
    expect(result.usage.byAgent.alice).toMatchObject({ runs: 4, turns: 4 });
  });

  it('runs another round when no proposal has a majority, and converges in round 2', async () => {
    const alice = member('alice', { propose: 'A', votes: ['bob', 'carol'] });
    const bob = member('bob', { propose: 'B', votes: ['carol', 'carol'] });
    const carol = member('carol', { propose: 'C', votes: ['alice', 'alice'] });

    const result = await consensualCrew({ name: 'pick', agents: [alice.agent, bob.agent, carol.agent], parallel: false }).run('Pick a letter.');

    expect(result.output).toBe('C v3');
    expect(result.stop).toEqual({ kind: 'finish', reason: "carol's proposal won 2 of 3 votes in round 2" });
    expect(result.rounds.map((r) => [r.round, r.tally, r.winner])).toEqual([
      [1, { alice: 1, bob: 1, carol: 1 }, undefined],
      [2, { alice: 1, bob: 0, carol: 2 }, 'carol'],
    ]);
    expect(result.rounds[1]!.proposals).toEqual({ alice: 'A v2', bob: 'B v2', carol: 'C v2' });
    expect(result.rounds[1]!.revisions).toEqual({ alice: 'A v3', bob: 'B v3', carol: 'C v3' });
    expect(result.tasks.filter((t) => t.task.endsWith('/vote')).map((t) => `${t.task} ${t.agent}→${(t.output as { vote: string }).vote}`)).toEqual([
      'round-1/vote alice→bob',
      'round-1/vote bob→carol',
      'round-1/vote carol→alice',
      'round-2/vote alice→carol',
      'round-2/vote bob→carol',
      'round-2/vote carol→alice',
    ]);
    expect(result.tasks.filter((t) => t.task === 'round-2/critique')).toHaveLength(3);
    expect(userText(callFor(alice.model, 'critique', 2))).toContain('## Your proposal\nA v2');
  });

  it('lets the judge pick among the final proposals when no round reaches a majority', async () => {
    const cyclic = { alice: 'bob', bob: 'carol', carol: 'alice' };
    const alice = member('alice', { propose: 'A', votes: [cyclic.alice, cyclic.alice] });
    const bob = member('bob', { propose: 'B', votes: [cyclic.bob, cyclic.bob] });
    const carol = member('carol', { propose: 'C', votes: [cyclic.carol, cyclic.carol] });
    const judgeModel = scriptedModel([
      reply.finish({ winner: 'zed', reason: '?' }, 'pick_winner'),
      reply.finish({ winner: 'bob', reason: 'B is simplest' }, 'pick_winner'),
    ]);
    const judge = new Agent({ name: 'judge', instructions: 'You judge fairly.', model: judgeModel });

    const result = await consensualCrew({ name: 'pick', agents: [alice.agent, bob.agent, carol.agent], maxRounds: 2, judge }).run('Pick a letter.');

    expect(result.status).toBe('finished');
    expect(result.output).toBe('B v3');
    expect(result.decision).toEqual({ by: 'judge', winner: 'bob', reason: 'B is simplest' });
    expect(result.stop).toEqual({ kind: 'finish', reason: "no majority after 2 rounds; the judge judge chose bob's proposal" });
    expect(result.rounds.map((r) => r.winner)).toEqual([undefined, undefined]);
    expect(result.tasks.at(-1)).toMatchObject({ task: 'judge', agent: 'judge', status: 'finished', output: { winner: 'bob', reason: 'B is simplest' } });
    const asked = userText(judgeModel.calls[0]);
    expect(asked).toContain('did not reach a majority in 2 rounds');
    expect(asked).toContain('### carol\nC v3');
    expect(asked).toContain('- alice voted for bob: alice likes it');
    expect((judgeModel.calls[1]!.messages.at(-1) as ToolMessage).content[0]!.output).toMatch(/winner: Invalid option/);
    expect(result.usage.byAgent.judge).toMatchObject({ runs: 1, turns: 2 });
  });

  it('stops with no-consensus and names the plurality leader when there is no judge', async () => {
    const alice = member('alice', { propose: 'A', votes: ['bob'] });
    const bob = member('bob', { propose: 'B', votes: ['alice'] });
    const carol = member('carol', { propose: 'C', votes: ['bob'] });
    const dave = member('dave', { propose: 'D', votes: ['carol'] });
    const trace = collectTrace();

    const result = await consensualCrew({ name: 'four', agents: [alice.agent, bob.agent, carol.agent, dave.agent], maxRounds: 1 }).run('Pick.', { trace });

    expect(result.status).toBe('stopped');
    expect(result.output).toBe(undefined);
    expect(result.stop).toEqual({
      kind: 'stopped',
      condition: 'no-consensus',
      reason: 'no proposal won a majority of 4 votes in 1 rounds (bob led with 2 of 4 votes) and there is no judge',
      detail: { rounds: 1, tally: { alice: 1, bob: 2, carol: 1, dave: 0 }, leader: 'bob', leaders: ['bob'], needed: 3 },
    });
    expect(result.decision).toBe(undefined);
    expect(result.rounds.at(-1)!.revisions).toEqual({ alice: 'A v2', bob: 'B v2', carol: 'C v2', dave: 'D v2' });
    expect(trace.events.at(-1)).toMatchObject({ type: 'crew-end', status: 'stopped', condition: 'no-consensus' });
  });

  it('excludes members that fail to propose, and stops when fewer than two proposals remain', async () => {
    const broken = (index: number) => reply.finish({ result: index }, 'propose');
    const alice = member('alice', { propose: 'A', votes: ['carol'] });
    const bob = member('bob', { propose: 'B', override: { propose: broken } });
    const carol = member('carol', { propose: 'C', votes: ['alice'] });
    const dave = member('dave', { propose: 'D', votes: ['alice'] });

    const result = await consensualCrew({ name: 'drop', agents: [alice.agent, bob.agent, carol.agent, dave.agent] }).run('Pick.');

    expect(result.output).toBe('A v2');
    expect(result.excluded).toEqual([{ agent: 'bob', reason: expect.stringMatching(/^failed while proposing: Agent "bob" called its finish tool 3 times/) }]);
    expect(result.tasks[1]).toMatchObject({ task: 'round-1/propose', agent: 'bob', status: 'failed', output: undefined });
    expect(Object.keys(result.rounds[0]!.proposals)).toEqual(['alice', 'carol', 'dave']);
    expect(result.rounds[0]!.tally).toEqual({ alice: 2, carol: 1, dave: 0 });
    expect(result.tasks.filter((t) => t.agent === 'bob')).toHaveLength(1);

    const lonely = consensualCrew({
      name: 'lonely',
      agents: [
        member('a', { propose: 'A' }).agent,
        member('b', { propose: 'B', override: { propose: broken } }).agent,
        member('c', { propose: 'C', override: { propose: broken } }).agent,
      ],
    });
    const alone = await lonely.run('Pick.');
    expect(alone.stop).toMatchObject({
      kind: 'stopped',
      condition: 'too-few-proposals',
      reason: 'only 1 of 3 members made a proposal; a consensus needs at least two',
      detail: { proposals: ['a'] },
    });
    expect(alone.rounds).toEqual([]);
  });

  it('returns a critique that leaves out a proposal to its author to complete', async () => {
    let calls = 0;
    const partial = () =>
      ++calls === 1
        ? reply.finish({ critiques: [{ of: 'bob', critique: 'too slow' }] }, 'critique')
        : reply.finish(
            {
              critiques: [
                { of: 'bob', critique: 'too slow' },
                { of: 'carol', critique: 'too big' },
              ],
            },
            'critique',
          );
    const alice = member('alice', { propose: 'A', votes: ['bob'], override: { critique: partial } });
    const bob = member('bob', { propose: 'B', votes: ['alice'] });
    const carol = member('carol', { propose: 'C', votes: ['bob'] });

    const result = await consensualCrew({ name: 'c', agents: [alice.agent, bob.agent, carol.agent] }).run('Pick.');

    expect(result.output).toBe('B v2');
    const critiqueCalls = alice.model.calls.filter((c) => c.tools?.[0]?.name === 'critique');
    expect((critiqueCalls[1]!.messages.at(-1) as ToolMessage).content[0]!.output).toContain('critique every other proposal; missing: carol');
    expect(result.rounds[0]!.critiques.filter((c) => c.by === 'alice')).toEqual([
      { by: 'alice', of: 'bob', critique: 'too slow' },
      { by: 'alice', of: 'carol', critique: 'too big' },
    ]);
  });

  it('with two members debates without voting and lets the judge decide, with typed proposals', async () => {
    const plan = z.object({ steps: z.array(z.string()).min(1) });
    const alice = member('alice', { propose: { steps: ['a'] }, revise: (round) => ({ steps: ['a', `r${round}`] }) });
    const bob = member('bob', { propose: { steps: ['b'] }, revise: (round) => ({ steps: ['b', `r${round}`] }) });
    const judge = new Agent({ name: 'judge', model: scriptedModel([reply.finish({ winner: 'alice', reason: 'clearer' }, 'pick_winner')]) });

    const result = await consensualCrew({ name: 'debate', agents: [alice.agent, bob.agent], output: plan, judge, maxRounds: 2 }).run('Plan the release.');

    const output: { steps: string[] } | undefined = result.output;
    expect(output).toEqual({ steps: ['a', 'r2'] });
    expect(result.rounds.map((r) => [r.votes, r.tally])).toEqual([
      [[], {}],
      [[], {}],
    ]);
    expect(result.tasks.some((t) => t.task.endsWith('/vote'))).toBe(false);
    expect(alice.model.calls.some((c) => c.tools?.[0]?.name === 'vote')).toBe(false);
  });

  it('validates its configuration when it is built', () => {
    const a = member('a', { propose: 'A' }).agent;
    const b = member('b', { propose: 'B' }).agent;
    const c = member('c', { propose: 'C' }).agent;
    expect(() => consensualCrew({ name: 'x', agents: [a, b] })).toThrow(
      'has two members and no judge: each must vote for the other, so no majority is possible',
    );
    expect(() => consensualCrew({ name: 'x', agents: [a] })).toThrow(ConfigurationError);
    expect(() => consensualCrew({ name: 'x', agents: [a, b, c], judge: a })).toThrow(/field "judge".*is also a member/);
    expect(() => consensualCrew({ name: 'x', agents: [a, b, c], maxRounds: 0 })).toThrow(/maxRounds must be a whole number/);
  });
});
