import { FakeHttpServer, type FakeReply } from './fake-http-server.js';

/** A fake of the Anthropic Messages API (`POST /v1/messages`); the SDK's base URL is `server.url`. */
export function startFakeAnthropic(): Promise<FakeHttpServer> {
  return FakeHttpServer.start();
}

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown };

/** A Messages API response body, shaped as Anthropic documents it. */
export function anthropicMessage(content: Block[], options: { stop_reason?: string; usage?: Record<string, number>; model?: string } = {}): FakeReply {
  return {
    status: 200,
    headers: { 'request-id': 'req_011CTest' },
    body: {
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      type: 'message',
      role: 'assistant',
      model: options.model ?? 'claude-sonnet-5-5',
      content,
      stop_reason: options.stop_reason ?? (content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn'),
      stop_sequence: null,
      usage: options.usage ?? { input_tokens: 25, output_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  };
}

export const anthropicText = (text: string, options?: Parameters<typeof anthropicMessage>[1]): FakeReply => anthropicMessage([{ type: 'text', text }], options);

/** An error body, shaped as Anthropic documents it: `{ type: 'error', error: { type, message } }`. */
export function anthropicError(status: number, type: string, message: string, headers: Record<string, string> = {}): FakeReply {
  return { status, headers, body: { type: 'error', error: { type, message }, request_id: 'req_011CError' } };
}
