import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { codeTask, defineWorkflow, type StateStore } from 'troupe';
import { FileStore } from 'troupe/store';
import { collectTrace, sequentialIds } from 'troupe/testing';
import { readTransitions } from '../../src/workflow/run-state.js';

const store = (): StateStore => new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-wf-')) });
const text = z.object({ text: z.string() });

describe('running workflows', () => {
  it('runs a pipeline per item and records every transition', async () => {
    const workflow = defineWorkflow({
      name: 'wc',
      input: text,
      tasks: [
        codeTask({ name: 'split', stage: 'extracted', input: text, output: z.array(z.string()), run: ({ text }) => text.split(' ') }),
        codeTask({ name: 'count', stage: 'validated', input: z.array(z.string()), output: z.number(), run: (words) => words.length }),
      ],
    });
    const states = store();
    const trace = collectTrace();
    const summary = await workflow.run([{ id: 'a', input: { text: 'one two three' } }, { input: { text: 'four' } }], {
      store: states,
      ids: sequentialIds(),
      trace,
    });

    expect(summary.status).toBe('done');
    expect(summary.counts).toEqual({ accepted: 2 });
    expect(summary.items.find((i) => i.id === 'a')!.outputs).toEqual({ split: ['one', 'two', 'three'], count: 3 });
    const transitions = (await readTransitions(states, summary.runId)).filter((t) => t.item === 'a');
    expect(transitions.map((t) => `${t.from}->${t.to}${t.task ? `:${t.task}` : ''}`)).toEqual([
      'received->received',
      'received->extracted:split',
      'extracted->validated:count',
      'validated->accepted',
    ]);
    expect(transitions[1]!.claim).toEqual({ value: ['one', 'two', 'three'], status: 'proposed', evidence: [] });
    expect(trace.events.filter((e) => e.type === 'item-transition')).toHaveLength(8);
  });

  it('routes items, skips untaken branches, and joins only what ran', async () => {
    const order: string[] = [];
    const task = (name: string, run: (input: any) => unknown, input: z.ZodType = z.any(), output: z.ZodType = z.any()) =>
      codeTask({ name, input, output, run: async (value) => (order.push(name), run(value)) });
    const workflow = defineWorkflow({
      name: 'docs',
      input: text,
      tasks: [
        task('classify', ({ text }) => (text.startsWith('INV') ? 'invoice' : 'receipt')),
        task('invoice', () => ({ kind: 'invoice' })),
        task('receipt', () => ({ kind: 'receipt' })),
        task('store', (value) => value),
      ],
      edges: [
        { from: 'classify', to: 'invoice', when: (kind) => kind === 'invoice', route: 'invoice' },
        { from: 'classify', to: 'receipt', when: (kind) => kind === 'receipt', route: 'receipt' },
        { from: 'invoice', to: 'store' },
        { from: 'receipt', to: 'store' },
      ],
    });
    const states = store();
    const summary = await workflow.run([{ id: 'x', input: { text: 'INV-1' } }], { store: states });
    // A join receives the outputs of the branches that ran, by task name.
    expect(summary.items[0]!.outputs).toEqual({ classify: 'invoice', invoice: { kind: 'invoice' }, store: { invoice: { kind: 'invoice' } } });
    expect(order).toEqual(['classify', 'invoice', 'store']);
    const routed = (await readTransitions(states, summary.runId)).find((t) => t.route);
    expect(routed).toMatchObject({ from: 'received', to: 'routed', task: 'classify', route: 'invoice', why: 'route invoice taken' });
  });

  it('merges exclusive routes whose edges map to one shape, passing the value of the branch that ran', async () => {
    const amount = z.object({ amount: z.number() });
    const workflow = defineWorkflow({
      name: 'merge',
      input: z.object({ kind: z.string(), value: z.number() }),
      tasks: [
        codeTask({
          name: 'classify',
          input: z.object({ kind: z.string(), value: z.number() }),
          output: z.object({ kind: z.string(), value: z.number() }),
          run: (v) => v,
        }),
        codeTask({ name: 'cents', input: z.object({ kind: z.string(), value: z.number() }), output: z.number(), run: (v) => v.value / 100 }),
        codeTask({ name: 'units', input: z.object({ kind: z.string(), value: z.number() }), output: z.number(), run: (v) => v.value }),
        codeTask({ name: 'store', input: amount, output: z.string(), run: ({ amount }) => `stored ${amount}` }),
      ],
      edges: [
        { from: 'classify', to: 'cents', when: (c) => c.kind === 'cents' },
        { from: 'classify', to: 'units', when: (c) => c.kind !== 'cents' },
        { from: 'cents', to: 'store', map: (n: number) => ({ amount: n }) },
        { from: 'units', to: 'store', map: (n: number) => ({ amount: n }) },
      ],
    });
    const summary = await workflow.run(
      [
        { id: 'a', input: { kind: 'cents', value: 250 } },
        { id: 'b', input: { kind: 'units', value: 3 } },
      ],
      { store: store() },
    );
    expect(summary.items.map((i) => i.outputs.store)).toEqual(['stored 2.5', 'stored 3']);
  });

  it('runs independent branches of a DAG concurrently, up to the limit', async () => {
    let running = 0;
    let most = 0;
    const slow = (name: string) =>
      codeTask({
        name,
        input: z.any(),
        output: z.string(),
        run: async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 30));
          running--;
          return name;
        },
      });
    const workflow = defineWorkflow({
      name: 'fan',
      input: z.any(),
      tasks: [
        slow('a'),
        slow('b'),
        slow('c'),
        slow('d'),
        codeTask({ name: 'join', input: z.object({ b: z.string(), c: z.string(), d: z.string() }), output: z.string(), run: (v) => Object.values(v).join('') }),
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'a', to: 'c' },
        { from: 'a', to: 'd' },
        { from: 'b', to: 'join' },
        { from: 'c', to: 'join' },
        { from: 'd', to: 'join' },
      ],
      branchConcurrency: 2,
      concurrency: 1,
    });
    const summary = await workflow.run([{ input: {} }], { store: store() });
    expect(summary.items[0]!.outputs.join).toBe('bcd');
    expect(most).toBe(2);
  });

  it('streams items that arrive while the workflow runs', async () => {
    const workflow = defineWorkflow({
      name: 'echo',
      input: z.number(),
      tasks: [codeTask({ name: 'double', input: z.number(), output: z.number(), run: (n) => n * 2 })],
    });
    async function* arriving() {
      for (let n = 1; n <= 5; n++) {
        await new Promise((r) => setTimeout(r, 5));
        yield { id: `n${n}`, input: n };
      }
    }
    const summary = await workflow.run(arriving(), { store: store() });
    expect(summary.items.map((i) => i.outputs.double).sort()).toEqual([10, 2, 4, 6, 8]);
  });

  it('fails an item whose input is invalid, keeping the others', async () => {
    const workflow = defineWorkflow({
      name: 'echo',
      input: z.number(),
      tasks: [codeTask({ name: 'double', input: z.number(), output: z.number(), run: (n) => n * 2 })],
    });
    const summary = await workflow.run(
      [
        { id: 'good', input: 1 },
        { id: 'bad', input: 'one' as unknown as number },
      ],
      { store: store() },
    );
    expect(summary.status).toBe('failed');
    expect(summary.items.find((i) => i.id === 'bad')).toMatchObject({
      state: 'failed',
      reason: "the item's input is invalid: Invalid input: expected number, received string",
    });
    expect(summary.items.find((i) => i.id === 'good')).toMatchObject({ state: 'accepted', outputs: { double: 2 } });
    const bad = summary.items.find((i) => i.id === 'bad')!;
    expect(bad.state === 'failed' && bad.reason).toMatch(/^the item's input is invalid/);
    // The summary narrows on status: a failed run lists its failed items with their reasons.
    if (summary.status !== 'failed') throw new Error(`expected a failed run, got ${summary.status}`);
    expect(summary.failures).toEqual([{ id: 'bad', reason: expect.stringMatching(/^the item's input is invalid/) }]);
  });
});
