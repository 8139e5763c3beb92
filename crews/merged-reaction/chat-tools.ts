// Tools over a small local fixture of a chat channel and pull-request states (channel.json), so the
// merged-reaction configuration runs without a chat service or GitHub. Reactions are kept in memory.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineTool, type Trigger } from 'troupe';

export interface Channel {
  channel: string;
  messages: Array<{ ts: string; user: string; text: string }>;
  pulls: Record<string, { title: string; state: 'open' | 'merged' | 'closed' }>;
}

export function loadChannel(path = 'crews/merged-reaction/channel.json'): Channel {
  return JSON.parse(readFileSync(path, 'utf8')) as Channel;
}

/** One chat-message event per message of the channel, as a chat service's webhook would send them. */
export function messageTriggers(channel: Channel): Trigger[] {
  return channel.messages.map((message) => ({
    kind: 'event',
    id: `msg-${message.ts}`,
    source: 'chat',
    data: { type: 'message', channel: channel.channel, ...message },
  }));
}

export function chatTools(channel: Channel) {
  const reactions: Array<{ channel: string; ts: string; reaction: string }> = [];
  const tools = [
    defineTool({
      name: 'get_pull_request',
      description: 'Looks up a pull request by repository (owner/name) and number; returns its title and state (open, merged or closed).',
      input: z.object({ repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/), number: z.number().int().positive() }),
      sideEffects: 'read',
      run: ({ repo, number }) => {
        const pull = channel.pulls[`${repo}#${number}`];
        if (!pull) throw new Error(`no pull request ${repo}#${number}`);
        return { repo, number, ...pull };
      },
    }),
    defineTool({
      name: 'add_reaction',
      description: 'Adds an emoji reaction to a chat message.',
      input: z.object({ channel: z.string(), ts: z.string(), reaction: z.string().regex(/^[a-z0-9_+-]+$/) }),
      sideEffects: 'write',
      run: (reaction) => {
        if (!channel.messages.some((m) => m.ts === reaction.ts)) throw new Error(`no message ${reaction.ts} in #${reaction.channel}`);
        reactions.push(reaction);
        return 'ok';
      },
    }),
    defineTool({
      name: 'delete_message',
      description: 'Deletes a chat message. No configuration here approves it.',
      input: z.object({ channel: z.string(), ts: z.string() }),
      sideEffects: 'external',
      run: () => 'deleted',
    }),
  ];
  return { tools, reactions };
}
