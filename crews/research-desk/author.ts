// Writes crews/research-desk/cassette.json, the transcript the research desk replays without a key.
// A scripted model (its model id says `scripted:research-desk`) plays the coordinator and the two
// agents it creates, telling them apart by their system message; the note tools and
// check_citations really run, and the script reads their results. The coordinator plans its
// worklist, creates a researcher per part of the question, tries to answer while the citation
// check is still open (the worklist refuses), then checks its citations, finds it cited a note id
// that does not exist, looks up the right one, checks again and answers.
// To record live instead: delete the cassette and handle the trigger with TROUPE_RECORD=1,
// TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 and ANTHROPIC_API_KEY.
// Run: npm run build && node dist/crews/research-desk/author.js
import { readFileSync, rmSync } from 'node:fs';
import { Handler, loadConfiguration, type Message, type ModelRequest, type Trigger } from 'troupe';
import { registerModel, scriptedModel, type ScriptedReply } from 'troupe/testing';
import { withUsage } from '../estimated-usage.js';
import tools from './tools.js';

const cassette = 'crews/research-desk/cassette.json';

const retryInstructions =
  'You research retry behaviour in the team notes. Search with search_notes, read every note you cite with read_note, and answer with findings that each quote the note they come from, by its id.';
const paymentInstructions =
  'You research how to make payment writes safe to retry, in the team notes. Search with search_notes, read every note you cite with read_note, and answer with findings that each quote the note they come from, by its id.';

type Citation = { note: string; quote: string };
const citations = (retryAfterNote: string): Citation[] => [
  { note: 'backoff-and-jitter', quote: 'Retry only what is transient' },
  { note: 'backoff-and-jitter', quote: 'a 429, a 5xx, a dropped connection or a timeout' },
  { note: retryAfterNote, quote: "prefer the server's hint over its own backoff schedule" },
  { note: 'backoff-and-jitter', quote: 'doubled on each attempt, up to a cap such as 30 s' },
  { note: 'backoff-and-jitter', quote: 'the client sleeps a random time between zero and the exponential delay' },
  { note: 'idempotency-keys', quote: 'Generate the key once, before the first attempt, and reuse it for every retry' },
];

const answer = (retryAfterNote: string) =>
  [
    'Retry only transient failures — 429s, 5xx responses, dropped connections and timeouts [backoff-and-jitter]; report a 400 or 401 at once.',
    `When the provider sends Retry-After, wait as it says, still bounded by a cap [${retryAfterNote}];`,
    'otherwise back off exponentially, from about 500 ms doubling up to a 30 s cap, sleeping a random time between zero and that delay (full jitter) [backoff-and-jitter].',
    'To never charge a customer twice, send an Idempotency-Key with every payment request: generate it once per payment, before the first attempt, and reuse it for every retry [idempotency-keys].',
  ].join(' ');

const turnOf = (messages: readonly Message[]) => messages.filter((m) => m.role === 'assistant').length;
const toolOutputs = (messages: readonly Message[]) => messages.flatMap((m) => (m.role === 'tool' ? m.content.map((r) => r.output) : []));
const call = (name: string, input: unknown, text?: string): ScriptedReply => ({ ...(text ? { text } : {}), toolCalls: [{ name, input }] });

function coordinator(messages: readonly Message[]): ScriptedReply {
  const outputs = toolOutputs(messages);
  const last = outputs.at(-1) ?? '';
  switch (turnOf(messages)) {
    case 0:
      return call(
        'plan_work',
        {
          items: [
            { id: 'when-to-retry', description: 'Which failures to retry, and how long to wait between attempts', priority: 0 },
            { id: 'no-double-charge', description: 'How to make a retried payment safe, so a customer is never charged twice', priority: 1 },
            { id: 'check-citations', description: 'Check every citation of the answer against the notes', priority: 2 },
          ],
        },
        'Three parts: when to retry, how to avoid double charges, and a check of the citations.',
      );
    case 1:
      return call('create_agent', {
        name: 'retry_researcher',
        instructions: retryInstructions,
        tools: ['search_notes', 'read_note'],
        task: 'Which failures should a payment client retry (429s, timeouts, 5xx), and how long should it wait between attempts? Quote the notes.',
      });
    case 2:
      return call('update_work', { id: 'when-to-retry', status: 'done', result: last });
    case 3:
      return call('create_agent', {
        name: 'payment_safety_researcher',
        instructions: paymentInstructions,
        tools: ['search_notes', 'read_note'],
        task: 'How does a client retry a payment request without charging the customer twice? Quote the notes.',
      });
    case 4:
      return call('update_work', { id: 'no-double-charge', status: 'done', result: last });
    case 5:
      // The slip: answering before the citation check, and citing "retry-after" (the header) as if it were the note's id.
      return call('finish', { answer: answer('retry-after') }, 'Both parts are answered.');
    case 6:
      return call('check_citations', { citations: citations('retry-after') }, 'The citation check is still open: checking them now.');
    case 7: {
      const check = JSON.parse(last) as { ok: boolean; problems: string[] };
      if (check.ok) throw new Error('the script expected the first check to find the wrong note id');
      return call(
        'plan_work',
        { items: [{ id: 'fix-retry-after-citation', description: `Fix: ${check.problems[0]}`, priority: 0 }] },
        'One citation names a note that does not exist: finding the right one first.',
      );
    }
    case 8:
      return call('search_notes', { query: 'Retry-After server hint', limit: 2 });
    case 9: {
      const [hit] = JSON.parse(last) as Array<{ id: string }>;
      return call('check_citations', { citations: citations(hit!.id) }, `The Retry-After note is "${hit!.id}". Checking the citations again.`);
    }
    case 10: {
      const check = JSON.parse(last) as { ok: boolean; problems: string[] };
      if (!check.ok) throw new Error(`the script expected the second check to pass: ${check.problems.join('; ')}`);
      return {
        toolCalls: [
          { name: 'update_work', input: { id: 'fix-retry-after-citation', status: 'done', result: 'retry-after → retry-after-headers' } },
          { name: 'update_work', input: { id: 'check-citations', status: 'done', result: 'all 6 citations are in their notes' } },
        ],
      };
    }
    default:
      return call('finish', { answer: answer('retry-after-headers') });
  }
}

/** A researcher the coordinator created: searches, reads what it found, and reports findings quoting what it read. */
function researcher(messages: readonly Message[], query: string, findings: Array<{ note: string; quote: string; finding: string }>): ScriptedReply {
  const turn = turnOf(messages);
  if (turn === 0) return call('search_notes', { query, limit: 3 }, 'Searching the notes.');
  if (turn === 1) {
    const hits = JSON.parse(toolOutputs(messages).at(-1)!) as Array<{ id: string }>;
    return { toolCalls: hits.map((hit) => ({ name: 'read_note', input: { id: hit.id } })) };
  }
  const read = toolOutputs(messages).slice(1).join('\n').replace(/\s+/g, ' ');
  for (const { quote } of findings) if (!read.includes(quote)) throw new Error(`the script quotes what it did not read: ${quote}`);
  return call('finish', { result: findings.map((f) => `- ${f.finding} ("${f.quote}" [${f.note}])`).join('\n') });
}

function play(request: ModelRequest): ScriptedReply {
  const system = request.system ?? '';
  if (system.startsWith('You run a research desk')) return coordinator(request.messages);
  if (system.startsWith(retryInstructions))
    return researcher(request.messages, 'retry 429 timeout backoff wait', [
      { note: 'backoff-and-jitter', quote: 'a 429, a 5xx, a dropped connection or a timeout', finding: 'Retry transient failures only' },
      { note: 'backoff-and-jitter', quote: 'doubled on each attempt, up to a cap such as 30 s', finding: 'Back off exponentially from a base delay' },
      { note: 'backoff-and-jitter', quote: 'sleeps a random time between zero and the exponential delay', finding: 'Use full jitter' },
      { note: 'retry-after-headers', quote: "A client should prefer the server's hint over its own backoff schedule", finding: 'Honour Retry-After' },
    ]);
  if (system.startsWith(paymentInstructions))
    return researcher(request.messages, 'idempotency key payment charge twice', [
      { note: 'idempotency-keys', quote: 'a blind retry may charge the customer twice', finding: 'A blind retry of a payment can double-charge' },
      {
        note: 'idempotency-keys',
        quote: 'Generate the key once, before the first attempt, and reuse it for every retry',
        finding: 'Send one idempotency key per payment, reused by every retry',
      },
    ]);
  throw new Error(`no one plays the system message "${system.slice(0, 60)}…"`);
}

rmSync(cassette, { force: true });
registerModel(
  'research-desk',
  scriptedModel((request) => withUsage(request, play(request)), { id: 'scripted:research-desk' }),
);
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:research-desk';
const registry = tools();
const configuration = loadConfiguration('crews/research-desk/research-desk.yaml', { tools: registry });
const trigger = JSON.parse(readFileSync('crews/research-desk/trigger.json', 'utf8')) as Trigger;
const outcome = await new Handler({ configurations: [configuration], tools: registry, model: `replay:${cassette}` }).handle(trigger);
if (outcome.status !== 'done') throw new Error(`authoring did not finish: ${outcome.why}`);
console.log(`research-desk ${outcome.status}: ${outcome.why}\n${outcome.answer}`);
