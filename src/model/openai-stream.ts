import type { StreamAssembly } from './http-provider.js';
import type { ModelDelta, ModelRequest } from './model-client.js';
import { isRecord } from './provider-failure.js';

interface ToolCallSoFar {
  id?: string;
  name?: string;
  arguments: string;
}

/**
 * A Chat Completions reply put together from its `chat.completion.chunk`s into the body of the
 * same reply sent whole, so one reader serves both. Only the first choice is kept (Troupe asks
 * for one). Tool calls arrive by `index`: the first piece names the call, the rest add argument
 * text. Usage comes in a last chunk with no choices when the request sets
 * `stream_options.include_usage`; a server that ignores it leaves usage at zero, as whole replies
 * without `usage` do.
 */
export function assembleOpenAIStream(_request: ModelRequest, onDelta: (delta: ModelDelta) => void): StreamAssembly {
  let model: unknown;
  let content = '';
  let refusal = '';
  let finishReason: string | undefined;
  let usage: unknown;
  let chunks = 0;
  const calls: ToolCallSoFar[] = [];
  const announced = new Set<number>();

  const addToolCall = (piece: Record<string, unknown>, position: number) => {
    const index = typeof piece['index'] === 'number' ? piece['index'] : position;
    const call = (calls[index] ??= { arguments: '' });
    if (typeof piece['id'] === 'string' && piece['id']) call.id = piece['id'];
    const fn = isRecord(piece['function']) ? piece['function'] : {};
    if (typeof fn['name'] === 'string' && fn['name']) call.name ??= fn['name'];
    if (typeof fn['arguments'] === 'string') call.arguments += fn['arguments'];
    if (call.name && !announced.has(index)) {
      announced.add(index);
      // Compatible servers may leave the id out; the reader makes one up the same way for the whole reply.
      onDelta({ type: 'tool-call', id: call.id ?? `call_${index + 1}`, name: call.name });
    }
  };

  return {
    add(chunk) {
      if (!isRecord(chunk)) return;
      chunks++;
      if (typeof chunk['model'] === 'string') model = chunk['model'];
      if (isRecord(chunk['usage'])) usage = chunk['usage'];
      const choices = Array.isArray(chunk['choices']) ? (chunk['choices'] as unknown[]) : [];
      for (const choice of choices) {
        if (!isRecord(choice) || (choice['index'] ?? 0) !== 0) continue;
        const delta = isRecord(choice['delta']) ? choice['delta'] : {};
        if (typeof delta['content'] === 'string' && delta['content']) {
          content += delta['content'];
          onDelta({ type: 'text', text: delta['content'] });
        }
        if (typeof delta['refusal'] === 'string' && delta['refusal']) {
          refusal += delta['refusal'];
          onDelta({ type: 'text', text: delta['refusal'] });
        }
        if (Array.isArray(delta['tool_calls'])) {
          (delta['tool_calls'] as unknown[]).forEach((piece, position) => {
            if (isRecord(piece)) addToolCall(piece, position);
          });
        }
        if (typeof choice['finish_reason'] === 'string') finishReason = choice['finish_reason'];
      }
    },
    incomplete() {
      if (chunks === 0) return 'the stream ended before its first chunk.';
      if (finishReason === undefined) return 'the stream ended before a finish_reason.';
      return undefined;
    },
    body() {
      const toolCalls = calls
        .filter((call) => call !== undefined)
        .map((call) => ({ ...(call.id ? { id: call.id } : {}), type: 'function', function: { name: call.name, arguments: call.arguments } }));
      return {
        ...(model === undefined ? {} : { model }),
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: content || null,
              refusal: refusal || null,
              ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            },
            finish_reason: finishReason ?? null,
          },
        ],
        ...(usage === undefined ? {} : { usage }),
      };
    },
  };
}
