import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, defineTask, sequentialCrew, streamRun, type RunStreamEvent, type TraceEvent } from 'troupe';
import { collectTrace, scriptedModel } from 'troupe/testing';
import { AnthropicModel } from '../../src/model/anthropic.js';
import { anthropicStreamEvents, FakeStreamingServer } from '../model/fake-streaming-server.js';

/*
 * A run consumed as events while it works: the model's text as it is written, tool calls,
 * results and the end. The fake server holds the rest of each stream until the test has seen the
 * first delta, so "text before the run ends" is shown without any timing.
 */

const finishCall = (id: string, result: string) => ({
  id,
  name: 'finish',
  json: ['{"res', `ult": ${JSON.stringify(result).slice(0, 4)}`, `${JSON.stringify(result).slice(4)}}`],
});

describe('agent.stream', () => {
  it('yields the trace events as they happen, the text as deltas, and the result last (scripted model)', async () => {
    const agent = new Agent({
      name: 'poet',
      model: scriptedModel([{ text: 'Thinking about spring.', toolCalls: [{ name: 'finish', input: { result: 'A haiku' }, id: 'c1' }] }]),
    });
    const seen: RunStreamEvent<unknown>[] = [];
    const trace = collectTrace();
    for await (const event of agent.stream('Write a haiku', { trace, runId: 'r1' })) seen.push(event);

    const types = seen.map((event) => event.type);
    expect(types).toEqual(['model-call-start', 'model-text-delta', 'model-tool-call-delta', 'model-call-end', 'agent-finish', 'run-end']);
    expect(seen[1]).toMatchObject({ type: 'model-text-delta', agent: 'poet', runId: 'r1', turn: 1, text: 'Thinking about spring.' });
    expect(seen[2]).toMatchObject({ type: 'model-tool-call-delta', callId: 'c1', tool: 'finish', call: (seen[1] as { call: number }).call });
    const end = seen.at(-1) as { type: 'run-end'; result: { status: string; output: unknown } };
    expect(end.result).toMatchObject({ status: 'finished', output: 'A haiku' });
    // The caller's own sink got the same events.
    expect(trace.events.map((event) => event.type)).toEqual(types.slice(0, -1));
  });

  it('throws the run’s error from the iteration, after the events before it', async () => {
    const agent = new Agent({ name: 'mute', model: scriptedModel([]) });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const event of agent.stream('Hi')) seen.push(event.type);
      })(),
    ).rejects.toThrow(/script has 0 replies/);
    expect(seen).toEqual(['model-call-start', 'model-call-error']);
  });
});

describe('streaming from a provider that streams in its wire format', () => {
  let server: FakeStreamingServer;
  let model: AnthropicModel;

  beforeEach(async () => {
    server = await FakeStreamingServer.start();
    model = new AnthropicModel({ model: 'claude-test', apiKey: 'sk-ant-test-stream-0123456789', baseURL: server.url, retry: false });
  });
  afterEach(() => server.close());

  it('shows an agent’s text before its run ends', async () => {
    const held = server.stream({
      events: anthropicStreamEvents({ text: ['The answer ', 'is 42.'], toolCalls: [finishCall('toolu_1', '42')] }),
      // message_start, ping, content_block_start, the first text_delta
      holdAfter: 4,
    });
    const agent = new Agent({ name: 'oracle', model });
    const texts: string[] = [];
    let result: { status: string; output: unknown } | undefined;
    for await (const event of agent.stream('What is the answer?')) {
      if (event.type === 'model-text-delta') {
        texts.push(event.text);
        // The server has sent only the first delta: the run cannot have ended.
        if (texts.length === 1) {
          expect(result).toBeUndefined();
          held.release();
        }
      }
      if (event.type === 'run-end') result = event.result;
    }
    expect(texts).toEqual(['The answer ', 'is 42.']);
    expect(result).toMatchObject({ status: 'finished', output: '42' });
    expect(server.requests[0]!.body.stream).toBe(true);
  });

  it('aborts the run when the consumer stops reading', async () => {
    server.stream({ events: anthropicStreamEvents({ text: ['Never ', 'finished'] }), holdAfter: 4 });
    const trace = collectTrace();
    const agent = new Agent({ name: 'quitter', model });
    for await (const event of agent.stream('Go', { trace })) {
      if (event.type === 'model-text-delta') break;
    }
    // The iteration's end waited for the run, which stopped on the abort instead of waiting for the held stream.
    expect(trace.events.at(-1)).toMatchObject({ type: 'termination', condition: 'abort-signal' });
  });

  it('shows a crew member’s text before the crew’s run ends, through the run options', async () => {
    const held = server.stream({
      events: anthropicStreamEvents({ text: ['Drafting ', 'the plan.'], toolCalls: [finishCall('toolu_2', 'plan')] }),
      holdAfter: 4,
    });
    const crew = sequentialCrew<string>({
      name: 'planning',
      agents: [new Agent({ name: 'planner', model })],
      tasks: [defineTask({ name: 'plan', description: 'Make a plan.', expectedOutput: 'A plan.', agent: 'planner' })],
    });
    let settled = false;
    let firstDelta!: (event: TraceEvent) => void;
    const seenFirst = new Promise<TraceEvent>((resolve) => {
      firstDelta = resolve;
    });
    const trace = (event: TraceEvent) => {
      if (event.type === 'model-text-delta') firstDelta(event);
    };
    const run = crew.run('Plan the launch', { trace, streaming: true }).finally(() => {
      settled = true;
    });
    const first = await seenFirst;
    expect(first).toMatchObject({ type: 'model-text-delta', agent: 'planner', text: 'Drafting ' });
    expect(settled).toBe(false);
    held.release();
    const result = await run;
    expect(result).toMatchObject({ status: 'finished', output: 'plan' });
  });

  it('streams any run with streamRun: a crew as events', async () => {
    server.stream({ events: anthropicStreamEvents({ text: ['Done.'], toolCalls: [finishCall('toolu_3', 'ok')] }) });
    const crew = sequentialCrew<string>({
      name: 'solo',
      agents: [new Agent({ name: 'worker', model })],
      tasks: [defineTask({ name: 'work', description: 'Work.', expectedOutput: 'ok', agent: 'worker' })],
    });
    const types: string[] = [];
    let output: unknown;
    for await (const event of streamRun((extra) => crew.run('Go', extra))) {
      types.push(event.type);
      if (event.type === 'run-end') output = event.result.output;
    }
    expect(types).toContain('task-start');
    expect(types.indexOf('model-text-delta')).toBeLessThan(types.indexOf('crew-end'));
    expect(types.at(-1)).toBe('run-end');
    expect(output).toBe('ok');
  });
});
