import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { codeTask, ConfigurationError, defineWorkflow } from 'troupe';

const text = z.object({ text: z.string() });
const words = z.object({ words: z.array(z.string()) });
const split = codeTask({ name: 'split', input: text, output: words, run: ({ text }) => ({ words: text.split(' ') }) });
const count = codeTask({ name: 'count', input: words, output: z.object({ n: z.number() }), run: ({ words }) => ({ n: words.length }) });

const buildError = (build: () => unknown): ConfigurationError => {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected the workflow to be refused');
};

describe('defineWorkflow checks the graph when it is built', () => {
  it('accepts a pipeline whose schemas connect', () => {
    const workflow = defineWorkflow({ name: 'wc', input: text, tasks: [split, count] });
    expect(workflow.start).toBe('split');
    expect(workflow.forward).toEqual([{ from: 'split', to: 'count' }]);
  });

  it("takes the workflow's own stage names, but not the engine's states that halt an item", () => {
    const shipped = codeTask({ name: 'ship', stage: 'shipped', input: text, output: words, run: ({ text }) => ({ words: [text] }) });
    expect(defineWorkflow({ name: 'wc', input: text, tasks: [shipped, count] }).tasks.get('ship')!.stage).toBe('shipped');
    const accepted = codeTask({ name: 'ship', stage: 'accepted', input: text, output: words, run: ({ text }) => ({ words: [text] }) });
    expect(buildError(() => defineWorkflow({ name: 'wc', input: text, tasks: [accepted, count] })).message).toBe(
      `field "workflows.wc.tasks.ship.stage": task "ship" has the stage "accepted": name a stage in the workflow's own words (awaiting-review, accepted, rejected, failed are the engine's)`,
    );
  });

  it('names unknown tasks in edges', () => {
    const error = buildError(() => defineWorkflow({ name: 'wc', input: text, tasks: [split, count], edges: [{ from: 'split', to: 'cuont' }] }));
    expect(error.message).toBe('field "workflows.wc.edges.0.to": edge split → cuont names unknown task "cuont" (tasks: split, count)');
  });

  it('names schema mismatches between connected tasks', () => {
    const wants = codeTask({ name: 'sum', input: z.object({ numbers: z.array(z.number()) }), output: z.number(), run: () => 0 });
    const error = buildError(() => defineWorkflow({ name: 'wc', input: text, tasks: [split, wants] }));
    expect(error.message).toMatch(/the output of "split" does not fit the input of "sum": numbers is required but never produced/);
    const typed = codeTask({ name: 'typed', input: z.object({ words: z.string() }), output: z.number(), run: () => 0 });
    expect(buildError(() => defineWorkflow({ name: 'wc', input: text, tasks: [split, typed] })).message).toMatch(/words is array but string is expected/);
    expect(buildError(() => defineWorkflow({ name: 'wc', input: z.object({ body: z.string() }), tasks: [split, count] })).message).toMatch(
      /the workflow input does not fit task "split": text is required but never produced/,
    );
  });

  it('names unreachable tasks', () => {
    const error = buildError(() => defineWorkflow({ name: 'wc', input: text, tasks: [split, count], edges: [] }));
    expect(error.message).toMatch(/task "count" can never run: no edge leads there from "split"/);
  });

  it('refuses a cycle without an attempt limit, and accepts it as a loop edge', () => {
    const back = codeTask({ name: 'back', input: words, output: words, run: (w) => w });
    const cycle = [
      { from: 'split', to: 'back' },
      { from: 'back', to: 'count' },
      { from: 'count', to: 'back', map: () => ({ words: [] }) },
    ];
    const error = buildError(() => defineWorkflow({ name: 'wc', input: text, tasks: [split, back, count], edges: cycle }));
    expect(error.message).toMatch(/cycle back → count → back has no attempt limit: make the edge that sends work back a loop edge/);
    const looped = defineWorkflow({
      name: 'wc',
      input: text,
      tasks: [split, back, count],
      edges: [cycle[0]!, cycle[1]!, { ...cycle[2]!, loop: { maxAttempts: 2, feedback: () => 'again' } }],
    });
    expect(looped.loops).toHaveLength(1);
    expect(
      buildError(() =>
        defineWorkflow({
          name: 'wc',
          input: text,
          tasks: [split, back, count],
          edges: [cycle[0]!, cycle[1]!, { ...cycle[2]!, loop: { maxAttempts: 0, feedback: () => '' } }],
        }),
      ).message,
    ).toMatch(/needs maxAttempts of at least 1/);
  });

  it('checks a join against the outputs it receives by task name', () => {
    const a = codeTask({ name: 'a', input: text, output: z.string(), run: ({ text }) => text });
    const b = codeTask({ name: 'b', input: z.string(), output: z.number(), run: (s) => s.length });
    const c = codeTask({ name: 'c', input: z.string(), output: z.string(), run: (s) => s });
    const join = codeTask({ name: 'join', input: z.object({ b: z.number(), c: z.number() }), output: z.string(), run: () => '' });
    const error = buildError(() =>
      defineWorkflow({
        name: 'j',
        input: text,
        tasks: [a, b, c, join],
        edges: [
          { from: 'a', to: 'b' },
          { from: 'a', to: 'c' },
          { from: 'b', to: 'join' },
          { from: 'c', to: 'join' },
        ],
      }),
    );
    expect(error.message).toMatch(
      /task "join" joins "b", "c" and receives their outputs by task name, which its input does not fit: c is string but number is expected/,
    );
  });

  it('knows a branch behind a route may not run: its key must be optional at the join', () => {
    const a = codeTask({ name: 'a', input: text, output: z.string(), run: ({ text }) => text });
    const b = codeTask({ name: 'b', input: z.string(), output: z.number(), run: (s) => s.length });
    const c = codeTask({ name: 'c', input: z.string(), output: z.number(), run: (s) => s.length });
    const edges = [
      { from: 'a', to: 'b', when: (s: string) => s.length > 3 },
      { from: 'a', to: 'c', when: (s: string) => s.length <= 3 },
      { from: 'b', to: 'join' },
      { from: 'c', to: 'join' },
    ];
    const strict = codeTask({ name: 'join', input: z.object({ b: z.number(), c: z.number() }), output: z.string(), run: () => '' });
    expect(buildError(() => defineWorkflow({ name: 'j', input: text, tasks: [a, b, c, strict], edges })).message).toMatch(
      /b is required but may be missing; c is required but may be missing/,
    );
    const optional = codeTask({ name: 'join', input: z.object({ b: z.number().optional(), c: z.number().optional() }), output: z.string(), run: () => '' });
    expect(defineWorkflow({ name: 'j', input: text, tasks: [a, b, c, optional], edges }).incoming('join')).toHaveLength(2);
  });
});

describe('workflow.run', () => {
  it('runs the workflow it is called on: a copy with a changed concurrency runs that many items at once', async () => {
    const { FileStore } = await import('troupe/store');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    let running = 0;
    let most = 0;
    const release: Array<() => void> = [];
    const wait = codeTask({
      name: 'wait',
      input: text,
      output: text,
      run: async (input) => {
        running++;
        most = Math.max(most, running);
        // Each item waits until six have started or none more can: counts overlap, not time.
        if (running >= 6) for (const go of release.splice(0)) go();
        else await new Promise<void>((resolve) => release.push(resolve));
        running--;
        return input;
      },
    });
    const one = defineWorkflow({ name: 'waits', input: text, tasks: [wait], concurrency: 1 });
    const six = { ...one, concurrency: 6 };
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-define-')) });
    const items = Array.from({ length: 6 }, (_, i) => ({ id: `i${i}`, input: { text: `t${i}` } }));
    const summary = await six.run(items, { store });
    expect(summary.status).toBe('done');
    expect(most).toBe(6);
  });
});
