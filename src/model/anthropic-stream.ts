import type { StreamAssembly } from './http-provider.js';
import type { ModelDelta, ModelRequest } from './model-client.js';
import { isRecord } from './provider-failure.js';

type Block = Record<string, unknown>;

/**
 * A Messages API reply put together from its stream (`message_start`, `content_block_start`,
 * `content_block_delta`, `content_block_stop`, `message_delta`, `message_stop`) into the body the
 * same reply has when sent whole, so one reader serves both. Tool arguments arrive as JSON text
 * in pieces (`input_json_delta`); the whole text is left for that reader to parse, so broken JSON
 * becomes `invalidInput` exactly as it would whole. The forced tool that carries structured
 * output is the answer's text, so its arguments are streamed as text deltas.
 */
export function assembleAnthropicStream(request: ModelRequest, onDelta: (delta: ModelDelta) => void): StreamAssembly {
  const outputTool = request.output?.name;
  let message: Record<string, unknown> | undefined;
  const blocks: Block[] = [];
  // The arguments of each tool_use block as JSON text, by block index, until the block stops.
  const json = new Map<number, string>();
  let usage: Record<string, unknown> = {};
  let stopped = false;

  const settle = (index: number) => {
    const text = json.get(index);
    const block = blocks[index];
    if (text === undefined || !block) return;
    // A call without arguments streams no JSON at all: its input is the empty object, as whole.
    block['input'] = text.trim() === '' ? {} : text;
    json.delete(index);
  };

  return {
    add(event) {
      if (!isRecord(event)) return;
      switch (event['type']) {
        case 'message_start': {
          const start = isRecord(event['message']) ? event['message'] : {};
          message = { ...start };
          if (isRecord(start['usage'])) usage = { ...start['usage'] };
          return;
        }
        case 'content_block_start': {
          const index = event['index'];
          const block = event['content_block'];
          if (typeof index !== 'number' || !isRecord(block)) return;
          blocks[index] = { ...block };
          if (block['type'] === 'tool_use') {
            json.set(index, '');
            if (block['name'] !== outputTool && typeof block['id'] === 'string' && typeof block['name'] === 'string') {
              onDelta({ type: 'tool-call', id: block['id'], name: block['name'] });
            }
          } else if (block['type'] === 'text' && typeof block['text'] === 'string' && block['text']) {
            onDelta({ type: 'text', text: block['text'] });
          }
          return;
        }
        case 'content_block_delta': {
          const index = event['index'];
          const delta = event['delta'];
          if (typeof index !== 'number' || !isRecord(delta)) return;
          const block = blocks[index];
          if (!block) return;
          if (delta['type'] === 'text_delta' && typeof delta['text'] === 'string') {
            block['text'] = `${typeof block['text'] === 'string' ? block['text'] : ''}${delta['text']}`;
            if (delta['text']) onDelta({ type: 'text', text: delta['text'] });
          } else if (delta['type'] === 'input_json_delta' && typeof delta['partial_json'] === 'string') {
            json.set(index, (json.get(index) ?? '') + delta['partial_json']);
            if (block['name'] === outputTool && delta['partial_json']) onDelta({ type: 'text', text: delta['partial_json'] });
          }
          // Thinking, signature and citation deltas carry nothing the response reports.
          return;
        }
        case 'content_block_stop': {
          if (typeof event['index'] === 'number') settle(event['index']);
          return;
        }
        case 'message_delta': {
          const delta = isRecord(event['delta']) ? event['delta'] : {};
          if (message && 'stop_reason' in delta) message['stop_reason'] = delta['stop_reason'];
          if (message && 'stop_sequence' in delta) message['stop_sequence'] = delta['stop_sequence'];
          // The counts here are totals so far; null means "unchanged".
          if (isRecord(event['usage'])) {
            for (const [key, value] of Object.entries(event['usage'])) if (value !== null && value !== undefined) usage[key] = value;
          }
          return;
        }
        case 'message_stop':
          stopped = true;
          return;
        default:
          // `ping`, and event types newer than this code: nothing to assemble.
          return;
      }
    },
    incomplete() {
      if (!message) return 'the stream ended before message_start.';
      if (!stopped) return 'the stream ended before message_stop.';
      return undefined;
    },
    body() {
      for (const index of [...json.keys()]) settle(index);
      return { ...message, content: blocks.filter((block) => block !== undefined), usage };
    },
  };
}
