// The consensual crew example through the built CLI (`npm run build` first), as a user runs it.
import { describe, expect, it } from 'vitest';
import { exampleCli } from '../support/example-cli.js';

const troupe = exampleCli('release-vote');

interface Round {
  round: number;
  critiques: Array<{ by: string; of: string; critique: string }>;
  revisions: Record<string, { decision: string }>;
  votes: Array<{ by: string; vote: string; reason: string }>;
  tally: Record<string, number>;
  winner?: string;
}
interface Result {
  status: string;
  process: string;
  stop: { kind: string; condition?: string; reason: string; detail?: Record<string, unknown> };
  output?: { decision: string; conditions: string[] };
  rounds: Round[];
  decision?: { by: string; winner: string; reason: string };
  tasks: Array<{ task: string; agent: string }>;
}

describe('crews/release-vote', { timeout: 300_000 }, () => {
  it('runs offline: no majority in round 1, then a critique brings up the flag and three of four vote for it', async () => {
    const result = await troupe('run', 'release-vote', '--json');

    expect(result.stderr).toMatch(/no API key is set: replaying the recorded transcript crews\/release-vote\/cassette.json/);
    expect(result.status).toBe(0);
    const run = JSON.parse(result.stdout) as Result;
    expect(run).toMatchObject({
      status: 'finished',
      process: 'consensual',
      stop: { kind: 'finish', reason: "support_lead's proposal won 3 of 4 votes in round 2" },
      decision: { by: 'vote', winner: 'support_lead' },
      output: { decision: 'ship Thursday with the new export switched off' },
    });
    expect(run.output!.conditions).toContain('QA runs the export tests with the flag off before Thursday');
    // Every lead read the release facts before proposing.
    expect(run.tasks.filter((t) => t.task === 'round-1/propose').map((t) => t.agent)).toEqual(['eng_lead', 'product_lead', 'qa_lead', 'support_lead']);

    const [first, second] = run.rounds;
    expect(run.rounds).toHaveLength(2);
    // Round 1: every lead critiques the three others, and the votes split two against two.
    expect(first!.critiques).toHaveLength(12);
    expect(first!.votes.map((v) => `${v.by}→${v.vote}`)).toEqual([
      'eng_lead→product_lead',
      'product_lead→eng_lead',
      'qa_lead→support_lead',
      'support_lead→qa_lead',
    ]);
    expect(first!.tally).toEqual({ eng_lead: 1, product_lead: 1, qa_lead: 1, support_lead: 1 });
    expect(first!.winner).toBeUndefined();
    // Round 2: the product lead's critique names the flag, the support lead revises to it, and wins.
    expect(second!.critiques.find((c) => c.by === 'product_lead' && c.of === 'support_lead')!.critique).toMatch(/switch the new export off with its flag/);
    expect(first!.revisions.support_lead!.decision).toBe('postpone one week, with the fix');
    expect(second!.revisions.support_lead!.decision).toBe('ship Thursday with the new export switched off');
    expect(second!.tally).toEqual({ eng_lead: 0, product_lead: 0, qa_lead: 1, support_lead: 3 });
    expect(second!.votes.find((v) => v.by === 'qa_lead')!.reason).toMatch(/flag-off test run/);
    expect(second!.winner).toBe('support_lead');
  });

  it('on the recorded rollout question the leads stay split, and the crew stops with no-consensus (exit 1)', async () => {
    const result = await troupe('run', 'release-vote', '--request', 'Decide which customers get release 2.4 first.', '--json', '--quiet');

    expect(result.status).toBe(1);
    const run = JSON.parse(result.stdout) as Result;
    expect(run).toMatchObject({
      status: 'stopped',
      stop: {
        kind: 'stopped',
        condition: 'no-consensus',
        reason:
          'no proposal won a majority of 4 votes in 2 rounds (eng_lead and product_lead and qa_lead and support_lead tied with 1 votes each) and there is no judge',
        detail: { rounds: 2, needed: 3, leader: null },
      },
    });
    expect(run.output).toBeUndefined();
    expect(run.decision).toBeUndefined();
    expect(run.rounds.map((r) => r.winner)).toEqual([undefined, undefined]);
    expect(Object.values(run.rounds[1]!.revisions).map((p) => p.decision)).toEqual([
      'internal accounts first',
      'the webinar partners first',
      'the beta cohort first',
      'accounts that do not export in Safari first',
    ]);
  });
});
