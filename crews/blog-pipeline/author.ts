// Writes crews/blog-pipeline/cassette.json, the transcript `troupe run blog-pipeline` replays without
// a key. A scripted model plays the three members, telling them apart by their system message (its
// model id says `scripted:blog-pipeline`); count_words really runs, and the editor reports the count
// the tool returned. The writer's draft runs long; the editor measures it, cuts it and measures again.
// To record live instead: delete the cassette and run the crew with TROUPE_RECORD=1,
// TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 and ANTHROPIC_API_KEY.
// Run: npm run build && node dist/crews/blog-pipeline/author.js
import { rmSync } from 'node:fs';
import { loadCrew, type Message, type ModelRequest } from 'troupe';
import { registerModel, scriptedModel, type ScriptedReply } from 'troupe/testing';
import { withUsage } from '../estimated-usage.js';
import tools from './tools.js';

const cassette = 'crews/blog-pipeline/cassette.json';

const outline = {
  title: 'Why payment APIs need idempotency keys',
  audience: 'Backend engineers who call a payment API and retry failed requests',
  sections: [
    {
      heading: 'A timeout is not a failure',
      points: ['The server may have charged the card before the connection dropped', 'A blind retry can charge twice'],
    },
    {
      heading: 'What an idempotency key does',
      points: ['The client sends a unique key with the request', 'The server stores the first result under the key and replays it for repeats'],
    },
    {
      heading: 'Using keys well',
      points: ['Generate the key once per operation, before the first attempt', 'Reuse it for every retry; never generate a new one per attempt'],
    },
  ],
};

const draft = {
  title: outline.title,
  markdown: `# Why payment APIs need idempotency keys

## A timeout is not a failure

When you call a payment API and the request times out, it is very tempting to think that the payment simply failed and that you can just try again. But in actual fact the server may well have received your request, charged the customer's card and only then lost the connection before it could send its reply back to you. From the client's side, a charge that happened and a charge that never happened look exactly the same. If you retry blindly, you can end up charging the customer twice, which is the kind of bug that customers remember and support teams dread.

## What an idempotency key does

An idempotency key is a unique value that the client sends along with the request, usually in a header such as \`Idempotency-Key\`. The server stores the result of the first request it sees under that key. When a request with the same key arrives again, the server does not run the operation a second time; instead it simply replays the stored result. So a retry of a charge that already went through returns the original charge, not a new one.

## Using keys well

It is really important to generate the key once per operation, before the very first attempt, and to keep it together with the operation it belongs to. Then you reuse exactly the same key for every single retry of that operation. Never generate a new key for each attempt: a fresh key makes every retry look like a brand new payment to the server, which completely defeats the whole purpose of having a key in the first place. With one key per operation, retrying after a timeout becomes safe.
`,
};

const edited = {
  title: outline.title,
  markdown: `# Why payment APIs need idempotency keys

## A timeout is not a failure

When a payment request times out, the server may already have charged the card and lost the connection before replying. To the client, a charge that happened and one that did not look the same, so a blind retry can charge the customer twice.

## What an idempotency key does

The client sends a unique key with the request, usually in an \`Idempotency-Key\` header. The server stores the first result under that key; a repeat with the same key gets the stored result instead of a second charge.

## Using keys well

Generate the key once per operation, before the first attempt, and store it with the operation. Reuse it for every retry. A new key per attempt makes each retry look like a new payment and defeats the purpose. With one key per operation, retrying after a timeout is safe.
`,
};

const turnOf = (messages: readonly Message[]) => messages.filter((m) => m.role === 'assistant').length;
const lastToolOutput = (messages: readonly Message[]) => {
  const last = messages.at(-1);
  return last?.role === 'tool' ? (last.content[0]?.output ?? '') : '';
};
const finish = (input: unknown, text?: string): ScriptedReply => ({ ...(text ? { text } : {}), toolCalls: [{ name: 'finish', input }] });

function editor(messages: readonly Message[]): ScriptedReply {
  switch (turnOf(messages)) {
    case 0:
      return { text: 'Measuring the draft first.', toolCalls: [{ name: 'count_words', input: { text: draft.markdown } }] };
    case 1: {
      const { words } = JSON.parse(lastToolOutput(messages)) as { words: number };
      if (words <= 200) throw new Error(`the script expected the draft to run over 200 words, not ${words}`);
      return {
        text: `The draft has ${words} words, over the 200 allowed. Cutting filler, then measuring the edit.`,
        toolCalls: [{ name: 'count_words', input: { text: edited.markdown } }],
      };
    }
    default: {
      const { words } = JSON.parse(lastToolOutput(messages)) as { words: number };
      return finish({
        ...edited,
        word_count: words,
        changes: [
          'Cut the draft to fit 200 words: removed filler ("in actual fact", "really important", "very tempting", "the whole purpose ... in the first place")',
          'Merged the two sentences on what the client sees into one',
          'Kept every point of the outline, including "reuse it for every retry; never a new key per attempt"',
        ],
      });
    }
  }
}

function play(request: ModelRequest): ScriptedReply {
  const system = request.system ?? '';
  if (system.startsWith('You are Content strategist.')) return finish(outline);
  if (system.startsWith('You are Technical writer.')) return finish(draft, 'Drafting one section per heading of the outline.');
  if (system.startsWith('You are Editor.')) return editor(request.messages);
  throw new Error(`no member plays the system message "${system.slice(0, 60)}…"`);
}

rmSync(cassette, { force: true });
registerModel(
  'blog-pipeline',
  scriptedModel((request) => withUsage(request, play(request)), { id: 'scripted:blog-pipeline' }),
);
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:blog-pipeline';
const crew = loadCrew('crews/blog-pipeline/crew.yaml', { tools: tools() });
const result = await crew.run(undefined, { model: `replay:${cassette}` });
if (result.status !== 'finished') throw new Error(`authoring did not finish: ${result.stop.reason}`);
console.log(`blog-pipeline ${result.status}: ${result.stop.reason}`);
