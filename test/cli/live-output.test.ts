import { describe, expect, it } from 'vitest';
import { liveOutput, wantsLiveOutput, type LiveStream } from '../../src/cli/live-output.js';
import type { TraceEvent } from '../../src/observe/trace-event.js';

/** A stream that records what is written, as a terminal (isTTY) or a pipe. */
function fakeStream(isTTY: boolean): LiveStream & { text: string } {
  return {
    isTTY,
    columns: 120,
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

const base = { runId: 'r1', at: 1_000 };
const usage = { inputTokens: 1000, outputTokens: 234 };
const run: TraceEvent[] = [
  { ...base, type: 'item-transition', workflow: 'promote', item: 'shop-a', from: 'pending', to: 'running', why: 'started', task: 'summarize' },
  { ...base, type: 'task-start', crew: 'writers', task: 'draft', agent: 'writer' },
  { ...base, type: 'model-call-start', agent: 'writer', model: 'anthropic:m', turn: 1 },
  { ...base, type: 'model-text-delta', agent: 'writer', model: 'anthropic:m', turn: 1, call: 1, text: 'Dear ' },
  { ...base, type: 'model-text-delta', agent: 'writer', model: 'anthropic:m', turn: 1, call: 1, text: 'shop owner,' },
  { ...base, type: 'model-tool-call-delta', agent: 'writer', model: 'anthropic:m', turn: 1, call: 1, callId: 'c1', tool: 'finish' },
  {
    ...base,
    at: 3_500,
    type: 'model-call-end',
    agent: 'writer',
    model: 'anthropic:m',
    turn: 1,
    durationMs: 2500,
    stopReason: 'tool-calls',
    usage,
    costUsd: 0.0123,
    toolCalls: 1,
  },
];

describe('live output', () => {
  it('on a terminal: the text as it arrives under its speaker, and a progress line redrawn in place between replies', () => {
    const stream = fakeStream(true);
    const live = liveOutput({ stream, items: 3, startedAt: 1_000, env: {} });
    for (const event of run.slice(0, 5)) live.trace(event);
    // While the model writes, its text has the line: no progress line after it.
    expect(stream.text.endsWith('shop owner,')).toBe(true);
    expect(stream.text).toContain('\x1b[36mwriter\x1b[39m');
    expect(stream.text).toContain('Dear shop owner,');
    for (const event of run.slice(5)) live.trace(event);
    const status = stream.text.slice(stream.text.lastIndexOf('\r\x1b[2K'));
    expect(status).toContain('writers: draft → writer');
    expect(status).toContain('item 1 of 3');
    expect(status).toContain('1 model call · 1,234 tokens · $0.0123');
    expect(status).toContain('2.5s');
    live.close();
    // The progress line is erased at the end, so the result is printed on a clean line.
    expect(stream.text.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('follows NO_COLOR on a terminal, and writes no escape codes at all to a pipe', () => {
    const noColor = fakeStream(true);
    const live = liveOutput({ stream: noColor, env: { NO_COLOR: '1' } });
    for (const event of run) live.trace(event);
    for (const code of ['\x1b[1m', '\x1b[2m', '\x1b[36m', '\x1b[33m']) expect(noColor.text).not.toContain(code);
    expect(noColor.text).toContain('\r\x1b[2K');

    const pipe = fakeStream(false);
    const piped = liveOutput({ stream: pipe, env: {} });
    for (const event of run) piped.trace(event);
    piped.close();
    expect(pipe.text).not.toContain('\x1b');
    expect(pipe.text).toContain('writer: Dear shop owner,\n  → writer calls finish\n');
  });

  it('puts the text of calls made at once on lines of their own', () => {
    const pipe = fakeStream(false);
    const live = liveOutput({ stream: pipe, env: {} });
    const delta = (call: number, agent: string, text: string): TraceEvent => ({ ...base, type: 'model-text-delta', agent, model: 'm', turn: 1, call, text });
    live.trace(delta(7, 'classify', '{"kind":'));
    live.trace(delta(8, 'classify', '{"kind":"receipt"}'));
    live.trace(delta(7, 'classify', '"invoice"}'));
    live.close();
    expect(pipe.text).toBe('classify: {"kind":\nclassify: {"kind":"receipt"}\nclassify: "invoice"}\n');
  });

  it('says when a retry discards text already shown', () => {
    const pipe = fakeStream(false);
    const live = liveOutput({ stream: pipe, env: {} });
    live.trace(run[3]!);
    live.trace({
      ...base,
      type: 'model-call-retry',
      agent: 'writer',
      model: 'anthropic:m',
      attempt: 1,
      delayMs: 500,
      errorCode: 'provider_unavailable',
      message: 'x',
      discardsDeltas: true,
    });
    live.trace({ ...base, type: 'model-text-delta', agent: 'writer', model: 'anthropic:m', turn: 1, call: 1, text: 'Hello' });
    expect(pipe.text).toBe(
      'writer: Dear \n  writer: provider_unavailable, retry 1 in 0.5s (the text above is discarded; the answer starts again)\nwriter: Hello',
    );
  });

  it('is on by default only on a terminal, without --json or --quiet; --live and --no-live decide', () => {
    const tty = { isTTY: true, write: () => true };
    const pipe = { isTTY: false, write: () => true };
    expect(wantsLiveOutput({}, tty)).toBe(true);
    expect(wantsLiveOutput({}, pipe)).toBe(false);
    expect(wantsLiveOutput({ json: true }, tty)).toBe(false);
    expect(wantsLiveOutput({ quiet: true }, tty)).toBe(false);
    expect(wantsLiveOutput({ live: true }, pipe)).toBe(true);
    expect(wantsLiveOutput({ live: false }, tty)).toBe(false);
  });
});
