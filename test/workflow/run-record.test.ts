import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, defineTool } from 'troupe';
import { reply, scriptedModel, type ScriptedReply } from 'troupe/testing';
import { groupChatCrew } from '../../src/crew/group-chat.js';
import { InProcessQueue } from '../../src/queue/in-process-queue.js';
import { openWorkGraph } from '../../src/work/open-work-graph.js';
import { trackingModel } from '../work/tracking-model.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { StateStore } from '../../src/store/state-store.js';
import {
  listRecordedRuns,
  loadRecordedRun,
  readTimeline,
  recordRun,
  runRetention,
  truncatePayload,
  type TimelineEntry,
} from '../../src/workflow/run-record.js';

const stores: StateStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
function newStore(): StateStore {
  const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'troupe-run-record-')), 'state.db') });
  stores.push(store);
  return store;
}

const say = (message: string): ScriptedReply => reply.finish({ message }, 'say');

/** A two-member group chat chosen by a manager with reasons; alice looks a page up with a tool whose output holds markup. */
function newsroom(pageText: string) {
  const fetchPage = defineTool({
    name: 'fetch_page',
    description: 'Fetches a page.',
    input: z.object({ url: z.string() }),
    run: () => pageText,
  });
  const alice = new Agent({
    name: 'alice',
    description: 'Researches.',
    instructions: 'You are alice.',
    tools: [fetchPage],
    model: scriptedModel([reply.toolCall('fetch_page', { url: 'https://shop.example/cats' }), say('Cats sleep 12 to 16 hours.')]),
  });
  const bob = new Agent({
    name: 'bob',
    description: 'Publishes.',
    instructions: 'You are bob.',
    model: scriptedModel([reply.finish({ result: 'Published: cats sleep 12 to 16 hours.' }, 'finish')]),
  });
  const manager = scriptedModel([reply.finish({ speaker: 'alice', reason: 'research comes first' }, 'select_speaker')]);
  return groupChatCrew({ name: 'newsroom', agents: [alice, bob], selector: { manager } });
}

describe('recordRun', () => {
  it('records a crew run: its document with totals, and a timeline of model calls with messages, tool calls and speaker reasons', async () => {
    const store = newStore();
    const recorder = recordRun(store, { kind: 'crew', name: 'newsroom', input: 'How long do cats sleep?', maxPayloadChars: 2000 });
    const longPage = `<script>alert(1)</script>${'z'.repeat(5000)}`;
    const result = await newsroom(longPage).run('How long do cats sleep?', { trace: recorder.trace, runId: recorder.id });
    await recorder.finish({ status: result.status, stopReason: result.stop.reason });

    const run = await loadRecordedRun(store, recorder.id);
    expect(run).toMatchObject({ id: recorder.id, kind: 'crew', name: 'newsroom', input: 'How long do cats sleep?', status: 'finished' });
    expect(run!.stopReason).toBe(result.stop.reason);
    expect(run!.by.pid).toBe(process.pid);
    expect(run!.endedAt).toBeGreaterThanOrEqual(run!.startedAt);
    expect(run!.totals.modelCalls).toBe(result.usage.total.turns);
    expect(run!.totals.toolCalls).toBeGreaterThanOrEqual(1);
    expect(run!.totals.inputTokens).toBe(result.usage.total.usage.inputTokens);

    const timeline = await readTimeline(store, recorder.id);
    const modelCalls = timeline.filter((e): e is Extract<TimelineEntry, { type: 'model-call' }> => e.type === 'model-call');
    expect(modelCalls).toHaveLength(run!.totals.modelCalls);
    const aliceFirst = modelCalls.find((e) => e.agent === 'alice')!;
    expect(aliceFirst.messages).toContain('How long do cats sleep?');
    expect(aliceFirst.reply).toContain('fetch_page');
    expect(aliceFirst.system).toContain('You are alice.');

    const toolCall = timeline.find((e): e is Extract<TimelineEntry, { type: 'tool-call' }> => e.type === 'tool-call' && e.tool === 'fetch_page')!;
    expect(toolCall.input).toContain('https://shop.example/cats');
    expect(toolCall.output).toContain('<script>alert(1)</script>');
    expect(toolCall.output).toMatch(/…\[truncated [\d,]+ chars\]$/);

    const speakers = timeline.filter((e) => e.type === 'speaker');
    expect(speakers[0]).toMatchObject({ speaker: 'alice', method: 'manager', reason: 'research comes first' });
    expect(timeline.at(-1)).toMatchObject({ type: 'end', status: 'finished' });
  });

  it('cuts payloads with a marker that says how much was cut', () => {
    expect(truncatePayload('abcdef', 10)).toBe('abcdef');
    expect(truncatePayload('x'.repeat(12_350), 5)).toBe('xxxxx…[truncated 12,345 chars]');
  });

  it('scrubs a known secret from what it records', async () => {
    const store = newStore();
    const secret = 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789';
    const recorder = recordRun(store, { kind: 'agent', name: 'leaky' });
    recorder.trace({ type: 'tool-call-start', at: 1, runId: recorder.id, callId: 'c1', tool: 'env', input: { key: secret } });
    recorder.trace({
      type: 'tool-call-end',
      at: 2,
      runId: recorder.id,
      callId: 'c1',
      tool: 'env',
      durationMs: 1,
      isError: false,
      output: `the key is ${secret}`,
    });
    await recorder.finish({ status: 'finished' });
    const text = JSON.stringify(await readTimeline(store, recorder.id));
    expect(text).toContain('the key is');
    expect(text).not.toContain(secret);
  });

  it('keeps the newest runs of a kind (retention) and leaves other kinds alone', async () => {
    const store = newStore();
    let clock = 1000;
    const now = () => clock++;
    for (const name of ['one', 'two', 'three']) {
      const recorder = recordRun(store, { kind: 'agent', name, retention: 2, now });
      await recorder.finish({ status: 'finished' });
    }
    const crew = recordRun(store, { kind: 'crew', name: 'kept', retention: 2, now });
    await crew.finish({ status: 'finished' });
    const runs = await listRecordedRuns(store);
    expect(
      runs
        .filter((r) => r.kind === 'agent')
        .map((r) => r.name)
        .sort(),
    ).toEqual(['three', 'two']);
    expect(runs.filter((r) => r.kind === 'crew').map((r) => r.name)).toEqual(['kept']);
    expect(runRetention({ TROUPE_RUN_RETENTION: '7' })).toBe(7);
    expect(runRetention({})).toBe(200);
  });

  it('never fails the run when the store fails: the error is reported once and the crew finishes', async () => {
    const store = newStore();
    const broken: StateStore = Object.assign(Object.create(store) as StateStore, {
      batch: async () => {
        throw new Error('disk full');
      },
    });
    const errors: unknown[] = [];
    const recorder = recordRun(broken, { kind: 'crew', name: 'newsroom', onError: (error) => errors.push(error) });
    const result = await newsroom('a page').run('How long do cats sleep?', { trace: recorder.trace, runId: recorder.id });
    await recorder.finish({ status: result.status, stopReason: result.stop.reason });
    expect(result.status).toBe('finished');
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('disk full');
  });
});

describe('work-item runs', () => {
  it('records each run of an item agent as a work-item run, named after its graph and item', async () => {
    // The graph closes the store it is given: this one is not in `stores`.
    const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'troupe-run-record-')), 'state.db') });
    const graph = await openWorkGraph(
      { name: 'recorded-graph', items: [{ id: 'root' }, { id: 'leaf', dependsOn: ['root'] }] },
      { store, queue: new InProcessQueue({ name: 'recorded-graph-work' }), model: trackingModel() },
    );
    try {
      await graph.seed();
      await graph.work({ concurrency: 1 });
      await graph.change('root', { content: 'the root, changed', summary: 'a person edited the root' });
      await graph.waitUntilQuiet({ timeoutMs: 60_000 });
      await expectRecordedLeaf(store);
    } finally {
      await graph.close({ graceMs: 0 });
    }
  });
});

async function expectRecordedLeaf(store: StateStore): Promise<void> {
  const runs = (await listRecordedRuns(store)).filter((run) => run.kind === 'work-item');
  expect(runs.map((run) => run.name)).toContain('recorded-graph/leaf');
  const leaf = runs.find((run) => run.name === 'recorded-graph/leaf')!;
  expect(leaf.status).toBe('finished');
  expect(leaf.input).toContain('"root", which your item depends on, changed');
  const timeline = await readTimeline(store, leaf.id);
  expect(timeline.filter((entry) => entry.type === 'model-call').length).toBe(leaf.totals.modelCalls);
  expect(timeline.at(-1)).toMatchObject({ type: 'end', status: 'finished' });
}
