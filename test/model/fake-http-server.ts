import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One queued answer. A string body is sent as it is (for broken bodies); anything else as JSON. */
export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Waits this long before answering, to test timeouts. */
  delayMs?: number;
  /**
   * Sends the status, the headers (announcing the whole body's length) and half of the body, then:
   * `reset` drops the connection with a TCP reset, `close` closes it cleanly (the body comes up
   * short), `hang` sends nothing more and keeps it open until the client gives up.
   */
  cut?: 'reset' | 'close' | 'hang';
}

/** A request as the server received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body parsed as JSON (undefined when it was not JSON). */
  body: any;
}

/**
 * A local HTTP server on 127.0.0.1 that answers with queued replies in order and records what it
 * received, so tests run the real vendor SDK over real HTTP and assert the wire format.
 */
export class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  readonly #replies: FakeReply[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #server: Server;
  url = '';

  private constructor() {
    this.#server = createServer((request, response) => void this.#handle(request, response));
  }

  static async start(): Promise<FakeHttpServer> {
    const fake = new FakeHttpServer();
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    const { port } = fake.#server.address() as AddressInfo;
    fake.url = `http://127.0.0.1:${port}`;
    return fake;
  }

  /** Adds replies, answered in order, one per request. */
  reply(...replies: FakeReply[]): this {
    this.#replies.push(...replies);
    return this;
  }

  /** The last request received. */
  get last(): RecordedRequest {
    const request = this.requests.at(-1);
    if (!request) throw new Error('The fake server received no request.');
    return request;
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
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

    const reply = this.#replies.shift() ?? { status: 500, body: { error: { message: 'fake server: no reply queued' } } };
    const send = () => {
      if (response.destroyed) return;
      const payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
      if (!reply.cut) {
        response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
        response.end(payload);
        return;
      }
      const bytes = Buffer.from(payload, 'utf8');
      response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'content-length': String(bytes.length), ...reply.headers });
      response.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
      if (reply.cut === 'hang') return;
      // After the half body has left, so that the client sees it break mid-body rather than before the headers.
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (reply.cut === 'reset') response.socket?.resetAndDestroy();
        else response.socket?.end();
      }, 20);
      this.#timers.add(timer);
    };
    if (reply.delayMs) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        send();
      }, reply.delayMs);
      this.#timers.add(timer);
    } else {
      send();
    }
  }
}
