// Writes crews/release-vote/cassette.json, the transcript `troupe run release-vote` replays without
// a key: the standing question (ship release 2.4 on Thursday?) and one other request (which customers
// get it first?). A scripted model plays the four leads, telling them apart by their system message
// and the step by the prompt's heading (its model id says `scripted:release-vote`); release_facts
// really runs. On the standing question the leads split two against two in round 1; in round 2 a
// critique brings up the feature flag, the support lead revises, and three of four vote for it. On
// the rollout question nobody moves, and the crew stops with no-consensus.
// To record live instead: delete the cassette and run the crew with TROUPE_RECORD=1,
// TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 and ANTHROPIC_API_KEY.
// Run: npm run build && node dist/crews/release-vote/author.js
import { rmSync } from 'node:fs';
import { loadCrew, type Message, type ModelRequest } from 'troupe';
import { registerModel, scriptedModel, type ScriptedReply } from 'troupe/testing';
import { withUsage } from '../estimated-usage.js';
import tools from './tools.js';

const cassette = 'crews/release-vote/cassette.json';
export const rolloutRequest = 'Decide which customers get release 2.4 first.';

type Member = 'eng_lead' | 'product_lead' | 'qa_lead' | 'support_lead';
type Proposal = { decision: string; conditions: string[]; rationale: string };
type Question = 'ship' | 'rollout';

const roles: Record<string, Member> = {
  'Engineering lead': 'eng_lead',
  'Product manager': 'product_lead',
  'QA lead': 'qa_lead',
  'Support lead': 'support_lead',
};

// --- the standing question: does 2.4 ship on Thursday?

const shipNote: Proposal = {
  decision: 'ship Thursday',
  conditions: ['Name BUG-311 and its workaround (the old export) in the release notes', 'Fix BUG-311 in 2.4.1 next week'],
  rationale:
    'QA is right that BUG-311 loses data, so customers must be told. But 1412 tests pass, the release holds many other changes, and the partner webinar demos it on Thursday.',
};
const productShip: Proposal = {
  decision: 'ship Thursday',
  conditions: ['The dashboard is live on production for the partner webinar', 'Support gets a known-issue note on BUG-311 before the release'],
  rationale: 'The webinar was announced to partners as a live demo on production; demoing from staging would undercut it.',
};
const qaHold: Proposal = {
  decision: 'hold',
  conditions: ['Ship when BUG-311 is fixed and verified in Safari', 'Demo the dashboard from staging at the webinar'],
  rationale: 'BUG-311 silently drops customer data: a P1, and a release blocker by our own bar. A demo from staging is a smaller cost than lost rows.',
};
const supportWeek: Proposal = {
  decision: 'postpone one week, with the fix',
  conditions: ['Ship when BUG-311 is fixed and verified in Safari (about 5 working days)'],
  rationale: 'About 30% of accounts export CSV weekly and 12% of them use Safari: silent data loss would reach many customers before anyone noticed.',
};
const supportFlag: Proposal = {
  decision: 'ship Thursday with the new export switched off',
  conditions: [
    'Turn the new-export flag off for 2.4: customers keep the old export, which works',
    'QA runs the export tests with the flag off before Thursday',
    'Turn the flag on in 2.4.1, once BUG-311 is fixed and verified in Safari',
  ],
  rationale:
    "The webinar needs the dashboard, not the export, and the old export still ships behind the flag: switching one flag off keeps both the partners' demo and the customers' data.",
};

const ship = {
  proposals: {
    eng_lead: [
      {
        decision: 'ship Thursday',
        conditions: ['Fix BUG-311 in 2.4.1 next week'],
        rationale: '1412 tests pass and none fail; BUG-311 is confined to one feature in one browser, and the webinar demos the dashboard on Thursday.',
      },
      shipNote,
      shipNote,
    ],
    product_lead: [{ ...productShip, conditions: [productShip.conditions[0]!] }, productShip, productShip],
    qa_lead: [{ ...qaHold, conditions: [qaHold.conditions[0]!] }, qaHold, qaHold],
    support_lead: [{ ...supportWeek, decision: 'postpone to next Tuesday' }, supportWeek, supportFlag],
  } satisfies Record<Member, Proposal[]>,
  critiques: [
    {
      eng_lead: {
        product_lead: 'Agreed on shipping; but say what happens to BUG-311.',
        qa_lead: 'Holding the whole release and the partner demo for one feature in one browser is out of proportion.',
        support_lead: 'Tuesday will not hold: the facts give the fix about 5 working days.',
      },
      product_lead: {
        eng_lead: 'Fine; add a known-issue note so support is not surprised.',
        qa_lead: 'A staging demo at a live partner webinar breaks what we announced.',
        support_lead: 'Postponing misses the webinar altogether.',
      },
      qa_lead: {
        eng_lead: 'Shipping a P1 that silently drops rows is below our own bar; a release note does not protect the data.',
        product_lead: 'The webinar is one afternoon; the data loss is permanent for whoever hits it.',
        support_lead: 'Right not to ship the bug, but the fix takes about 5 working days: Tuesday is too early.',
      },
      support_lead: {
        eng_lead: 'Nobody reads release notes: customers exporting in Safari will lose rows without noticing.',
        product_lead: 'A promised demo does not justify shipping a known data-loss bug.',
        qa_lead: 'Right call on the bug; a staging demo is an acceptable cost.',
      },
    },
    {
      eng_lead: {
        product_lead: 'The same as mine; fine.',
        qa_lead: 'Still holds everything for one feature.',
        support_lead: "A week's delay still costs the webinar.",
      },
      product_lead: {
        eng_lead: 'Good.',
        qa_lead: 'Holding is still out of proportion.',
        support_lead:
          'The webinar needs the dashboard, not the export. Instead of postponing everything, switch the new export off with its flag: the facts say the old export still ships behind it.',
      },
      qa_lead: {
        eng_lead: 'Still ships the P1.',
        product_lead: 'Still ships the P1.',
        support_lead:
          'If the new export were switched off I could accept Thursday, provided the export tests run with the flag off first: 2.4 has not been tested that way.',
      },
      support_lead: {
        eng_lead: 'Still exposes Safari users to BUG-311.',
        product_lead: 'Still exposes Safari users to BUG-311.',
        qa_lead: 'A hold is safe, but it may not be the only safe option.',
      },
    },
  ] satisfies Array<Record<Member, Partial<Record<Member, string>>>>,
  votes: [
    {
      eng_lead: ['product_lead', 'Ships on Thursday and keeps the webinar.'],
      product_lead: ['eng_lead', 'Ships on Thursday and tells customers about BUG-311.'],
      qa_lead: ['support_lead', 'Does not ship the data-loss bug.'],
      support_lead: ['qa_lead', 'Keeps BUG-311 away from customers.'],
    },
    {
      eng_lead: ['support_lead', 'Ships Thursday and keeps the demo; the risky feature is switched off instead of the release.'],
      product_lead: ['support_lead', 'Keeps the webinar promise without shipping the bug.'],
      qa_lead: ['support_lead', 'BUG-311 never reaches customers, and the flag-off test run I asked for is a condition.'],
      support_lead: ['qa_lead', 'Of the others, holding is the safest for customers.'],
    },
  ] satisfies Array<Record<Member, [Member, string]>>,
};

// --- the rollout question: everyone keeps their own answer

const rollout = {
  proposals: {
    eng_lead: {
      decision: 'internal accounts first',
      conditions: ['Our own 40 accounts for two days, then everyone'],
      rationale: 'We find problems before customers do, at no cost to them.',
    },
    product_lead: {
      decision: 'the webinar partners first',
      conditions: ['The 12 partner accounts on Thursday, everyone a week later'],
      rationale: 'They were promised the dashboard, and they will give feedback we can use.',
    },
    qa_lead: {
      decision: 'the beta cohort first',
      conditions: ['The 300 accounts that opted into betas, for a week'],
      rationale: 'They agreed to try unfinished work and report what breaks.',
    },
    support_lead: {
      decision: 'accounts that do not export in Safari first',
      conditions: ['Everyone else once BUG-311 is fixed'],
      rationale: 'Those are the customers BUG-311 cannot reach.',
    },
  } satisfies Record<Member, Proposal>,
  critique: 'A reasonable start, but it leaves out what the others care about.',
  votes: {
    eng_lead: ['qa_lead', 'Closest to a safe staged rollout.'],
    qa_lead: ['eng_lead', 'Internal accounts are the safest first step.'],
    product_lead: ['support_lead', 'Puts customers first, which partners will understand.'],
    support_lead: ['product_lead', 'Partners at least expect rough edges.'],
  } satisfies Record<Member, [Member, string]>,
};

// --- the script

const turnOf = (messages: readonly Message[]) => messages.filter((m) => m.role === 'assistant').length;
const call = (name: string, input: unknown, text?: string): ScriptedReply => ({ ...(text ? { text } : {}), toolCalls: [{ name, input }] });
const others = (me: Member): Member[] => (['eng_lead', 'product_lead', 'qa_lead', 'support_lead'] as Member[]).filter((m) => m !== me);

function play(request: ModelRequest): ScriptedReply {
  const me = roles[/^You are ([^.]+)\./.exec(request.system ?? '')?.[1] ?? ''];
  if (!me) throw new Error(`no lead plays the system message "${request.system?.slice(0, 60)}…"`);
  const prompt = request.messages[0]?.role === 'user' ? request.messages[0].content : '';
  const question: Question = prompt.includes(rolloutRequest) ? 'rollout' : 'ship';
  const step = /^# Consensus: release-vote — (.+)$/m.exec(prompt)?.[1] ?? '';
  const round = Number(/^round (\d+)/.exec(step)?.[1] ?? 0);

  if (step === 'proposal') {
    if (turnOf(request.messages) === 0) return call('release_facts', {}, 'Reading the release facts first.');
    return call('propose', question === 'ship' ? ship.proposals[me][0] : rollout.proposals[me]);
  }
  if (step.endsWith('critique')) {
    const critiques =
      question === 'ship'
        ? Object.entries(ship.critiques[round - 1]![me]).map(([of, critique]) => ({ of, critique }))
        : others(me).map((of) => ({ of, critique: rollout.critique }));
    return call('critique', { critiques });
  }
  if (step.endsWith('revision')) return call('revise', question === 'ship' ? ship.proposals[me][round] : rollout.proposals[me]);
  if (step.endsWith('vote')) {
    const [vote, reason] = question === 'ship' ? ship.votes[round - 1]![me] : rollout.votes[me];
    return call('vote', { vote, reason });
  }
  throw new Error(`unknown step "${step}"`);
}

rmSync(cassette, { force: true });
registerModel(
  'release-vote',
  scriptedModel((request) => withUsage(request, play(request)), { id: 'scripted:release-vote' }),
);
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:release-vote';
const crew = loadCrew('crews/release-vote/crew.yaml', { tools: tools() });
for (const request of [undefined, rolloutRequest]) {
  const result = await crew.run(request, { model: `replay:${cassette}` });
  console.log(`release-vote (${request ?? 'standing question'}): ${result.status}: ${result.stop.reason}`);
}
