import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeReply, RecordedRequest } from './fake-http-server.js';

/** One server-sent event: `event:` (Anthropic names its events; OpenAI sends only `data:`) and its data. */
export interface SseEvent {
  event?: string;
  /** Sent as it is when a string (`[DONE]`), else as JSON. */
  data: unknown;
}

/** A streamed answer: the events, in order, optionally held after the first `holdAfter` until released. */
export interface StreamReply {
  events: SseEvent[];
  /** Sends this many events, then waits for `release()` before sending the rest. */
  holdAfter?: number;
  /** After the events: `close` ends the response cleanly, `reset` drops the connection. Default: a normal end. */
  end?: 'close' | 'reset';
}

export interface HeldStream {
  /** Lets the rest of the stream go. */
  release(): void;
}

type Queued = { kind: 'whole'; reply: FakeReply } | { kind: 'stream'; reply: StreamReply; gate: Promise<void> };

/**
 * A local HTTP server on 127.0.0.1 that answers the vendor SDKs with queued replies, in order:
 * whole JSON bodies, or `text/event-stream` bodies in the vendor's wire format, which can be held
 * part way until the test releases them, so a test can see the first deltas arrive while the
 * rest of the reply has not been sent (no timing involved).
 */
export class FakeStreamingServer {
  readonly requests: RecordedRequest[] = [];
  readonly #queue: Queued[] = [];
  readonly #server: Server;
  readonly #releases = new Set<() => void>();
  url = '';

  private constructor() {
    this.#server = createServer((request, response) => void this.#handle(request, response));
  }

  static async start(): Promise<FakeStreamingServer> {
    const fake = new FakeStreamingServer();
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    const { port } = fake.#server.address() as AddressInfo;
    fake.url = `http://127.0.0.1:${port}`;
    return fake;
  }

  /** Queues whole JSON replies. */
  reply(...replies: FakeReply[]): this {
    for (const reply of replies) this.#queue.push({ kind: 'whole', reply });
    return this;
  }

  /** Queues a streamed reply; the handle releases it when it is held. */
  stream(reply: StreamReply): HeldStream {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#releases.add(release);
    this.#queue.push({ kind: 'stream', reply, gate });
    return { release };
  }

  async close(): Promise<void> {
    for (const release of this.#releases) release();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    this.requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body });

    const next = this.#queue.shift();
    if (!next) {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { type: 'api_error', message: 'fake server: no reply queued' } }));
      return;
    }
    if (next.kind === 'whole') {
      const { reply } = next;
      response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      response.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {}));
      return;
    }
    const { reply, gate } = next;
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    for (let i = 0; i < reply.events.length; i++) {
      if (i === reply.holdAfter) await gate;
      if (response.destroyed) return;
      response.write(sse(reply.events[i]!));
    }
    if (reply.end === 'reset') response.socket?.resetAndDestroy();
    else if (reply.end === 'close') response.socket?.end();
    else response.end();
  }
}

function sse(event: SseEvent): string {
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
  return `${event.event ? `event: ${event.event}\n` : ''}data: ${data}\n\n`;
}

/** A reply as both vendors' builders take it: text in pieces, then tool calls with their JSON arguments in pieces. */
export interface StreamedReplyParts {
  text?: string[];
  toolCalls?: Array<{ id: string; name: string; json: string[] }>;
  model?: string;
}

/**
 * The Messages API stream of a reply, shaped as Anthropic documents it ("Streaming Messages"):
 * message_start, a ping, a content block per part (text_delta or input_json_delta pieces),
 * message_delta with the stop reason and output tokens, message_stop.
 */
export function anthropicStreamEvents(parts: StreamedReplyParts, usage = { input_tokens: 25, output_tokens: 10 }): SseEvent[] {
  const events: SseEvent[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          id: 'msg_01StreamTest',
          type: 'message',
          role: 'assistant',
          model: parts.model ?? 'claude-sonnet-5-5',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: usage.input_tokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        },
      },
    },
    { event: 'ping', data: { type: 'ping' } },
  ];
  let index = 0;
  if (parts.text) {
    events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } });
    for (const text of parts.text)
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text } } });
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
    index++;
  }
  for (const call of parts.toolCalls ?? []) {
    events.push({
      event: 'content_block_start',
      data: { type: 'content_block_start', index, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } },
    });
    for (const partial_json of call.json)
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } } });
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
    index++;
  }
  events.push(
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: parts.toolCalls?.length ? 'tool_use' : 'end_turn', stop_sequence: null },
        usage: { output_tokens: usage.output_tokens },
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  );
  return events;
}

/**
 * The Chat Completions stream of a reply, shaped as OpenAI documents it: `chat.completion.chunk`s
 * with `delta.content` pieces, then tool calls by index (the first piece with id and name, the
 * rest argument text), a chunk with the finish reason, a usage chunk with no choices
 * (`stream_options.include_usage`), and `[DONE]`.
 */
export function openaiStreamChunks(
  parts: StreamedReplyParts,
  usage: Record<string, unknown> = { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29 },
): SseEvent[] {
  const model = parts.model ?? 'gpt-4.1-2025-04-14';
  const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) => ({
    data: {
      id: 'chatcmpl-StreamTest',
      object: 'chat.completion.chunk',
      created: 1741569952,
      model,
      system_fingerprint: 'fp_test',
      choices: [{ index: 0, delta, logprobs: null, finish_reason }],
    },
  });
  const events: SseEvent[] = [chunk({ role: 'assistant', content: '', refusal: null })];
  for (const content of parts.text ?? []) events.push(chunk({ content }));
  (parts.toolCalls ?? []).forEach((call, index) => {
    events.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
    for (const piece of call.json) events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  events.push(chunk({}, parts.toolCalls?.length ? 'tool_calls' : 'stop'));
  events.push({ data: { id: 'chatcmpl-StreamTest', object: 'chat.completion.chunk', created: 1741569952, model, choices: [], usage } });
  events.push({ data: '[DONE]' });
  return events;
}
