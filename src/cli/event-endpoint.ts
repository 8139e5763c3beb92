import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseJson } from '../core/definition-file.js';
import type { JsonValue } from '../core/json.js';
import { stableStringify } from '../core/json.js';

/** What the endpoint asks of whoever serves the configurations. */
export interface EventReceiver {
  /** The event sources some configuration takes (`POST /events/<source>`); `*` when one takes any. */
  sources(): readonly string[];
  /** Handles one event; `wait: false` returns as soon as it is accepted. */
  receive(event: { source: string; id: string; data: JsonValue; wait: boolean }): Promise<{ status: number; body: unknown }>;
  /** A run's outcome by id, or whether it is still running (`GET /runs/<id>`). */
  run(runId: string): Promise<{ status: number; body: unknown }>;
}

export interface EventEndpointOptions {
  host: string;
  port: number;
  /** Required on every route but /health when set: `Authorization: Bearer <token>`. */
  token?: string;
  maxBodyBytes: number;
}

export interface EventEndpoint {
  url: string;
  /** Stops accepting connections; resolves once the requests being answered are done. */
  close(): Promise<void>;
  /** Drops the connections still open: for a stop that waited long enough. */
  drop(): void;
}

const sourcePattern = /^[A-Za-z0-9_.@+=-]{1,100}$/;
const idPattern = /^[A-Za-z0-9_.@+=-]{1,100}$/;

/** Whether an address stays on this machine: then a token is optional, and only this machine's pages may post. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The HTTP endpoint of `troupe serve`: `POST /events/<source>` with a JSON body hands an `event`
 * trigger to the receiver; `GET /runs/<id>` reads an outcome; `GET /health` says it is up.
 *
 * Guards, in order: on a loopback address the Host header must name this server (a page on
 * another site cannot reach it by rebinding a DNS name to 127.0.0.1); with a token, every route
 * but /health needs it; a request from a browser page of another origin is refused (a form post
 * cannot start a run); the body must say it is JSON, fit `maxBodyBytes`, and parse.
 */
export async function startEventEndpoint(receiver: EventReceiver, options: EventEndpointOptions): Promise<EventEndpoint> {
  let port = options.port;
  const server: Server = createServer((request, response) => {
    answer(request, response).catch((error: unknown) => send(response, 500, { error: `the server failed: ${(error as Error).message}` }));
  });
  const answer = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://endpoint');
    if (isLoopback(options.host) && !ownHost(request.headers.host, port))
      return send(response, 403, { error: `the Host header ${JSON.stringify(request.headers.host ?? '')} does not name this server` });
    if (request.method === 'GET' && url.pathname === '/health') return send(response, 200, { ok: true, sources: receiver.sources() });
    if (options.token !== undefined && !tokenMatches(request.headers.authorization, options.token))
      return send(response, 401, { error: 'missing or wrong token: send Authorization: Bearer <the TROUPE_SERVE_TOKEN of this server>' });
    const origin = request.headers.origin;
    if ((origin !== undefined && !ownOrigin(origin, request.headers.host)) || request.headers['sec-fetch-site'] === 'cross-site')
      return send(response, 403, { error: `requests from another origin (${origin ?? 'a cross-site page'}) are refused` });
    const run = /^\/runs\/([^/]+)$/.exec(url.pathname);
    if (request.method === 'GET' && run) {
      const result = await receiver.run(decodeURIComponent(run[1]!));
      return send(response, result.status, result.body);
    }
    const event = /^\/events\/([^/]+)$/.exec(url.pathname);
    if (!event) return send(response, 404, { error: `no route ${request.method} ${url.pathname}: POST /events/<source>, GET /runs/<id>, GET /health` });
    if (request.method !== 'POST') return send(response, 405, { error: 'events are sent with POST' }, { allow: 'POST' });
    const source = decodeURIComponent(event[1]!);
    if (!sourcePattern.test(source))
      return send(response, 400, { error: `the source ${JSON.stringify(source)} is not usable: use 1–100 of A-Z a-z 0-9 _ . - @ + =` });
    const sources = receiver.sources();
    if (!sources.includes(source) && !sources.includes('*'))
      return send(response, 404, { error: `no configuration takes events from "${source}" (served: ${receiver.sources().join(', ') || 'none'})` });
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type))
      return send(response, 415, { error: `the body must be JSON, sent with Content-Type: application/json (not ${JSON.stringify(type)})` });
    const body = await readBody(request, options.maxBodyBytes);
    if (body === undefined) {
      send(response, 413, { error: `the body is larger than ${options.maxBodyBytes} bytes (--max-body-bytes)` }, { connection: 'close' });
      return;
    }
    let data: JsonValue;
    try {
      data = parseJson('the request body', body) as JsonValue;
    } catch (error) {
      return send(response, 400, { error: (error as Error).message });
    }
    const given = url.searchParams.get('id') ?? header(request, 'x-troupe-event-id');
    if (given !== undefined && !idPattern.test(given))
      return send(response, 400, { error: `the event id ${JSON.stringify(given)} is not usable: use 1–100 of A-Z a-z 0-9 _ . - @ + =` });
    // Without an id, the same event sent twice is one trigger: its side effects are made once.
    const id =
      given ??
      `evt-${createHash('sha256')
        .update(`${source}\n${stableStringify(data)}`)
        .digest('hex')
        .slice(0, 32)}`;
    const wait = !(url.searchParams.get('async') === '1' || /respond-async/i.test(header(request, 'prefer') ?? ''));
    const result = await receiver.receive({ source, id, data, wait });
    send(response, result.status, result.body);
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
    drop: () => server.closeAllConnections(),
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function ownHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host.toLowerCase());
}

function ownOrigin(origin: string, host: string | undefined): boolean {
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

function tokenMatches(authorization: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim() ?? '';
  // Compared as digests: equal lengths for timingSafeEqual, and no timing hint of the token's length.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** The body as text, or undefined once it passes `limit` bytes (the rest is not read). */
function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  response.end(`${JSON.stringify(body)}\n`);
}
