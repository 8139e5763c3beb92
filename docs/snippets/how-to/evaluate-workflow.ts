// The evaluation API: run a workflow's golden examples, keep the result, and compare the next
// evaluation with it. Two scripted "models" stand for a prompt before and after a change.
import { z } from 'zod';
import { codeTask, defineWorkflow, evaluateWorkflow, openStateStore, promptTask, type GoldenFile } from 'troupe';
import { scriptedModel } from 'troupe/testing';

// #region workflow
const ticket = z.object({ text: z.string() });

const triage = defineWorkflow({
  name: 'triage',
  input: ticket,
  tasks: [
    promptTask({ name: 'classify', input: ticket, output: z.enum(['bug', 'question']), prompt: 'Bug or question? {{text}}' }),
    codeTask({ name: 'file-bug', input: ticket, output: z.object({ queue: z.string() }), run: () => ({ queue: 'engineering' }) }),
    codeTask({ name: 'answer', input: ticket, output: z.string(), run: () => 'See the FAQ.' }),
  ],
  edges: [
    { from: 'classify', to: 'file-bug', when: (kind) => kind === 'bug', route: 'bug', map: (_, item) => item.input },
    { from: 'classify', to: 'answer', when: (kind) => kind === 'question', route: 'question', map: (_, item) => item.input },
  ],
});
// #endregion

// #region golden
const golden: GoldenFile = {
  version: 1,
  examples: [
    { name: 'crash report', input: { text: 'The app crashes on start' }, expect: { route: ['bug'], outputs: { 'file-bug': { queue: 'engineering' } } } },
    { name: 'how-to', input: { text: 'How do I export?' }, expect: { route: ['question'], outputs: { answer: { check: 'mentionsFaq' } } } },
    { name: 'a slow page is a bug', task: 'classify', input: { text: 'The page is slow' }, expect: { output: 'bug' } },
  ],
};
const checks = { mentionsFaq: (output: unknown) => ({ ok: String(output).includes('FAQ'), report: 'the answer should point at the FAQ' }) };
// #endregion

// The "model" answers from the last message: a rule instead of an LLM, so the run is offline.
const classifier = (bug: RegExp) => scriptedModel((request) => (bug.test(String(request.messages.at(-1)!.content)) ? 'bug' : 'question'));

// #region evaluate
const store = await openStateStore();
const before = await evaluateWorkflow(triage, { golden, checks, model: classifier(/crash/i), store });
console.log(`before: ${before.result.passed} of ${before.result.total} pass`, before.result.tasks);

// A "prompt change" that also calls slow pages and exports bugs.
const after = await evaluateWorkflow(triage, { golden, checks, model: classifier(/crash|slow|export/i), store });
console.log(`after: ${after.result.passed} of ${after.result.total} pass`);
for (const change of after.changes) console.log(`  ${change.kind.padEnd(14)} ${change.example}: ${change.detail}`);
await store.close();
// #endregion
