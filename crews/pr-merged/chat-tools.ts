// The tools of the pr-merged configuration: HTTP clients of a code host shaped like GitHub's REST
// API and a chat API shaped like Slack's (fixture-service.ts serves both on 127.0.0.1). Tokens,
// when given, travel only in the Authorization header; they are never part of a result.
import { z } from 'zod';
import { defineTool, type Trigger } from 'troupe';
import type { Channel } from './fixture-service.js';

export interface ApiEndpoints {
  /** Base URL of the code host's REST API (GitHub: https://api.github.com). */
  github: string;
  /** Base URL of the chat API (Slack: https://slack.com). */
  chat: string;
  githubToken?: string;
  chatToken?: string;
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

export function chatTools(api: ApiEndpoints) {
  return [
    defineTool({
      name: 'get_pull_request',
      description: 'Looks up a pull request by repository (owner/name) and number; returns its title and state (open, merged or closed).',
      input: z.object({ repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/), number: z.number().int().positive() }),
      sideEffects: 'read',
      run: async ({ repo, number }) => {
        const pull = (await call(api.github, `/repos/${repo}/pulls/${number}`, api.githubToken)) as { title: string; state: string; merged: boolean };
        return { repo, number, title: pull.title, state: pull.merged ? 'merged' : pull.state };
      },
    }),
    defineTool({
      name: 'add_reaction',
      description: 'Adds an emoji reaction to a chat message.',
      input: z.object({ channel: z.string(), ts: z.string(), reaction: z.string().regex(/^[a-z0-9_+-]+$/) }),
      sideEffects: 'write',
      run: async ({ channel, ts, reaction }) => {
        const result = (await call(api.chat, '/api/reactions.add', api.chatToken, { channel, timestamp: ts, name: reaction })) as {
          ok: boolean;
          error?: string;
        };
        if (!result.ok) throw new Error(`the chat service refused the reaction: ${result.error ?? 'no reason given'}`);
        return 'ok';
      },
    }),
    defineTool({
      name: 'delete_message',
      description: 'Deletes a chat message. No configuration here approves it.',
      input: z.object({ channel: z.string(), ts: z.string() }),
      sideEffects: 'external',
      run: () => {
        throw new Error('delete_message is not implemented: no configuration approves it');
      },
    }),
  ];
}

async function call(base: string, path: string, token: string | undefined, body?: unknown): Promise<unknown> {
  const response = await fetch(`${base.replace(/\/$/, '')}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${path} answered ${response.status} ${response.statusText}`);
  return response.json();
}
