import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, ConfigurationError, maxTurns, registerPrice, type ModelRequest, type SpeakerSelectEvent, type ToolMessage } from 'troupe';
import { collectTrace, reply, scriptedModel, sequentialIds, type ScriptedReply } from 'troupe/testing';
import { groupChatCrew, isPleasantry, type SpeakerSelectionState } from '../../src/crew/group-chat.js';

const say = (message: string): ScriptedReply => reply.finish({ message }, 'say');
const done = (result: string): ScriptedReply => reply.finish({ result }, 'finish');

function member(name: string, description: string, script: ScriptedReply[] | ((request: ModelRequest, index: number) => ScriptedReply), modelId?: string) {
  const model = scriptedModel(script, modelId ? { id: modelId } : {});
  return { agent: new Agent({ name, description, instructions: `You are ${name}.`, model }), model };
}

const lastUserText = (request: ModelRequest | undefined) => {
  const message = request?.messages.at(-1);
  return message?.role === 'user' ? message.content : '';
};

const selections = (events: readonly { type: string }[]) =>
  events.filter((e): e is SpeakerSelectEvent => e.type === 'speaker-select').map((e) => [e.round, e.speaker, e.method]);

describe('groupChatCrew', () => {
  it('takes turns round-robin, shows each speaker the conversation, and ends when a finisher finishes', async () => {
    const alice = member('alice', 'Writes drafts.', [say('Draft: cats sleep 16 hours a day.')]);
    const bob = member('bob', 'Checks facts.', [say('Checked: 12 to 16 hours.')]);
    const carol = member('carol', 'Edits and publishes.', [done('Cats sleep 12 to 16 hours a day.')]);
    const trace = collectTrace();
    const chat = groupChatCrew({ name: 'newsroom', agents: [alice.agent, bob.agent, carol.agent], selector: 'round-robin' });

    const result = await chat.run('Write one sentence on how long cats sleep.', { trace, ids: sequentialIds() });

    expect(result.status).toBe('finished');
    expect(result.output).toBe('Cats sleep 12 to 16 hours a day.');
    expect(result.stop).toEqual({ kind: 'finish', reason: 'carol ended the chat in round 3' });
    expect(result.conversation).toEqual([
      { round: 1, speaker: 'alice', message: 'Draft: cats sleep 16 hours a day.' },
      { round: 2, speaker: 'bob', message: 'Checked: 12 to 16 hours.' },
    ]);
    expect(result.tasks.map((t) => [t.task, t.agent, t.status, t.output])).toEqual([
      ['turn-1', 'alice', 'finished', 'Draft: cats sleep 16 hours a day.'],
      ['turn-2', 'bob', 'finished', 'Checked: 12 to 16 hours.'],
      ['turn-3', 'carol', 'finished', 'Cats sleep 12 to 16 hours a day.'],
    ]);
    expect(selections(trace.events)).toEqual([
      [1, 'alice', 'round-robin'],
      [2, 'bob', 'round-robin'],
      [3, 'carol', 'round-robin'],
    ]);

    const bobSaw = lastUserText(bob.model.calls[0]);
    expect(bobSaw).toContain('## Request\nWrite one sentence on how long cats sleep.');
    expect(bobSaw).toContain('### alice\nDraft: cats sleep 16 hours a day.');
    expect(bobSaw).toContain('- carol: Edits and publishes.');
    expect(bobSaw).toContain('It is your turn, bob.');
    expect(lastUserText(alice.model.calls[0])).toContain('Nobody has spoken yet.');
    expect(bob.model.calls[0]!.tools?.map((t) => t.name)).toEqual(['say', 'finish']);
    expect(bob.model.calls[0]!.system).toContain('You are bob.');
  });

  it('lets a manager model choose the speaker from the members’ descriptions', async () => {
    const alice = member('alice', 'Knows the billing system.', [say('The invoice was charged twice.')]);
    const bob = member('bob', 'Issues refunds.', [done('Refunded the duplicate charge.')]);
    const manager = scriptedModel([
      reply.finish({ speaker: 'alice', reason: 'a billing question' }, 'select_speaker'),
      reply.finish({ speaker: 'bob', reason: 'a refund is needed' }, 'select_speaker'),
    ]);
    const trace = collectTrace();
    const chat = groupChatCrew({ name: 'support', agents: [alice.agent, bob.agent], selector: { manager } });

    const result = await chat.run('I was charged twice.', { trace });

    expect(result.output).toBe('Refunded the duplicate charge.');
    const firstAsk = lastUserText(manager.calls[0]);
    expect(firstAsk).toContain('- alice: Knows the billing system.');
    expect(firstAsk).toContain('- bob: Issues refunds.');
    expect(firstAsk).toContain('Choose one of: alice, bob.');
    // After alice spoke, only bob may (no repeat speaker without a graph): yet two is a choice, so ask again.
    expect(manager.calls[0]!.tools?.[0]).toMatchObject({ name: 'select_speaker', inputSchema: { properties: { speaker: { enum: ['alice', 'bob'] } } } });
    expect(trace.events.filter((e) => e.type === 'speaker-select')).toEqual([
      expect.objectContaining({ round: 1, speaker: 'alice', method: 'manager', reason: 'a billing question' }),
      expect.objectContaining({ round: 2, speaker: 'bob', method: 'only candidate' }),
    ]);
    expect(manager.callCount).toBe(1);
    expect(result.usage.byAgent.manager?.runs).toBe(1);
  });

  it('gives a manager that names an unknown speaker the error, and takes its corrected answer', async () => {
    const alice = member('alice', 'Plans.', [done('plan')]);
    const bob = member('bob', 'Builds.', [done('built')]);
    const carol = member('carol', 'Tests.', [done('tested')]);
    const manager = scriptedModel([
      reply.finish({ speaker: 'dave', reason: 'x' }, 'select_speaker'),
      reply.finish({ speaker: 'carol', reason: 'test first' }, 'select_speaker'),
    ]);

    const result = await groupChatCrew({ name: 'team', agents: [alice.agent, bob.agent, carol.agent], selector: { manager } }).run('Ship it.');

    expect(result.output).toBe('tested');
    const feedback = manager.calls[1]!.messages.at(-1) as ToolMessage;
    expect(feedback.content[0]!.isError).toBe(true);
    expect(feedback.content[0]!.output).toMatch(/speaker: Invalid option: expected one of "alice"\|"bob"\|"carol"/);
    expect(result.tasks).toEqual([expect.objectContaining({ task: 'turn-1', agent: 'carol' })]);
  });

  it('falls back to round-robin when the manager never names a valid speaker, and says so', async () => {
    const alice = member('alice', 'Plans.', [say('a plan')]);
    const bob = member('bob', 'Builds.', [done('built')]);
    const manager = scriptedModel(() => reply.finish({ speaker: 'nobody', reason: '?' }, 'select_speaker'));
    const trace = collectTrace();
    const chat = groupChatCrew({
      name: 'team',
      agents: [alice.agent, bob.agent],
      selector: { manager: new Agent({ name: 'boss', instructions: 'You run the team.', model: manager }) },
    });

    const result = await chat.run('Build it.', { trace });

    expect(result.output).toBe('built');
    const [first, second] = trace.events.filter((e): e is SpeakerSelectEvent => e.type === 'speaker-select');
    expect(first).toMatchObject({ round: 1, speaker: 'alice', method: 'round-robin (manager failed)' });
    expect(first!.reason).toMatch(/^the manager failed: Agent "boss" called its finish tool 3 times without a valid result/);
    expect(second).toMatchObject({ round: 2, speaker: 'bob', method: 'only candidate' });
    expect(manager.callCount).toBe(3);
    expect(manager.calls[0]!.system).toContain('You run the team.');
    expect(result.transcripts.boss).toHaveLength(7);
  });

  it('asks a selector function, giving it the state, and rejects a name that is not a member', async () => {
    const alice = member('alice', 'a', [say('one'), say('three')]);
    const bob = member('bob', 'b', [say('two'), done('four')]);
    const seen: SpeakerSelectionState[] = [];
    const selector = (state: SpeakerSelectionState) => {
      seen.push(state);
      return state.round % 2 === 1 ? 'alice' : 'bob';
    };
    const trace = collectTrace();

    const result = await groupChatCrew({ name: 'duo', agents: [alice.agent, bob.agent], selector }).run('Count.', { trace });

    expect(result.output).toBe('four');
    expect(selections(trace.events)).toEqual([
      [1, 'alice', 'function'],
      [2, 'bob', 'function'],
      [3, 'alice', 'function'],
      [4, 'bob', 'function'],
    ]);
    expect(seen[0]).toMatchObject({ round: 1, lastSpeaker: undefined, candidates: ['alice', 'bob'], input: 'Count.', messages: [] });
    expect(seen[2]).toMatchObject({
      round: 3,
      lastSpeaker: 'bob',
      candidates: ['alice'],
      members: [
        { name: 'alice', description: 'a' },
        { name: 'bob', description: 'b' },
      ],
    });
    expect(seen[2]!.messages.map((m) => m.message)).toEqual(['one', 'two']);

    const wrong = groupChatCrew({ name: 'duo', agents: [member('alice', 'a', []).agent, member('bob', 'b', []).agent], selector: () => 'zed' });
    const error = await wrong.run('Count.').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      'field "selector": The speaker selector of group chat "duo" returned "zed", who is not a member (members: alice, bob).',
    );
  });

  it('follows the allowed-transitions graph, round-robin among the allowed or by the manager among them', async () => {
    const alice = member('alice', 'a', [say('a1')]);
    const bob = member('bob', 'b', [say('b1')]);
    const carol = member('carol', 'c', [say('c1')]);
    const judge = member('judge', 'j', [done('verdict')]);
    const trace = collectTrace();
    const chat = groupChatCrew({
      name: 'graph',
      agents: [alice.agent, bob.agent, carol.agent, judge.agent],
      allowedTransitions: { alice: ['carol'], carol: ['bob'], bob: ['judge', 'alice'], judge: [] },
      finishers: ['judge'],
      selector: 'round-robin',
    });

    const result = await chat.run('Decide.', { trace });

    // alice skips bob for carol; after bob, judge comes before alice in member order.
    expect(selections(trace.events)).toEqual([
      [1, 'alice', 'round-robin'],
      [2, 'carol', 'round-robin'],
      [3, 'bob', 'round-robin'],
      [4, 'judge', 'round-robin'],
    ]);
    expect(result.output).toBe('verdict');
    expect(alice.model.calls[0]!.tools?.map((t) => t.name)).toEqual(['say']);
    expect(lastUserText(alice.model.calls[0])).toContain('Only judge may end the chat.');

    const manager = scriptedModel([
      reply.finish({ speaker: 'alice', reason: 'start' }, 'select_speaker'),
      reply.finish({ speaker: 'carol', reason: 'c' }, 'select_speaker'),
    ]);
    const managed = groupChatCrew({
      name: 'graph',
      agents: [member('alice', 'a', [say('a1')]).agent, member('bob', 'b', []).agent, member('carol', 'c', [done('ok')]).agent],
      allowedTransitions: { alice: ['bob', 'carol'] },
      selector: { manager },
    });
    expect((await managed.run('Decide.')).output).toBe('ok');
    expect(manager.calls[1]!.tools?.[0]?.inputSchema).toMatchObject({ properties: { speaker: { enum: ['bob', 'carol'] } } });
    expect(lastUserText(manager.calls[1])).toContain('Choose one of: bob, carol.');
  });

  it('lets a member with no successor only finish', async () => {
    const alice = member('alice', 'a', [say('a1')]);
    const judge = member('judge', 'j', [done('verdict')]);
    const chat = groupChatCrew({
      name: 'graph',
      agents: [alice.agent, judge.agent],
      allowedTransitions: { alice: ['judge'], judge: [] },
      finishers: ['judge'],
    });
    const result = await chat.run('Decide.');
    expect(result.output).toBe('verdict');
    expect(judge.model.calls[0]!.tools?.map((t) => t.name)).toEqual(['finish']);
    expect(lastUserText(judge.model.calls[0])).toContain("You speak last: call `finish` with the group's final result.");
  });

  it('lets a manager that may finish end the chat itself with the typed output, no member being a finisher', async () => {
    const alice = member('alice', 'Reads the logs.', [say('The errors started at 14:02, with the deploy.')]);
    const bob = member('bob', 'Rolls back deploys.', [say('Rolled back; errors are gone.')]);
    const manager = scriptedModel([
      reply.finish({ speaker: 'alice', reason: 'we need to know when it started' }, 'select_speaker'),
      // One candidate left, but the manager is still asked: it might be done.
      reply.finish({ speaker: 'bob', reason: 'the deploy looks guilty' }, 'select_speaker'),
      reply.finish({ summary: 'Bad deploy at 14:02, rolled back.' }, 'finish'),
    ]);
    const trace = collectTrace();
    const chat = groupChatCrew({
      name: 'incident',
      agents: [alice.agent, bob.agent],
      selector: { manager: { name: 'commander', model: manager, instructions: 'You command incidents.' } },
      managerFinishes: true,
      output: z.object({ summary: z.string() }),
    });

    const result = await chat.run('Errors are up.', { trace });

    expect(result).toMatchObject({ status: 'finished', output: { summary: 'Bad deploy at 14:02, rolled back.' } });
    expect(result.stop).toEqual({ kind: 'finish', reason: 'commander (the manager) ended the chat after 2 rounds' });
    expect(result.conversation.map((m) => m.speaker)).toEqual(['alice', 'bob']);
    expect(manager.calls[0]!.system).toMatch(/^You command incidents\.\n\nYou coordinate a group chat\./);
    expect(manager.calls[0]!.tools!.map((t) => t.name)).toEqual(['select_speaker', 'finish']);
    expect(lastUserText(manager.calls[0])).toMatch(
      /Call `select_speaker` with the name and your reason, or `finish` with the group's final result if the work is done\.$/,
    );
    // Members may only talk: the manager ends the chat.
    expect(alice.model.calls[0]!.tools!.map((t) => t.name)).toEqual(['say']);
    expect(lastUserText(alice.model.calls[0])).toMatch(/Only the manager may end the chat\.$/);
    expect(selections(trace.events)).toEqual([
      [1, 'alice', 'manager'],
      [2, 'bob', 'manager'],
    ]);
    expect(result.usage.byAgent.commander?.runs).toBe(3);
  });

  it('refuses a finishing manager without a manager selector, and a manager named like a member', () => {
    const alice = member('alice', 'A.', []).agent;
    const bob = member('bob', 'B.', []).agent;
    expect(() => groupChatCrew({ name: 'c', agents: [alice, bob], managerFinishes: true })).toThrow(
      /only a manager can finish the chat \(managerFinishes needs selector: \{ manager \}\)/,
    );
    expect(() => groupChatCrew({ name: 'c', agents: [alice, bob], selector: { manager: { name: 'bob' } } })).toThrow(
      'The manager of group chat "c" is named "bob", like one of its members.',
    );
  });

  it('validates names in the graph, the finishers and the first speaker when it is built', () => {
    const agents = [member('alice', 'a', []).agent, member('bob', 'b', []).agent];
    const build = (extra: object) => () => groupChatCrew({ name: 'g', agents, ...extra });
    expect(build({ allowedTransitions: { alice: ['zed'] } })).toThrow(
      'field "allowedTransitions.alice": Group chat "g" names "zed" in allowedTransitions.alice, who is not a member (members: alice, bob).',
    );
    expect(build({ allowedTransitions: { zed: ['alice'] } })).toThrow(/field "allowedTransitions".*"zed"/);
    expect(build({ finishers: ['carol'] })).toThrow(/field "finishers".*"carol"/);
    expect(build({ firstSpeaker: 'carol' })).toThrow(/field "firstSpeaker".*"carol"/);
    expect(build({ allowedTransitions: { alice: [] }, finishers: ['bob'] })).toThrow('nobody may speak after "alice", who is not a finisher');
    expect(build({ maxRounds: 0 })).toThrow(ConfigurationError);
    expect(build({ finishers: [] })).toThrow(/no finishers/);
  });

  it('ends with a typed output validated against the crew schema', async () => {
    const report = z.object({ title: z.string(), score: z.number().int().min(0).max(10) });
    const alice = member('alice', 'a', [say('Looks good.')]);
    const bob = member('bob', 'b', [reply.finish({ title: 'Review', score: 11 }, 'finish'), reply.finish({ title: 'Review', score: 8 }, 'finish')]);
    const chat = groupChatCrew({ name: 'review', agents: [alice.agent, bob.agent], output: report, firstSpeaker: 'alice' });

    const result = await chat.run('Review the essay.');

    expect(result.status).toBe('finished');
    const output: { title: string; score: number } | undefined = result.output;
    expect(output).toEqual({ title: 'Review', score: 8 });
    expect(bob.model.callCount).toBe(2);
  });

  it('stops at maxRounds with the reason and the numbers', async () => {
    const alice = member('alice', 'a', (_request, index) => say(`alice idea ${index + 1}`));
    const bob = member('bob', 'b', (_request, index) => say(`bob idea ${index + 1}`));
    const trace = collectTrace();

    const result = await groupChatCrew({ name: 'brainstorm', agents: [alice.agent, bob.agent], maxRounds: 5 }).run('Ideas?', { trace });

    expect(result.status).toBe('stopped');
    expect(result.stop).toEqual({
      kind: 'stopped',
      condition: 'max-rounds',
      reason: 'reached the limit of 5 rounds without a finish call',
      detail: { limit: 5, rounds: 5, messages: 5 },
    });
    expect(result.conversation.map((m) => m.message)).toEqual(['alice idea 1', 'bob idea 1', 'alice idea 2', 'bob idea 2', 'alice idea 3']);
    expect(trace.events.at(-1)).toMatchObject({ type: 'crew-end', crew: 'brainstorm', process: 'group-chat', status: 'stopped', condition: 'max-rounds' });
  });

  it('stops agents trading goodbyes with no-progress, naming the messages', async () => {
    const alice = member('alice', 'a', [say('Here is the fix: retry on 503.'), say("You're welcome, Bob. Goodbye!"), say('more')]);
    const bob = member('bob', 'b', [say('Thanks Alice!'), say('unused')]);

    const result = await groupChatCrew({ name: 'pair', agents: [alice.agent, bob.agent] }).run('Fix the bug.');

    expect(result.stop).toEqual({
      kind: 'stopped',
      condition: 'no-progress',
      reason: 'the last 2 messages made no progress (repeats or only pleasantries)',
      detail: {
        window: 2,
        round: 3,
        messages: [
          { round: 2, speaker: 'bob', message: 'Thanks Alice!', why: 'only pleasantries' },
          { round: 3, speaker: 'alice', message: "You're welcome, Bob. Goodbye!", why: 'only pleasantries' },
        ],
      },
    });
    expect(result.conversation).toHaveLength(3);
  });

  it('counts repeated messages as no progress, over a window of the number of members', async () => {
    const alice = member('alice', 'a', [say('We should use Postgres.'), say('We should use Postgres!')]);
    const bob = member('bob', 'b', [say('I prefer SQLite.'), say('i prefer sqlite')]);
    const carol = member('carol', 'c', [say('Either works.'), say('Either  works')]);

    const result = await groupChatCrew({ name: 'db', agents: [alice.agent, bob.agent, carol.agent] }).run('Pick a database.');

    expect(result.stop).toMatchObject({ condition: 'no-progress', detail: { window: 3, round: 6 } });
    const detail = result.stop.kind === 'stopped' ? (result.stop.detail.messages as Array<{ why: string }>) : [];
    expect(detail.map((m) => m.why)).toEqual(['repeats round 1', 'repeats round 2', 'repeats round 3']);
  });

  it('fails when a member keeps returning an invalid output, with its reason', async () => {
    const alice = member('alice', 'a', () => reply.finish({ message: '' }, 'say'));
    const bob = member('bob', 'b', []);

    const result = await groupChatCrew({ name: 'broken', agents: [alice.agent, bob.agent] }).run('Talk.');

    expect(result.status).toBe('failed');
    expect(result.stop).toMatchObject({ kind: 'failed', condition: 'invalid-output', detail: { round: 1, agent: 'alice', attempts: 3 } });
    expect(result.stop.reason).toMatch(
      /^round 1 \(alice\) failed: Agent "alice" called its finish tool 3 times without a valid result; last problems: message:/,
    );
    expect(result.tasks).toEqual([expect.objectContaining({ task: 'turn-1', agent: 'alice', status: 'failed', output: undefined })]);
    expect(result.transcripts.alice).toHaveLength(7);
  });

  it('stops when a member’s own termination stops its turn', async () => {
    const alice = member('alice', 'a', ['Let me think about it...']);
    const limited = alice.agent.with({ termination: maxTurns(1) });
    const result = await groupChatCrew({ name: 'slow', agents: [limited, member('bob', 'b', []).agent] }).run('Go.');
    expect(result.stop).toEqual({
      kind: 'stopped',
      condition: 'max-turns',
      reason: 'round 1 (alice) stopped: reached the limit of 1 model calls',
      detail: { round: 1, agent: 'alice', limit: 1, turns: 1 },
    });
  });

  it('stops before the next round when the run’s signal aborts', async () => {
    const controller = new AbortController();
    const alice = member('alice', 'a', () => {
      controller.abort();
      return say('one');
    });
    const result = await groupChatCrew({ name: 'abort', agents: [alice.agent, member('bob', 'b', []).agent] }).run('Go.', { signal: controller.signal });
    expect(result.stop).toMatchObject({ kind: 'stopped', condition: 'abort-signal', detail: { round: 2 } });
    expect(result.conversation).toHaveLength(1);
  });

  describe('usage and trace', () => {
    const unregister = registerPrice('test:group-chat', { inputPerMillion: 1_000_000, outputPerMillion: 2_000_000 });
    afterAll(unregister);

    it('reports usage, cost and transcripts per agent, and traces each round and the end', async () => {
      const priced = (message: string, finish = false): ScriptedReply => ({
        toolCalls: [{ name: finish ? 'finish' : 'say', input: finish ? { result: message } : { message } }],
        usage: { inputTokens: 100, outputTokens: 10 },
      });
      const alice = member('alice', 'a', [priced('hello'), priced('done', true)], 'test:group-chat');
      const bob = member('bob', 'b', [priced('hi')], 'test:group-chat');
      const trace = collectTrace();

      const result = await groupChatCrew({ name: 'costs', agents: [alice.agent, bob.agent] }).run('Chat.', { trace, runId: 'run-gc' });

      expect(result.output).toBe('done');
      expect(result.runId).toBe('run-gc');
      expect(result.usage.byAgent.alice).toEqual({ usage: { inputTokens: 200, outputTokens: 20 }, costUsd: 240, turns: 2, runs: 2 });
      expect(result.usage.byAgent.bob).toEqual({ usage: { inputTokens: 100, outputTokens: 10 }, costUsd: 120, turns: 1, runs: 1 });
      expect(result.usage.total).toMatchObject({ costUsd: 360, turns: 3, runs: 3 });
      // Each turn is a fresh run: user prompt, the tool call, its result.
      expect(result.transcripts.alice?.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'user', 'assistant', 'tool']);
      expect(result.transcripts.bob?.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);

      const crewEvents = trace.events.filter((e) => ['speaker-select', 'task-start', 'task-end', 'crew-end'].includes(e.type)).map((e) => e.type);
      expect(crewEvents).toEqual([
        'speaker-select',
        'task-start',
        'task-end',
        'speaker-select',
        'task-start',
        'task-end',
        'speaker-select',
        'task-start',
        'task-end',
        'crew-end',
      ]);
      expect(trace.events.at(-1)).toEqual({
        type: 'crew-end',
        at: expect.any(Number),
        runId: 'run-gc',
        crew: 'costs',
        process: 'group-chat',
        status: 'finished',
        condition: 'finish',
        reason: 'alice ended the chat in round 3',
      });
      expect(trace.events.every((e) => e.runId === 'run-gc')).toBe(true);
    });
  });
});

describe('isPleasantry', () => {
  it.each([
    ['Thanks!', true],
    ['Thank you so much, Bob!', true],
    ["You're welcome.", true],
    ['TERMINATE', true],
    ['Goodbye everyone, take care!', true],
    ['Cheers', true],
    ['Have a nice day!', true],
    ['Thanks, here is the fix: retry on 503.', false],
    ['ok', false],
    ['The answer is 42.', false],
  ])('%j → %s', (text, expected) => {
    expect(isPleasantry(text, ['alice', 'bob'])).toBe(expected);
  });
});
