import { z } from 'zod';
import type { Agent } from '../agent/agent.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { Crew, CrewRunOptions } from './crew.js';
import { CrewContext, type MemberOutcome } from './crew-context.js';
import type { CrewResult, CrewStop } from './crew-result.js';
import { membersByName } from './sequential.js';
import { render } from './task.js';

export interface ConsensualCrewOptions<Output> {
  name: string;
  /** At least three, or two with a judge: with two, each must vote for the other and no majority is possible. */
  agents: readonly Agent<any>[];
  /** The schema of a proposal, and so of the crew's result. Default: a string. */
  output?: z.ZodType<Output>;
  /** Critique → revise → vote rounds before the judge decides (or the crew stops). Default 3. */
  maxRounds?: number;
  /** Picks among the final proposals when no vote reached a majority. Must not be a member. */
  judge?: Agent<any>;
  /** Members of a phase work at once (default true); they are independent within a phase. False runs them in member order. */
  parallel?: boolean;
}

export interface Critique {
  by: string;
  of: string;
  critique: string;
}

export interface Vote {
  by: string;
  vote: string;
  reason: string;
}

/** One critique → revise → vote round; proposals are keyed by their author. */
export interface ConsensusRound<Output> {
  round: number;
  /** As the round began: the first proposals in round 1, the previous round's revisions after. */
  proposals: Record<string, Output>;
  critiques: Critique[];
  /** As the round ended, after revisions (a member that did not revise keeps its proposal); the ones voted on. */
  revisions: Record<string, Output>;
  votes: Vote[];
  /** Votes per author, every proposal listed; empty when no vote was taken (two proposals). */
  tally: Record<string, number>;
  /** The author whose proposal won a strict majority this round. */
  winner: string | undefined;
}

export interface ConsensusDecision {
  by: 'vote' | 'judge';
  winner: string;
  reason: string;
}

/**
 * The crew's result plus the record of the process. When no consensus is reached and there is no
 * judge the crew stops with no output (a plurality is not a consensus; picking one silently would
 * hide that): the final proposals are in `rounds.at(-1).revisions`.
 */
export type ConsensusResult<Output> = CrewResult<Output> & {
  rounds: ConsensusRound<Output>[];
  /** Members that failed to propose, and why; they take no further part. */
  excluded: Array<{ agent: string; reason: string }>;
  decision: ConsensusDecision | undefined;
};

export interface ConsensualCrew<Output> extends Crew<Output> {
  run(input?: string, options?: CrewRunOptions): Promise<ConsensusResult<Output>>;
}

interface Job<T> {
  member: string;
  agent: Agent<T>;
  prompt: string;
}

type Critiques = { critiques: Array<{ of: string; critique: string }> };
type Ballot = { vote: string; reason: string };
type Verdict = { winner: string; reason: string };

/**
 * Members each propose a result for the goal, critique the others' proposals, revise their own
 * given the critiques addressed to them, and vote for the best proposal other than their own. A
 * strict majority of the members still in (an abstention counts as a vote for nobody) wins;
 * otherwise another critique → revise → vote round, up to `maxRounds`, then the judge.
 */
export function consensualCrew<Output = string>(options: ConsensualCrewOptions<Output>): ConsensualCrew<Output> {
  const crew = options.name;
  const members = membersByName(crew, options.agents);
  const names = [...members.keys()];
  const judge = options.judge;
  if (names.length < 2) throw new ConfigurationError(`Consensual crew "${crew}" needs at least two members.`, { field: 'agents' });
  if (names.length === 2 && !judge) {
    throw new ConfigurationError(
      `Consensual crew "${crew}" has two members and no judge: each must vote for the other, so no majority is possible. Add a member or a judge.`,
      { field: 'agents' },
    );
  }
  if (judge && members.has(judge.name))
    throw new ConfigurationError(`The judge of consensual crew "${crew}", "${judge.name}", is also a member; a judge must not pick among its own proposals.`, {
      field: 'judge',
    });
  const maxRounds = options.maxRounds ?? 3;
  if (!Number.isInteger(maxRounds) || maxRounds < 1)
    throw new ConfigurationError(`Consensual crew "${crew}": maxRounds must be a whole number of at least 1 (got ${maxRounds}).`, { field: 'maxRounds' });
  const output = options.output ?? (z.string() as unknown as z.ZodType<Output>);
  const parallel = options.parallel ?? true;
  const proposers = new Map(names.map((name) => [name, members.get(name)!.with<Output>({ output, finishToolName: 'propose' })]));
  const revisers = new Map(names.map((name) => [name, members.get(name)!.with<Output>({ output, finishToolName: 'revise' })]));

  return {
    name: crew,
    process: 'consensual',
    async run(input?: string, runOptions: CrewRunOptions = {}): Promise<ConsensusResult<Output>> {
      const context = new CrewContext(crew, 'consensual', runOptions);
      const goal = input?.trim() ? input.trim() : '(no goal was given: propose what the group is for)';
      const rounds: ConsensusRound<Output>[] = [];
      const excluded: Array<{ agent: string; reason: string }> = [];
      let decision: ConsensusDecision | undefined;
      const end = (stop: CrewStop, value?: Output): ConsensusResult<Output> => ({ ...context.finish(stop, value), rounds, excluded, decision });
      const aborted = (where: string) =>
        runOptions.signal?.aborted
          ? end({ kind: 'stopped', condition: 'abort-signal', reason: `aborted by the caller ${where}`, detail: { rounds: rounds.length } })
          : undefined;
      const phase = <T>(task: string, jobs: Job<T>[]) => runPhase(context, crew, task, jobs, parallel);

      const proposed = await phase(
        'round-1/propose',
        names.map((name) => ({ member: name, agent: proposers.get(name)!, prompt: proposePrompt(crew, goal, names, name) })),
      );
      const current = new Map<string, Output>();
      for (const [name, outcome] of proposed) {
        if (outcome.status === 'finished') current.set(name, outcome.output);
        else excluded.push({ agent: name, reason: `${outcome.status} while proposing: ${outcome.reason}` });
      }
      const stopped = aborted('while the members proposed');
      if (stopped) return stopped;
      const authors = [...current.keys()];
      if (authors.length < 2) {
        return end({
          kind: 'stopped',
          condition: 'too-few-proposals',
          reason: `only ${authors.length} of ${names.length} members made a proposal; a consensus needs at least two`,
          detail: { proposals: authors, excluded },
        });
      }
      if (authors.length === 2 && !judge) {
        return end({
          kind: 'stopped',
          condition: 'no-consensus',
          reason: `only two proposals (${authors.join(', ')}) and no judge: each author must vote for the other, so no majority is possible`,
          detail: { proposals: authors, excluded },
        });
      }
      // With two proposals the votes are known in advance (one each); the rounds still improve them for the judge.
      const voting = authors.length > 2;
      const others = (name: string) => authors.filter((author) => author !== name);
      const critics = new Map(
        authors.map((name) => [name, members.get(name)!.with<Critiques>({ output: critiqueSchema(others(name)), finishToolName: 'critique' })]),
      );
      const voters = new Map(authors.map((name) => [name, members.get(name)!.with<Ballot>({ output: ballotSchema(others(name)), finishToolName: 'vote' })]));

      for (let round = 1; round <= maxRounds; round++) {
        const record: ConsensusRound<Output> = {
          round,
          proposals: Object.fromEntries(current),
          critiques: [],
          revisions: {},
          votes: [],
          tally: {},
          winner: undefined,
        };
        rounds.push(record);

        const critiqued = await phase(
          `round-${round}/critique`,
          authors.map((name) => ({ member: name, agent: critics.get(name)!, prompt: critiquePrompt(crew, goal, round, name, current) })),
        );
        for (const [by, outcome] of critiqued) {
          if (outcome.status === 'finished') for (const { of, critique } of outcome.output.critiques) record.critiques.push({ by, of, critique });
        }
        const afterCritique = aborted(`during the critiques of round ${round}`);
        if (afterCritique) return afterCritique;

        // A proposal nobody managed to critique stays as it is: there is nothing to revise it against.
        const criticised = authors.filter((name) => record.critiques.some((c) => c.of === name));
        const revised = await phase(
          `round-${round}/revise`,
          criticised.map((name) => ({
            member: name,
            agent: revisers.get(name)!,
            prompt: revisePrompt(crew, goal, round, name, current.get(name), record.critiques),
          })),
        );
        for (const [name, outcome] of revised) if (outcome.status === 'finished') current.set(name, outcome.output);
        record.revisions = Object.fromEntries(current);
        const afterRevision = aborted(`during the revisions of round ${round}`);
        if (afterRevision) return afterRevision;
        if (!voting) continue;

        const voted = await phase(
          `round-${round}/vote`,
          authors.map((name) => ({ member: name, agent: voters.get(name)!, prompt: votePrompt(crew, goal, round, name, current) })),
        );
        record.tally = Object.fromEntries(authors.map((name) => [name, 0]));
        for (const [by, outcome] of voted) {
          if (outcome.status !== 'finished') continue;
          record.votes.push({ by, vote: outcome.output.vote, reason: outcome.output.reason });
          record.tally[outcome.output.vote]! += 1;
        }
        const afterVote = aborted(`during the votes of round ${round}`);
        if (afterVote) return afterVote;
        const winner = authors.find((name) => record.tally[name]! > authors.length / 2);
        if (winner !== undefined) {
          record.winner = winner;
          const reason = `${winner}'s proposal won ${record.tally[winner]} of ${authors.length} votes in round ${round}`;
          decision = { by: 'vote', winner, reason };
          return end({ kind: 'finish', reason }, current.get(winner));
        }
      }

      const tally = rounds.at(-1)!.tally;
      const top = Math.max(0, ...Object.values(tally));
      const leaders = Object.keys(tally).filter((name) => tally[name] === top && top > 0);
      if (judge) {
        const judgeAgent = judge.with<Verdict>({ output: verdictSchema(authors), finishToolName: 'pick_winner' });
        const judged = await phase('judge', [
          { member: judge.name, agent: judgeAgent, prompt: judgePrompt(crew, goal, current, rounds.at(-1)!.votes, voting, maxRounds) },
        ]);
        const outcome = judged.get(judge.name)!;
        if (outcome.status !== 'finished') {
          return end({
            kind: outcome.status,
            condition: outcome.condition,
            reason: `no majority after ${maxRounds} rounds, and the judge ${judge.name} ${outcome.status}: ${outcome.reason}`,
            detail: { rounds: maxRounds, tally, ...outcome.detail },
          });
        }
        const { winner, reason } = outcome.output;
        decision = { by: 'judge', winner, reason };
        return end(
          { kind: 'finish', reason: `no majority after ${maxRounds} rounds; the judge ${judge.name} chose ${winner}'s proposal` },
          current.get(winner),
        );
      }
      const leader = leaders.length === 1 ? leaders[0]! : null;
      const standing =
        leader !== null
          ? `${leader} led with ${top} of ${authors.length} votes`
          : leaders.length > 1
            ? `${leaders.join(' and ')} tied with ${top} votes each`
            : 'no votes were cast';
      return end({
        kind: 'stopped',
        condition: 'no-consensus',
        reason: `no proposal won a majority of ${authors.length} votes in ${maxRounds} rounds (${standing}) and there is no judge`,
        detail: { rounds: maxRounds, tally, leader, leaders, needed: Math.floor(authors.length / 2) + 1 },
      });
    },
  };
}

/** Runs one phase's members (at once, or in order); records their tasks in member order so the record does not depend on timing. */
async function runPhase<T>(context: CrewContext, crew: string, task: string, jobs: Array<Job<T>>, parallel: boolean): Promise<Map<string, MemberOutcome<T>>> {
  const runOne = async (job: Job<T>): Promise<MemberOutcome<T>> => {
    const started = context.clock.now();
    context.emit({ type: 'task-start', crew, task, agent: job.member });
    const outcome = await context.runMember(job.agent, job.prompt);
    context.emit({
      type: 'task-end',
      crew,
      task,
      agent: job.member,
      status: outcome.status,
      durationMs: context.clock.now() - started,
      reason: outcome.reason,
    });
    return outcome;
  };
  let outcomes: Array<MemberOutcome<T>>;
  if (parallel) {
    // allSettled, not all: a provider failure must not leave the other members' runs going unobserved.
    const settled = await Promise.allSettled(jobs.map(runOne));
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
    outcomes = settled.map((s) => (s as PromiseFulfilledResult<MemberOutcome<T>>).value);
  } else {
    outcomes = [];
    for (const job of jobs) outcomes.push(await runOne(job));
  }
  const byMember = new Map<string, MemberOutcome<T>>();
  jobs.forEach((job, index) => {
    const outcome = outcomes[index]!;
    context.recorder.task({ task, agent: job.member, status: outcome.status, output: outcome.output, reason: outcome.reason });
    byMember.set(job.member, outcome);
  });
  return byMember;
}

function enumOf(names: readonly string[]) {
  return z.enum(names as [string, ...string[]]);
}

function critiqueSchema(others: readonly string[]): z.ZodType<Critiques> {
  return z
    .object({
      critiques: z
        .array(
          z.object({
            of: enumOf(others).describe('The author of the proposal you critique.'),
            critique: z.string().min(1).describe('What is wrong or missing, and how to improve it.'),
          }),
        )
        .min(1),
    })
    .superRefine((value, issues) => {
      const missing = others.filter((name) => !value.critiques.some((c) => c.of === name));
      if (missing.length > 0)
        issues.addIssue({ code: 'custom', path: ['critiques'], message: `critique every other proposal; missing: ${missing.join(', ')}` });
    });
}

function ballotSchema(others: readonly string[]): z.ZodType<Ballot> {
  return z.object({
    vote: enumOf(others).describe('The author of the best proposal other than yours.'),
    reason: z.string().min(1).describe('Why, in a sentence or two.'),
  });
}

function verdictSchema(authors: readonly string[]): z.ZodType<Verdict> {
  return z.object({ winner: enumOf(authors).describe('The author of the best proposal.'), reason: z.string().min(1).describe('Why, in a sentence or two.') });
}

function heading(crew: string, goal: string, step: string): string {
  return `# Consensus: ${crew} — ${step}\n\n## Goal\n${goal}`;
}

function proposalsSection(title: string, proposals: ReadonlyMap<string, unknown>, mine: string, include: (name: string) => boolean): string {
  const listed = [...proposals]
    .filter(([name]) => include(name))
    .map(([name, proposal]) => `### ${name}${name === mine ? ' (yours)' : ''}\n${render(proposal)}`);
  return `## ${title}\n${listed.join('\n\n')}`;
}

function proposePrompt(crew: string, goal: string, names: readonly string[], name: string): string {
  return [
    heading(crew, goal, 'proposal'),
    `You are ${name}, one of ${names.length} members (${names.join(', ')}) who each propose a result for the goal. The others will critique your proposal, you will revise it, and everyone then votes for the best proposal other than their own.`,
    'Call `propose` with your proposal.',
  ].join('\n\n');
}

function critiquePrompt(crew: string, goal: string, round: number, name: string, proposals: ReadonlyMap<string, unknown>): string {
  const others = [...proposals.keys()].filter((other) => other !== name);
  return [
    heading(crew, goal, `round ${round}, critique`),
    `## Your proposal\n${render(proposals.get(name))}`,
    proposalsSection('The other proposals', proposals, name, (other) => other !== name),
    `Critique each of the other proposals (${others.join(', ')}): what is wrong or missing, and how it could be better. Call \`critique\` with one entry per proposal.`,
  ].join('\n\n');
}

function revisePrompt(crew: string, goal: string, round: number, name: string, proposal: unknown, critiques: readonly Critique[]): string {
  const mine = critiques.filter((c) => c.of === name).map((c) => `### from ${c.by}\n${c.critique}`);
  return [
    heading(crew, goal, `round ${round}, revision`),
    `## Your proposal\n${render(proposal)}`,
    `## Critiques of your proposal\n${mine.join('\n\n')}`,
    'Revise your proposal where the critiques are right; keep what they got wrong. Call `revise` with your revised proposal.',
  ].join('\n\n');
}

function votePrompt(crew: string, goal: string, round: number, name: string, proposals: ReadonlyMap<string, unknown>): string {
  const others = [...proposals.keys()].filter((other) => other !== name);
  return [
    heading(crew, goal, `round ${round}, vote`),
    proposalsSection('Proposals', proposals, name, () => true),
    `Vote for the best proposal other than your own: one of ${others.join(', ')}. Call \`vote\` with its author and your reason.`,
  ].join('\n\n');
}

function judgePrompt(crew: string, goal: string, proposals: ReadonlyMap<string, unknown>, votes: readonly Vote[], voting: boolean, rounds: number): string {
  const parts = [
    heading(crew, goal, 'judgement'),
    `The members did not reach a majority in ${rounds} rounds.`,
    proposalsSection('Final proposals', proposals, '', () => true),
  ];
  if (voting)
    parts.push(
      `## Votes of the last round\n${votes.length === 0 ? 'No votes were cast.' : votes.map((v) => `- ${v.by} voted for ${v.vote}: ${v.reason}`).join('\n')}`,
    );
  parts.push(`Pick the best proposal. Call \`pick_winner\` with its author (one of ${[...proposals.keys()].join(', ')}) and your reason.`);
  return parts.join('\n\n');
}
