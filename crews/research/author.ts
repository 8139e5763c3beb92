// Writes crews/research/cassette.json, the transcript the crew replays without a key. It is
// authored with a scripted model that plays the manager and both members, telling them apart by
// their system message (its model id says `scripted:research`); search_notes and read_note really
// run, so the recorded tool results are what the code returns. The script reads those results (which
// notes the search found, what the writer drafted) rather than assuming them. To record live instead:
// delete the cassette and run the crew with TROUPE_RECORD=1
// TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 and ANTHROPIC_API_KEY.
// Run: npm run build && node dist/crews/research/author.js
import { rmSync } from 'node:fs';
import type { Message, ToolMessage } from 'troupe';
import { registerModel, scriptedModel, type ScriptedReply } from 'troupe/testing';
import { withUsage } from '../estimated-usage.js';
import type { ResearchBrief } from './run.js';

type Call = { name: string; input: unknown; id?: string };
type Findings = { findings: Array<{ claim: string; source: string }>; gaps: string[] };
type Check = { verdict: 'approved' | 'changes-needed'; problems: Array<{ advice: string; problem: string }> };

const question = 'How should a client retry calls to a rate-limited API?';

const findings: Findings = {
  findings: [
    {
      claim: 'Retry only transient failures (429, 5xx, dropped connections, timeouts); a 400 or 401 fails again, so report it at once.',
      source: 'backoff-and-jitter',
    },
    {
      claim: 'Wait exponentially longer between attempts (e.g. 500 ms doubling to a 30 s cap) and keep attempts to three or four.',
      source: 'backoff-and-jitter',
    },
    {
      claim: 'Full jitter (a random wait between zero and the exponential delay) avoids synchronized retry waves and needs far fewer calls.',
      source: 'backoff-and-jitter',
    },
    {
      claim: "Prefer the server's Retry-After (or retry-after-ms) hint over the client's own schedule, still bounded by a cap.",
      source: 'retry-after-headers',
    },
    { claim: 'Writes are safe to retry only with an idempotency key generated once per operation and reused for every attempt.', source: 'idempotency-keys' },
    { claim: 'A retry budget caps retries as a share of traffic (e.g. 10%); retry at one layer only to avoid amplification.', source: 'retry-budgets' },
    { claim: 'A token bucket paces requests under the limit; processes sharing a key must share the bucket.', source: 'token-bucket' },
  ],
  gaps: ['The notes give no figures for how long a circuit breaker should stay open.'],
};

const badAdvice = 'Send an Idempotency-Key with every write, generating a fresh key for each attempt so the server can tell attempts apart.';
const goodAdvice = 'Send an Idempotency-Key with every write: generate it once per operation, before the first attempt, and reuse it for every retry.';

function brief(idempotencyAdvice: string): ResearchBrief {
  const recommendations = [
    {
      advice: 'Retry only transient failures (429, 5xx, timeouts, dropped connections), three or four attempts at most; report a 400 or 401 at once.',
      sources: ['backoff-and-jitter'],
    },
    {
      advice:
        'Wait as Retry-After says when the server sends it, bounded by a cap; otherwise back off exponentially from about 500 ms to 30 s, with full jitter.',
      sources: ['retry-after-headers', 'backoff-and-jitter'],
    },
    { advice: idempotencyAdvice, sources: ['idempotency-keys'] },
    { advice: 'Cap retries with a retry budget (say 10% of traffic) and retry at one layer only.', sources: ['retry-budgets'] },
    { advice: 'Pace requests with a token bucket shared by every process that uses the API key, so 429s stay rare.', sources: ['token-bucket'] },
  ];
  return {
    title: 'Retrying calls to a rate-limited API',
    summary:
      "Retry only transient failures, waiting as the server's Retry-After says or with capped exponential backoff and full jitter. " +
      'Make writes safe to repeat with idempotency keys, bound retries with a budget, and pace requests so that 429s stay rare.',
    recommendations,
    sources: [...new Set(recommendations.flatMap((r) => r.sources))],
  };
}

// --- helpers over the conversation a role is shown

const turnOf = (messages: readonly Message[]) => messages.filter((m) => m.role === 'assistant').length;
const firstUser = (messages: readonly Message[]) => (messages[0]?.role === 'user' ? messages[0].content : '');
const lastToolOutputs = (messages: readonly Message[]) => {
  const last = messages.at(-1);
  return last?.role === 'tool' ? last.content.map((r) => r.output) : [];
};
const contextOf = (prompt: string) => prompt.split('## Context\n')[1] ?? '';
const calls = (...list: Call[]): { toolCalls: Call[] } => ({ toolCalls: list });

function manager(messages: readonly Message[]): ScriptedReply {
  const delegate = (task: string, context: string, text: string): ScriptedReply => ({
    text,
    toolCalls: [{ name: 'delegate_task', input: { member: task === 'draft_brief' ? 'writer' : 'researcher', task, context } }],
  });
  const [result = ''] = lastToolOutputs(messages);
  switch (turnOf(messages)) {
    case 0:
      return delegate(
        'find_sources',
        `Question: ${question}\nCover when to retry, how long to wait, which requests are safe to repeat, and how to keep retries from adding to the overload.`,
        'First the sources: the researcher searches the notes.',
      );
    case 1:
      return delegate('draft_brief', `Question: ${question}\n\nFindings:\n${result}`, 'Seven findings from five notes. Now the writer drafts the brief.');
    case 2:
      return delegate('check_brief', `Question: ${question}\n\nBrief:\n${result}`, 'A draft. Before I accept it, the researcher checks it against the notes.');
    case 3: {
      const check = JSON.parse(result) as Check;
      if (check.verdict === 'approved') return { toolCalls: [{ name: 'finish', input: JSON.parse(previousResult(messages, 1)) }] };
      return delegate(
        'draft_brief',
        `Question: ${question}\n\nYour draft:\n${previousResult(messages, 1)}\n\nThe checker's problems:\n${JSON.stringify(check.problems, null, 2)}`,
        'The check found a problem; the writer fixes it.',
      );
    }
    case 4:
      return delegate('check_brief', `Question: ${question}\n\nBrief:\n${result}`, 'The revised draft goes back to the researcher for a second check.');
    default: {
      const check = JSON.parse(result) as Check;
      if (check.verdict !== 'approved') throw new Error('the script expected the second check to approve');
      return { text: 'The checked brief answers the question.', toolCalls: [{ name: 'finish', input: JSON.parse(previousResult(messages, 3)) }] };
    }
  }
}

/** The result of the manager's `index`-th delegation (0-based). */
function previousResult(messages: readonly Message[], index: number): string {
  const results = messages.filter((m): m is ToolMessage => m.role === 'tool');
  return results[index]?.content[0]?.output ?? '';
}

function researcher(messages: readonly Message[]): ScriptedReply {
  const prompt = firstUser(messages);
  const turn = turnOf(messages);
  if (prompt.includes('# Task from research_manager\n\nSearch the notes')) {
    if (turn === 0)
      return {
        text: 'Searching the notes.',
        ...calls({ name: 'search_notes', input: { query: 'retry rate limit 429 backoff jitter idempotency', limit: 5 } }),
      };
    if (turn === 1) {
      const hits = JSON.parse(lastToolOutputs(messages)[0]!) as Array<{ id: string }>;
      return calls(...hits.map((hit) => ({ name: 'read_note', input: { id: hit.id } })));
    }
    const read = new Set(readIds(messages));
    const unread = findings.findings.filter((f) => !read.has(f.source));
    if (unread.length > 0) throw new Error(`the script cites notes it did not read: ${unread.map((f) => f.source).join(', ')}`);
    return { toolCalls: [{ name: 'finish', input: findings }] };
  }
  // check_brief: read every cited note again, then judge each recommendation.
  const draft = JSON.parse(contextOf(prompt).split('Brief:\n')[1]!) as ResearchBrief;
  if (turn === 0) return { text: 'Reading the cited notes again.', ...calls(...draft.sources.map((id) => ({ name: 'read_note', input: { id } }))) };
  const wrong = draft.recommendations.filter((r) => r.advice.includes('fresh key for each attempt'));
  const check: Check = wrong.length
    ? {
        verdict: 'changes-needed',
        problems: wrong.map((r) => ({
          advice: r.advice,
          problem:
            'idempotency-keys says the opposite: generate the key once, before the first attempt, and reuse it for every retry; a new key per attempt defeats the purpose.',
        })),
      }
    : { verdict: 'approved', problems: [] };
  return { toolCalls: [{ name: 'finish', input: check }] };
}

function readIds(messages: readonly Message[]): string[] {
  return messages.flatMap((m) =>
    m.role === 'assistant'
      ? m.content.flatMap((part) => (part.type === 'tool-call' && part.name === 'read_note' ? [(part.input as { id: string }).id] : []))
      : [],
  );
}

function writer(messages: readonly Message[]): ScriptedReply {
  const revising = contextOf(firstUser(messages)).includes("The checker's problems");
  return { toolCalls: [{ name: 'finish', input: brief(revising ? goodAdvice : badAdvice) }] };
}

const author = scriptedModel(
  (request) => {
    const system = request.system ?? '';
    const play = system.startsWith('You run a small research desk')
      ? manager
      : system.startsWith('You are Research analyst.')
        ? researcher
        : system.startsWith('You are Technical writer.')
          ? writer
          : undefined;
    if (!play) throw new Error(`no role plays the system message "${system.slice(0, 60)}…"`);
    return withUsage(request, play(request.messages));
  },
  { id: 'scripted:research' },
);

rmSync('crews/research/cassette.json', { force: true });
registerModel('research', author);
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:research';
delete process.env.ANTHROPIC_API_KEY;
const { runResearch } = await import('./run.js');
const result = await runResearch();
if (result.status !== 'finished') throw new Error(`authoring did not finish: ${result.stop.reason}`);
