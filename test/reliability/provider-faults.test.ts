import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, agentTask, defineTool, defineWorkflow, maxTurns, type ModelClient, type RetryOptions, type ToolMessage, type TraceEvent } from 'troupe';
import { FileStore } from 'troupe/store';
import { collectTrace } from 'troupe/testing';
import { anthropicError, anthropicMessage, anthropicText, startFakeAnthropic } from '../model/fake-anthropic-server.js';
import type { FakeHttpServer, FakeReply } from '../model/fake-http-server.js';
import { openaiCompletion, openaiError, openaiText, startFakeOpenAI } from '../model/fake-openai-server.js';
import { anthropicModel } from '../../src/model/anthropic.js';
import { openaiModel } from '../../src/model/openai.js';

/*
 * Provider faults, through the real vendor SDKs talking HTTP to local fake servers of both wire
 * formats. Each fault must end in a successful retry, a validation round trip with the model, or a
 * typed failure recorded in the run: never a hang, never an unhandled rejection. Retry waits go
 * through an injected sleep that returns at once (it only records what was asked), so the suite
 * takes no longer than its request timeouts.
 */

interface Vendor {
  name: string;
  start(): Promise<FakeHttpServer>;
  model(server: FakeHttpServer, options: { timeoutMs?: number; retry: RetryOptions }): ModelClient;
  text(text: string): FakeReply;
  /** A tool call; a string is sent as the raw arguments (OpenAI) or raw input (Anthropic). */
  toolCall(name: string, input: unknown, id?: string): FakeReply;
  /** A tool call whose arguments the output limit cut off. */
  cutOffToolCall(name: string, id?: string): FakeReply;
  error(status: number, headers?: Record<string, string>): FakeReply;
}

const vendors: Vendor[] = [
  {
    name: 'anthropic',
    start: startFakeAnthropic,
    model: (server, { timeoutMs, retry }) =>
      anthropicModel({ model: 'claude-sonnet-5-5', apiKey: 'sk-ant-fake', baseURL: server.url, retry, ...(timeoutMs ? { timeoutMs } : {}) }),
    text: (text) => anthropicText(text),
    toolCall: (name, input, id = `toolu_${name}`) => anthropicMessage([{ type: 'tool_use', id, name, input }]),
    // What came of the arguments before the limit; the API reports stop_reason max_tokens.
    cutOffToolCall: (name, id = `toolu_${name}_cut`) =>
      anthropicMessage([{ type: 'tool_use', id, name, input: { text: 'the beginning of a long te' } }], { stop_reason: 'max_tokens' }),
    error: (status, headers) =>
      anthropicError(status, status === 429 ? 'rate_limit_error' : status === 529 ? 'overloaded_error' : 'api_error', `fake ${status}`, headers),
  },
  {
    name: 'openai',
    start: startFakeOpenAI,
    model: (server, { timeoutMs, retry }) =>
      openaiModel({ model: 'gpt-4.1', apiKey: 'sk-fake', baseURL: `${server.url}/v1`, retry, ...(timeoutMs ? { timeoutMs } : {}) }),
    text: (text) => openaiText(text),
    toolCall: (name, input, id = `call_${name}`) =>
      openaiCompletion({ tool_calls: [{ id, name, arguments: typeof input === 'string' ? input : JSON.stringify(input) }] }),
    cutOffToolCall: (name, id = `call_${name}_cut`) =>
      openaiCompletion({ tool_calls: [{ id, name, arguments: '{"text": "the beginning of a long te' }] }, { finish_reason: 'length' }),
    error: (status, headers) => openaiError(status, status === 429 ? 'requests' : 'server_error', `fake ${status}`, null, headers),
  },
];

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

let saved: string[] = [];
const save = defineTool({ name: 'save', description: 'Saves a text.', input: z.object({ text: z.string() }), run: ({ text }) => (saved.push(text), 'saved') });
const output = z.object({ answer: z.string() });
const agent = new Agent({ name: 'clerk', instructions: 'Save what you are asked to, then finish.', tools: [save], output, termination: maxTurns(6) });

describe.each(vendors)('provider faults on the $name wire format', (vendor) => {
  let server: FakeHttpServer;
  let sleeps: number[];
  const finish = (answer: string) => vendor.toolCall('finish', { answer }, 'finish_1');
  const model = (options: { timeoutMs?: number; maxRetries?: number } = {}) =>
    vendor.model(server, {
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      retry: { maxRetries: options.maxRetries ?? 3, baseDelayMs: 1, maxDelayMs: 60_000, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) },
    });
  const retries = (events: readonly TraceEvent[]) =>
    events.filter((event) => event.type === 'model-call-retry').map((event) => (event as { errorCode: string }).errorCode);

  beforeAll(async () => {
    server = await vendor.start();
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => {
    saved = [];
    sleeps = [];
    expect(unhandled).toEqual([]);
  });
  sleeps = [];

  /** Runs the agent as one task of a workflow, so a failure is recorded with the run's item. */
  async function inWorkflow(client: ModelClient) {
    const trace = collectTrace();
    const workflow = defineWorkflow({
      name: `faults-${vendor.name}`,
      input: z.object({ request: z.string() }),
      tasks: [agentTask({ name: 'answer', input: z.object({ request: z.string() }), output, agent, prompt: ({ request }) => request })],
    });
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-faults-')) });
    const summary = await workflow.run([{ id: 'one', input: { request: 'Save "hello".' } }], { store, model: client, trace });
    return { summary, item: summary.items[0]!, trace };
  }

  it('a burst of 429s without retry-after is retried with backoff, then succeeds', async () => {
    server.reply(vendor.error(429), vendor.error(429), vendor.error(429), finish('done'));
    const trace = collectTrace();
    const result = await agent.run('go', { model: model(), trace });
    expect(result.status === 'finished' && result.output).toEqual({ answer: 'done' });
    expect(retries(trace.events)).toEqual(['provider_rate_limited', 'provider_rate_limited', 'provider_rate_limited']);
    // Full jitter with random() = 0.5 and a doubling ceiling from 1 ms.
    expect(sleeps).toEqual([0, 1, 2]);
  });

  it('a burst of 429s with retry-after waits as long as asked each time, then succeeds', async () => {
    server.reply(vendor.error(429, { 'retry-after': '7' }), vendor.error(429, { 'retry-after': '7' }), finish('done'));
    const result = await agent.run('go', { model: model() });
    expect(result.status).toBe('finished');
    expect(sleeps).toEqual([7000, 7000]);
  });

  it.each([500, 502, 503, 529])('HTTP %i is retried, then succeeds', async (status) => {
    server.reply(vendor.error(status), finish('done'));
    const trace = collectTrace();
    const result = await agent.run('go', { model: model(), trace });
    expect(result.status).toBe('finished');
    expect(retries(trace.events)).toEqual(['provider_unavailable']);
  });

  it('an outage longer than the retries ends in a typed failure recorded in the run', async () => {
    server.reply(vendor.error(503), vendor.error(503), vendor.error(503), vendor.error(503));
    const { summary, item, trace } = await inWorkflow(model({ maxRetries: 3 }));
    expect(item.state).toBe('failed');
    expect(item.reason).toMatch(new RegExp(`task "answer" failed: ${vendor.name} is unavailable: fake 503`));
    expect(summary.counts).toEqual({ failed: 1 });
    expect(trace.events.filter((event) => event.type === 'model-call-error')).toEqual([expect.objectContaining({ errorCode: 'provider_unavailable' })]);
    expect(retries(trace.events)).toHaveLength(3);
  });

  it('a connection reset in the middle of the body is retried, then succeeds', async () => {
    server.reply({ ...finish('lost'), cut: 'reset' }, finish('done'));
    const trace = collectTrace();
    const result = await agent.run('go', { model: model(), trace });
    expect(result.status === 'finished' && result.output).toEqual({ answer: 'done' });
    expect(retries(trace.events)).toEqual(['provider_unavailable']);
  });

  it('a body cut short by the server closing the connection is retried, then succeeds', async () => {
    server.reply({ ...finish('lost'), cut: 'close' }, finish('done'));
    const trace = collectTrace();
    const result = await agent.run('go', { model: model(), trace });
    expect(result.status === 'finished' && result.output).toEqual({ answer: 'done' });
    expect(retries(trace.events)).toEqual(['provider_unavailable']);
  });

  it('a body that never ends is cut by the request timeout and retried, then succeeds', async () => {
    server.reply({ ...finish('never'), cut: 'hang' }, finish('done'));
    const trace = collectTrace();
    const result = await agent.run('go', { model: model({ timeoutMs: 400 }), trace });
    expect(result.status === 'finished' && result.output).toEqual({ answer: 'done' });
    expect(retries(trace.events)).toEqual(['provider_timeout']);
  });

  it('bodies that never end, every time, end in a typed timeout recorded in the run', async () => {
    server.reply({ ...finish('never'), cut: 'hang' }, { ...finish('never'), cut: 'hang' });
    const { item, trace } = await inWorkflow(model({ timeoutMs: 300, maxRetries: 1 }));
    expect(item.state).toBe('failed');
    expect(item.reason).toContain(`${vendor.name} did not answer within 300 ms`);
    expect(trace.events.filter((event) => event.type === 'model-call-error')).toEqual([expect.objectContaining({ errorCode: 'provider_timeout' })]);
  });

  it('a 200 whose JSON body is cut short is a typed failure recorded in the run, not retried', async () => {
    const whole = JSON.stringify(finish('cut').body);
    server.reply({ status: 200, body: whole.slice(0, Math.floor(whole.length / 2)) });
    const { item, trace } = await inWorkflow(model());
    expect(item.state).toBe('failed');
    expect(item.reason).toContain(`${vendor.name} sent a response that could not be read`);
    expect(trace.events.filter((event) => event.type === 'model-call-error')).toEqual([expect.objectContaining({ errorCode: 'provider_response_invalid' })]);
    expect(sleeps).toEqual([]);
  });

  it('tool arguments that are not JSON are answered with what is wrong, and the corrected call runs', async () => {
    server.reply(vendor.toolCall('save', '{"text": "hello",}', 'call_bad'), vendor.toolCall('save', { text: 'hello' }, 'call_good'), finish('saved'));
    const trace = collectTrace();
    const result = await agent.run('Save "hello".', { model: model(), trace });
    expect(result.status).toBe('finished');
    expect(saved).toEqual(['hello']);
    const answer = (result.transcript[2] as ToolMessage).content[0]!;
    expect(answer).toMatchObject({ callId: 'call_bad', isError: true });
    expect(answer.output).toMatch(/^The call to "save" was not run\. The arguments (are not valid JSON|must be a JSON object)/);
    expect(answer.output.match(/not valid JSON/g)?.length ?? 0).toBeLessThanOrEqual(1);
    expect(trace.events).toContainEqual(expect.objectContaining({ type: 'validation-failure', target: 'tool-input', callId: 'call_bad' }));
  });

  it('max tokens in the middle of a tool call: the model is told it hit the output limit, and the shorter call runs', async () => {
    server.reply(vendor.cutOffToolCall('save'), vendor.toolCall('save', { text: 'short' }, 'call_short'), finish('saved'));
    const result = await agent.run('Save a long text.', { model: model() });
    expect(result.status).toBe('finished');
    expect(saved).toEqual(['short']);
    const answer = (result.transcript[2] as ToolMessage).content[0]!;
    expect(answer.isError).toBe(true);
    expect(answer.output).toContain('hit the output limit (max tokens)');
    expect(answer.output).toContain('Make the call shorter, or split the work into several smaller calls.');
    // The cut-off call is sent back as an object, which both APIs require of tool-call history.
    const history = server.last.body;
    expect(JSON.stringify(history)).not.toContain('the beginning of a long te"');
  });

  it('a model that never calls finish is stopped by its bound, with the reason in the run result', async () => {
    server.reply(vendor.text('Thinking.'), vendor.text('Still thinking.'), vendor.text('Almost.'));
    const result = await agent.run('go', { model: model(), termination: maxTurns(3) });
    expect(result.status).toBe('stopped');
    expect(result.stop).toMatchObject({ kind: 'termination', condition: 'max-turns', detail: { limit: 3, turns: 3 } });
    expect(result.transcript.filter((message) => message.role === 'user' && message.content.includes('text alone does not end the work'))).toHaveLength(3);
  });

  it('a call to a tool that does not exist is answered with the tools there are, and the run goes on', async () => {
    server.reply(vendor.toolCall('delete_everything', { confirm: true }, 'call_unknown'), finish('done'));
    const trace = collectTrace();
    const result = await agent.run('go', { model: model(), trace });
    expect(result.status).toBe('finished');
    expect((result.transcript[2] as ToolMessage).content[0]).toMatchObject({
      callId: 'call_unknown',
      isError: true,
      output: 'Unknown tool "delete_everything". Available tools: save, finish.',
    });
    expect(trace.events.some((event) => event.type === 'tool-call-start')).toBe(false);
  });

  it('an invalid finish call is answered with the problems, and the corrected one finishes', async () => {
    server.reply(vendor.toolCall('finish', { answer: 42 }, 'finish_bad'), finish('done'));
    const result = await agent.run('go', { model: model() });
    expect(result.status === 'finished' && result.output).toEqual({ answer: 'done' });
    expect((result.transcript[2] as ToolMessage).content[0]!.output).toMatch(/^The result is invalid: answer: /);
  });
});
