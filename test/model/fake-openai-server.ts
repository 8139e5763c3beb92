import { FakeHttpServer, type FakeReply } from './fake-http-server.js';

/** A fake of OpenAI Chat Completions (`POST /v1/chat/completions`); the SDK's base URL is `${server.url}/v1`. */
export function startFakeOpenAI(): Promise<FakeHttpServer> {
  return FakeHttpServer.start();
}

export interface FakeToolCall {
  id: string;
  name: string;
  /** The JSON text the model produced (deliberately a string: models can send broken JSON). */
  arguments: string;
}

/** A chat.completion body, shaped as OpenAI documents it. */
export function openaiCompletion(
  message: { content?: string | null; tool_calls?: FakeToolCall[]; refusal?: string | null },
  options: { finish_reason?: string; usage?: Record<string, unknown>; model?: string } = {},
): FakeReply {
  const toolCalls = message.tool_calls?.map((call) => ({
    id: call.id,
    type: 'function',
    function: { name: call.name, arguments: call.arguments },
  }));
  return {
    status: 200,
    headers: { 'x-request-id': 'req_test' },
    body: {
      id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
      object: 'chat.completion',
      created: 1741569952,
      model: options.model ?? 'gpt-4.1-2025-04-14',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: message.content ?? null,
            refusal: message.refusal ?? null,
            annotations: [],
            ...(toolCalls ? { tool_calls: toolCalls } : {}),
          },
          logprobs: null,
          finish_reason: options.finish_reason ?? (toolCalls ? 'tool_calls' : 'stop'),
        },
      ],
      usage: options.usage ?? {
        prompt_tokens: 19,
        completion_tokens: 10,
        total_tokens: 29,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
      service_tier: 'default',
      system_fingerprint: 'fp_test',
    },
  };
}

export const openaiText = (content: string, options?: Parameters<typeof openaiCompletion>[1]): FakeReply => openaiCompletion({ content }, options);

/** An error body, shaped as OpenAI documents it: `{ error: { message, type, param, code } }`. */
export function openaiError(status: number, type: string, message: string, code: string | null = null, headers: Record<string, string> = {}): FakeReply {
  return { status, headers, body: { error: { message, type, param: null, code } } };
}
