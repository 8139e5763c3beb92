// The reviewed script that replaces the model as coordinator of pr-merged.yaml: the same
// approved tools and trigger, with the decision written as code.
import type { ScriptContext } from 'troupe';

const pullLink = /https:\/\/github\.com\/([\w.-]+\/[\w.-]+)\/pull\/(\d+)/g;

export default async function prMerged({ trigger, tools }: ScriptContext): Promise<string> {
  const { channel, ts, text } = trigger.data as { channel: string; ts: string; text: string };
  const links = [...new Set([...text.matchAll(pullLink)].map((match) => `${match[1]}#${match[2]}`))];
  if (links.length !== 1) return `no reaction: the message links ${links.length} pull requests`;
  const [repo, number] = links[0]!.split('#') as [string, string];
  const pull = (await tools.get_pull_request!({ repo, number: Number(number) })) as { state: string };
  if (pull.state !== 'merged' && pull.state !== 'closed') return `no reaction: ${links[0]} is ${pull.state}`;
  await tools.add_reaction!({ channel, ts, reaction: 'merged' });
  return `added merged: ${links[0]} is ${pull.state}`;
}
