import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { codeTask, defineWorkflow, evaluateWorkflow, GoldenFileError, loadGolden, promptTask, recordExamples, type GoldenFile, type StateStore } from 'troupe';
import { FileStore } from 'troupe/store';
import { manualClock, scriptedModel } from 'troupe/testing';
import { parseGolden } from '../../src/workflow/eval/golden.js';

const temp = () => mkdtempSync(join(tmpdir(), 'troupe-eval-test-'));
const store = (): StateStore => new FileStore({ root: temp() });
const ticket = z.object({ text: z.string() });

/** A triage workflow whose model is a function of the ticket text, so a test can "change the prompt" by changing it. */
function triage() {
  return defineWorkflow({
    name: 'triage',
    input: ticket,
    tasks: [
      promptTask({ name: 'classify', input: ticket, output: z.enum(['bug', 'question']), prompt: 'Bug or question? {{text}}' }),
      codeTask({
        name: 'file-bug',
        input: ticket,
        output: z.object({ queue: z.string(), title: z.string() }),
        run: ({ text }) => ({ queue: 'engineering', title: text.slice(0, 20) }),
      }),
      codeTask({ name: 'answer', input: ticket, output: z.string(), run: () => 'See the FAQ.' }),
    ],
    edges: [
      { from: 'classify', to: 'file-bug', when: (kind) => kind === 'bug', route: 'bug', map: (_, item) => item.input },
      { from: 'classify', to: 'answer', when: (kind) => kind === 'question', route: 'question', map: (_, item) => item.input },
    ],
  });
}
const model = (rule: (text: string) => string) => scriptedModel((request) => rule(String(request.messages.at(-1)!.content)));
const crashesAreBugs = model((prompt) => (/crash/i.test(prompt) ? 'bug' : 'question'));

const golden: GoldenFile = {
  version: 1,
  examples: [
    {
      name: 'crash report',
      input: { text: 'The app crashes on start' },
      expect: { state: 'accepted', route: ['bug'], outputs: { 'file-bug': { queue: 'engineering' } } },
    },
    { name: 'how-to', input: { text: 'How do I export?' }, expect: { state: 'accepted', route: ['question'], outputs: { answer: { check: 'mentionsFaq' } } } },
    { name: 'classify a slow page', task: 'classify', input: { text: 'The page is slow' }, expect: { output: 'bug' } },
  ],
};
const checks = { mentionsFaq: (output: unknown) => ({ ok: String(output).includes('FAQ'), report: 'the answer should point at the FAQ' }) };

describe('evaluating a workflow on golden examples', () => {
  it('reports pass rates per task, the route of each example, and what failed', async () => {
    const report = await evaluateWorkflow(triage(), { golden, checks, model: crashesAreBugs, store: store(), clock: manualClock(1000) });
    const { result } = report;
    expect(result).toMatchObject({ workflow: 'triage', passed: 2, total: 3, model: 'scripted', at: 1000 });
    expect(result.tasks).toEqual({ 'file-bug': { passed: 1, total: 1 }, answer: { passed: 1, total: 1 }, classify: { passed: 0, total: 1 } });
    expect(result.workflowChecks).toEqual({ passed: 2, total: 2 });
    expect(result.examples.map((e) => [e.name, e.passed, e.route])).toEqual([
      ['crash report', true, ['bug']],
      ['how-to', true, ['question']],
      ['classify a slow page', false, []],
    ]);
    expect(result.examples[2]!.failures).toEqual(['the output: expected "bug", got "question"']);
    expect(report.previous).toBeUndefined();
    expect(report.changes).toEqual([]);
  });

  it('compares with the last stored result: fixed, broken and re-routed examples', async () => {
    const results = store();
    await evaluateWorkflow(triage(), { golden, checks, model: crashesAreBugs, store: results });
    // A "prompt change": everything that mentions the page or export is now a bug.
    const changed = model((prompt) => (/slow|export|crash/i.test(prompt) ? 'bug' : 'question'));
    const report = await evaluateWorkflow(triage(), { golden, checks, model: changed, store: results });
    expect(report.previous?.passed).toBe(2);
    expect(report.changes).toEqual([
      { example: 'how-to', kind: 'broken', detail: 'route: expected question, got bug; answer did not complete' },
      { example: 'how-to', kind: 'route-changed', detail: 'question ⇒ bug' },
      { example: 'classify a slow page', kind: 'fixed', detail: 'was failing: the output: expected "bug", got "question"' },
    ]);
    expect(report.result.tasks['answer']).toEqual({ passed: 0, total: 1 });
    const stored = await results.read('evals.triage');
    expect(stored).toHaveLength(2);
  });

  it('matches objects by their expected fields, `equals` exactly, and names failed checks', async () => {
    const strict: GoldenFile = {
      version: 1,
      examples: [
        { name: 'exact', input: { text: 'crash' }, expect: { outputs: { 'file-bug': { equals: { queue: 'engineering' } } } } },
        { name: 'check', input: { text: 'how?' }, expect: { outputs: { answer: { check: 'neverOk' } } } },
      ],
    };
    const { result } = await evaluateWorkflow(triage(), {
      golden: strict,
      checks: { neverOk: () => ({ ok: false, report: 'too short' }) },
      model: crashesAreBugs,
      store: store(),
      save: false,
    });
    expect(result.examples[0]!.failures).toEqual(['file-bug: expected exactly {"queue":"engineering"}, got {"queue":"engineering","title":"crash"}']);
    expect(result.examples[1]!.failures).toEqual(['answer: check neverOk failed: too short']);
  });

  it('refuses a bad golden file, naming the file and the field', () => {
    const dir = temp();
    const file = join(dir, 'golden.json');
    writeFileSync(file, '{ "version": 1, "examples": [');
    expect(() => loadGolden(file)).toThrow(new RegExp(`${file}: the golden examples are not valid JSON`));
    const bad = (data: unknown) => {
      try {
        parseGolden(data, 'crews/x/golden.json');
      } catch (error) {
        expect(error).toBeInstanceOf(GoldenFileError);
        return (error as GoldenFileError).message;
      }
      throw new Error('no error');
    };
    expect(bad({ version: 2, examples: [] })).toBe('crews/x/golden.json, field "version": golden files have "version": 1');
    expect(bad({ version: 1, examples: [{ name: 'a', input: 1, expect: { state: '' } }] })).toMatch(
      /^crews\/x\/golden.json, field "examples.0.expect.state": Too small/,
    );
    expect(bad({ version: 1, examples: [{ name: 'a', task: 't', input: 1, expect: { output: 1, state: 'accepted' } }] })).toMatch(
      /field "examples.0.expect": Unrecognized key: "state"/,
    );
  });

  it('refuses golden files that name unknown tasks or checks before running anything', async () => {
    const run = (examples: GoldenFile['examples']) =>
      evaluateWorkflow(triage(), { golden: { version: 1, examples }, checks, model: crashesAreBugs, store: store(), file: 'golden.json' });
    await expect(run([{ name: 'a', task: 'route', input: {}, expect: { output: 1 } }])).rejects.toThrow(
      'golden.json, field "examples.0.task": workflow "triage" has no task "route" (tasks: classify, file-bug, answer)',
    );
    await expect(run([{ name: 'a', input: {}, expect: { outputs: { answer: { check: 'nope' } } } }])).rejects.toThrow(
      'field "examples.0.expect.outputs.answer.check": no check function "nope" is exported by the workflow module (exported: mentionsFaq)',
    );
    await expect(
      run([
        { name: 'a', input: {}, expect: {} },
        { name: 'a', input: {}, expect: {} },
      ]),
    ).rejects.toThrow('field "examples.1.name": two examples are named "a"');
    // States are the engine's and the workflow's own stages: a golden file cannot expect another.
    await expect(run([{ name: 'a', input: {}, expect: { state: 'done' } }])).rejects.toThrow(
      'field "examples.0.expect.state": workflow "triage" has no state "done" (states: received, routed, awaiting-review, accepted, rejected, failed',
    );
  });

  it('records real task inputs and outputs as task-level golden examples', async () => {
    const file = join(temp(), 'recorded', 'examples.jsonl');
    await triage().run([{ id: 't1', input: { text: 'It crashed' } }], {
      store: store(),
      model: crashesAreBugs,
      runId: 'run-1',
      onTaskDone: recordExamples(file, () => 'run-1'),
    });
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => [l.name, l.task, l.expect.output])).toEqual([
      ['t1/classify', 'classify', 'bug'],
      ['t1/file-bug', 'file-bug', { queue: 'engineering', title: 'It crashed' }],
    ]);
    expect(lines[1].input).toEqual({ text: 'It crashed' });
    expect(lines[0].recorded).toMatchObject({ run: 'run-1', item: 't1' });
    // The recorded lines are valid golden examples as they are.
    expect(parseGolden({ version: 1, examples: lines }).examples).toHaveLength(2);
  });
});
