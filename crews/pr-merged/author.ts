// Writes crews/pr-merged/cassette.json, the transcript the llm coordinator replays without a key.
// It is authored with a scripted model (its id says `scripted:pr-merged`) that decides from what it
// is shown, as a model would, and makes the mistake this example is about: given a message with
// two pull-request links, it checks the first one and, finding it merged, reacts, although the
// prompt says a message with several links gets no reaction. The script coordinator gets that
// message right; `npx troupe coordinator compare crews/pr-merged/pr-merged.yaml` shows the
// difference. The tools really run, against the fixture service. To record live instead: delete
// the cassette and run with TROUPE_RECORD=1 TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 and
// ANTHROPIC_API_KEY.
// Run: npm run build && node dist/crews/pr-merged/author.js
import { rmSync } from 'node:fs';
import type { ModelRequest, ToolMessage } from 'troupe';
import { registerModel, reply, scriptedModel } from 'troupe/testing';

const pullLink = /https:\/\/github\.com\/([\w.-]+\/[\w.-]+)\/pull\/(\d+)/g;

function decide(request: ModelRequest) {
  const message = JSON.parse(String(request.messages[0]!.content).split('\n\n')[1]!) as { channel: string; ts: string; text: string };
  const last = request.messages.at(-1)!;
  if (last.role === 'user') {
    const links = [...new Set([...message.text.matchAll(pullLink)].map((m) => `${m[1]}#${m[2]}`))];
    if (links.length === 0) return reply.finish({ answer: 'No reaction: the message links no pull request.' });
    // The mistake: several links are treated as one, the first.
    const [repo, number] = links[0]!.split('#') as [string, string];
    return {
      text: links.length === 1 ? `The message links ${links[0]}; checking its state.` : `The message links ${links[0]} (and more); checking ${links[0]}.`,
      toolCalls: [{ name: 'get_pull_request', input: { repo, number: Number(number) }, id: `toolu_pr_${message.ts}` }],
    };
  }
  const result = (last as ToolMessage).content[0]!;
  if (result.name === 'get_pull_request') {
    const pull = JSON.parse(result.output) as { repo: string; number: number; state: string };
    if (pull.state === 'open') return reply.finish({ answer: `No reaction: ${pull.repo}#${pull.number} is still open.` });
    return {
      text: `${pull.repo}#${pull.number} is ${pull.state}; adding the reaction.`,
      toolCalls: [{ name: 'add_reaction', input: { channel: message.channel, ts: message.ts, reaction: 'merged' }, id: `toolu_re_${message.ts}` }],
    };
  }
  return reply.finish({ answer: 'Added the merged reaction.' });
}

rmSync('crews/pr-merged/cassette.json', { force: true });
registerModel('pr-merged', scriptedModel(decide, { id: 'scripted:pr-merged' }));
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:pr-merged';
delete process.env.ANTHROPIC_API_KEY;
const { runPrMerged } = await import('./run.js');
await runPrMerged('llm');
