// A local stand-in for the two services pr-merged talks to, on 127.0.0.1 (an ephemeral port by
// default): a code host shaped like GitHub's REST API (GET /repos/:owner/:repo/pulls/:number) and
// a chat API shaped like Slack's Web API (POST /api/reactions.add, GET /api/reactions.get). Its
// data is channel.json; reactions are kept in memory, so each service starts clean.
// Run alone: node dist/crews/pr-merged/fixture-service.js [port]
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface Channel {
  channel: string;
  messages: Array<{ ts: string; user: string; text: string }>;
  pulls: Record<string, { title: string; state: 'open' | 'merged' | 'closed' }>;
}

export interface Reaction {
  channel: string;
  timestamp: string;
  name: string;
}

export interface FixtureService {
  /** The base URL of both APIs, e.g. http://127.0.0.1:40123 (no trailing slash). */
  url: string;
  channel: Channel;
  /** Every reaction added, in order. */
  reactions: Reaction[];
  /** Every reactions.add request received, refused or not: a repeated side effect shows here even where the API refuses the duplicate. */
  reactionRequests: Partial<Reaction>[];
  close(): Promise<void>;
}

/** channel.json, which sits beside this file's source (crews/pr-merged/), read from wherever it was compiled to. */
export function loadChannel(path = channelPath()): Channel {
  return JSON.parse(readFileSync(path, 'utf8')) as Channel;
}

function channelPath(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  // Compiled, this file is in dist/crews/pr-merged/, and channel.json stays in crews/pr-merged/.
  return here.includes('/dist/crews/') ? `${here.replace('/dist/crews/', '/crews/')}channel.json` : `${here}channel.json`;
}

/** Starts the service; `unref` lets a command that only used it exit without closing it. */
export async function startFixtureService(options: { channel?: Channel; port?: number; unref?: boolean } = {}): Promise<FixtureService> {
  const channel = options.channel ?? loadChannel();
  const reactions: Reaction[] = [];
  const reactionRequests: Partial<Reaction>[] = [];
  const server = createServer((request, response) => {
    route(channel, reactions, reactionRequests, request, response).catch((error: unknown) => send(response, 500, { message: (error as Error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  if (options.unref) server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    channel,
    reactions,
    reactionRequests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function route(
  channel: Channel,
  reactions: Reaction[],
  reactionRequests: Partial<Reaction>[],
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://fixture');
  const pull = /^\/repos\/([\w.-]+)\/([\w.-]+)\/pulls\/(\d+)$/.exec(url.pathname);
  if (request.method === 'GET' && pull) {
    const [, owner, repo, number] = pull as unknown as [string, string, string, string];
    const found = channel.pulls[`${owner}/${repo}#${number}`];
    // GitHub's shape: state is open or closed; a merged pull request is closed with merged: true.
    if (!found) return send(response, 404, { message: 'Not Found' });
    const merged = found.state === 'merged';
    return send(response, 200, {
      number: Number(number),
      title: found.title,
      state: found.state === 'open' ? 'open' : 'closed',
      merged,
      merged_at: merged ? '2026-11-20T10:00:00Z' : null,
      html_url: `https://github.com/${owner}/${repo}/pull/${number}`,
    });
  }
  if (request.method === 'POST' && url.pathname === '/api/reactions.add') {
    const body = JSON.parse(await readBody(request)) as Partial<Reaction>;
    reactionRequests.push(body);
    // Slack's shape: HTTP 200 with ok: false and an error code for what it refuses.
    if (body.channel !== channel.channel) return send(response, 200, { ok: false, error: 'channel_not_found' });
    if (!channel.messages.some((message) => message.ts === body.timestamp)) return send(response, 200, { ok: false, error: 'message_not_found' });
    if (!body.name || !/^[a-z0-9_+-]+$/.test(body.name)) return send(response, 200, { ok: false, error: 'invalid_name' });
    if (reactions.some((r) => r.timestamp === body.timestamp && r.name === body.name)) return send(response, 200, { ok: false, error: 'already_reacted' });
    reactions.push({ channel: body.channel, timestamp: body.timestamp!, name: body.name });
    return send(response, 200, { ok: true });
  }
  if (request.method === 'GET' && url.pathname === '/api/reactions.get') {
    const timestamp = url.searchParams.get('timestamp');
    const names = reactions.filter((r) => timestamp === null || r.timestamp === timestamp);
    return send(response, 200, { ok: true, reactions: names });
  }
  send(response, 404, { message: 'Not Found' });
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  // Connection: close, so a client's kept-alive socket does not hold a finished command open.
  response.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  response.end(JSON.stringify(body));
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const service = await startFixtureService({ port: Number(process.argv[2] ?? 0) });
  process.stdout.write(`${service.url}\n`);
}
