import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { claim, codeTask, decideReview, defineWorkflow, extractTask, ItemRejectedError, listReviews, promptTask, type Claim, type WorkflowTask } from 'troupe';
import { FileStore } from 'troupe/store';
import { reply, scriptedModel } from 'troupe/testing';
import { readTransitions } from '../../src/workflow/run-state.js';

const store = () => new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-policy-')) });
const doc = z.object({ text: z.string() });
const invoice = z.object({ vendor: z.string(), total: z.number().positive() });
const record = (value: unknown, evidence: unknown[] = [{ source: 'doc', quote: 'Total: 10' }]) => reply.toolCall('record_extract', { value, evidence });

function single(task: WorkflowTask) {
  return defineWorkflow({ name: 'one', input: doc, tasks: [task] });
}
async function runOne(task: WorkflowTask, states = store()) {
  const summary = await single(task).run([{ id: 'i', input: { text: 'ACME invoice. Total: 10' } }], { store: states });
  const transitions = await readTransitions(states, summary.runId);
  return { summary, item: summary.items[0]!, transitions, policies: transitions.map((t) => t.policy).filter(Boolean), states };
}

describe('claims', () => {
  it('a model claim changes state only once code validated it; the claim and its evidence are recorded', async () => {
    const model = scriptedModel([record({ vendor: 'ACME', total: 10 })]);
    const { item, transitions } = await runOne(
      extractTask({ name: 'extract', stage: 'extracted', input: doc, output: invoice, model, prompt: 'Extract from: {{text}}' }),
    );
    expect(item).toMatchObject({ state: 'accepted', outputs: { extract: { vendor: 'ACME', total: 10 } } });
    expect(transitions.find((t) => t.task === 'extract')).toMatchObject({
      to: 'extracted',
      claim: { value: { vendor: 'ACME', total: 10 }, status: 'proposed', evidence: [{ source: 'doc', quote: 'Total: 10' }], model: 'scripted' },
    });
    expect(model.calls[0]!.messages[0]).toMatchObject({ content: 'Extract from: ACME invoice. Total: 10' });
    expect(model.calls[0]!.toolChoice).toEqual({ name: 'record_extract' });
  });

  it('a code task can reject the item on purpose', async () => {
    const { item } = await runOne(
      codeTask({
        name: 'check',
        input: doc,
        output: z.string(),
        run: () => {
          throw new ItemRejectedError('not an invoice');
        },
      }),
    );
    expect(item).toMatchObject({ state: 'rejected', reason: 'not an invoice' });
  });
});

describe('policies', () => {
  it('invalid output: one retry with the validation errors, then review', async () => {
    const model = scriptedModel([record({ vendor: 'ACME', total: -1 }), record({ vendor: 'ACME', total: 'ten' })]);
    const { item, policies, transitions } = await runOne(extractTask({ name: 'extract', input: doc, output: invoice, model, prompt: '{{text}}' }));
    expect(item.state).toBe('awaiting-review');
    expect(policies).toEqual(['invalid-output', 'invalid-output.retry', 'invalid-output', 'invalid-output.review']);
    expect(model.calls[1]!.messages[0]!.content).toMatch(
      /This is attempt 2\. Fix the following:\nYour previous answer was invalid: total: Too small: expected number to be >0/,
    );
    expect(transitions.find((t) => t.policy === 'invalid-output')!.validation![0]).toMatchObject({ path: ['total'] });
  });

  it('invalid output with then: fail fails the item, naming the errors', async () => {
    const model = scriptedModel(() => record({ vendor: 'ACME' }));
    const { item } = await runOne(
      extractTask({ name: 'extract', input: doc, output: invoice, model, prompt: '{{text}}', policy: { invalidOutput: { maxRetries: 0, then: 'fail' } } }),
    );
    expect(item).toMatchObject({ state: 'failed', reason: '"extract" gave no valid output: total: Invalid input: expected number, received undefined' });
  });

  it('missing evidence marks the claim unsupported and asks a person, or rejects', async () => {
    const model = () => scriptedModel([record({ vendor: 'ACME', total: 10 }, [])]);
    const review = await runOne(
      extractTask({ name: 'extract', input: doc, output: invoice, model: model(), prompt: '{{text}}', policy: { evidence: { required: true } } }),
    );
    expect(review.item.state).toBe('awaiting-review');
    const [request] = await listReviews(review.states);
    expect(request).toMatchObject({ kind: 'output', policy: 'evidence.missing', proposal: { vendor: 'ACME', total: 10 }, findings: ['no evidence was given'] });
    const rejected = await runOne(
      extractTask({
        name: 'extract',
        input: doc,
        output: invoice,
        model: model(),
        prompt: '{{text}}',
        policy: { evidence: { required: true, onMissing: 'reject' } },
      }),
    );
    expect(rejected.item).toMatchObject({ state: 'rejected', reason: 'the claim of "extract" has no evidence (evidence.missing)' });
  });

  it('conflicting values: a deterministic authority rule decides, or a person does', async () => {
    const answers = () =>
      scriptedModel([record({ vendor: 'ACME', total: 10 }, [{ source: 'p1', quote: 'Total: 10' }]), record({ vendor: 'ACME', total: 100 }, [])]);
    const mostEvidence = (claims: readonly Claim[]) => [...claims].sort((a, b) => b.evidence.length - a.evidence.length)[0];
    const decided = await runOne(
      extractTask({
        name: 'extract',
        input: doc,
        output: invoice,
        model: answers(),
        prompt: '{{text}}',
        policy: { conflict: { samples: 2, authority: mostEvidence } },
      }),
    );
    expect(decided.item.outputs.extract).toEqual({ vendor: 'ACME', total: 10 });
    expect(decided.policies).toEqual(['conflict.authority']);
    const undecided = await runOne(
      extractTask({ name: 'extract', input: doc, output: invoice, model: answers(), prompt: '{{text}}', policy: { conflict: { samples: 2 } } }),
    );
    expect(undecided.item.state).toBe('awaiting-review');
    expect((await listReviews(undecided.states))[0]).toMatchObject({
      policy: 'conflict.review',
      findings: ['answer: {"vendor":"ACME","total":10}', 'answer: {"vendor":"ACME","total":100}'],
    });
  });

  it('escalates from a cheap model to a strong one when the cheap one fails', async () => {
    const cheap = scriptedModel([record({ vendor: 'ACME' })], { id: 'scripted:cheap' });
    const strong = scriptedModel([record({ vendor: 'ACME', total: 10 })], { id: 'scripted:strong' });
    const { item, transitions } = await runOne(
      extractTask({ name: 'extract', input: doc, output: invoice, prompt: '{{text}}', policy: { escalate: { models: [cheap, strong] } } }),
    );
    expect(item.outputs.extract).toEqual({ vendor: 'ACME', total: 10 });
    expect(transitions.find((t) => t.policy === 'escalation')!.why).toBe('escalating "extract" to scripted:strong after an invalid answer');
    expect(transitions.find((t) => t.task === 'extract' && t.claim?.status === 'proposed' && t.to === 'received' && !t.policy)!.claim!.model).toBe(
      'scripted:strong',
    );
  });

  it('a high-risk step waits for a person, who approves or corrects the output', async () => {
    const states = store();
    const pay = codeTask({
      name: 'pay',
      input: doc,
      output: z.object({ amount: z.number() }),
      run: () => claim({ amount: 9000 }, [{ source: 'invoice', quote: '9,000' }]),
      policy: { risk: 'high' },
    });
    const first = await runOne(pay, states);
    expect(first.item.state).toBe('awaiting-review');
    const [request] = await listReviews(states);
    expect(request).toMatchObject({ policy: 'high-risk.checkpoint', proposal: { amount: 9000 }, evidence: [{ source: 'invoice', quote: '9,000' }] });
    await decideReview(states, request!.id, { approved: true, by: 'cfo', value: { amount: 8500 } });
    const resumed = await single(pay).resume(first.summary.runId, { store: states });
    expect(resumed.items[0]).toMatchObject({ state: 'accepted', outputs: { pay: { amount: 8500 } } });
  });

  it('self-correction: a checker report and the previous attempt go into a bounded retry, then a person', async () => {
    const model = scriptedModel(['The total is 10', 'Total: 10 EUR', 'Total 10']);
    const check = (summary: string) => (summary.includes('EUR') ? { ok: true, report: 'ok' } : { ok: false, report: 'name the currency' });
    const fixed = await runOne(
      promptTask({ name: 'summarize', input: doc, output: z.string(), model, prompt: 'Summarize {{text}}', policy: { checker: { check } } }),
    );
    expect(fixed.item.outputs.summarize).toBe('Total: 10 EUR');
    expect(model.calls[1]!.messages[0]!.content).toContain(
      'A check of your previous answer failed:\nname the currency\n\nYour previous answer:\nThe total is 10',
    );
    expect(fixed.policies).toEqual(['checker.failed', 'checker.retry']);

    const stubborn = scriptedModel(() => 'The total is 10');
    const exhausted = await runOne(
      promptTask({ name: 'summarize', input: doc, output: z.string(), model: stubborn, prompt: '{{text}}', policy: { checker: { check, maxRetries: 1 } } }),
    );
    expect(exhausted.item.state).toBe('awaiting-review');
    expect(exhausted.policies.at(-1)).toBe('checker.exhausted');
    expect(stubborn.callCount).toBe(2);
  });

  it('a rejected review sends its note back into the task', async () => {
    const states = store();
    const model = scriptedModel(['Draft one', 'Draft two, shorter']);
    const write = promptTask({ name: 'write', input: doc, output: z.string(), model, prompt: 'Write about {{text}}', policy: { risk: 'high' } });
    const first = await runOne(write, states);
    const [request] = await listReviews(states);
    await decideReview(states, request!.id, { approved: false, by: 'ed', note: 'too long' });
    const second = await single(write).resume(first.summary.runId, { store: states });
    expect(model.calls[1]!.messages[0]!.content).toContain('A reviewer rejected the previous output: too long\n\nYour previous answer:\nDraft one');
    expect(second.items[0]!.state).toBe('awaiting-review');
  });
});

describe('loops', () => {
  it('sends an item back upstream with feedback, and past the limit to review', async () => {
    const states = store();
    let drafts = 0;
    const workflow = defineWorkflow({
      name: 'edit',
      input: doc,
      tasks: [
        codeTask({
          name: 'draft',
          input: doc,
          output: z.string(),
          run: (_, context) => `draft ${++drafts}${context.feedback ? ` (after: ${context.feedback})` : ''}`,
        }),
        codeTask({
          name: 'review',
          input: z.string(),
          output: z.object({ ok: z.boolean(), notes: z.string() }),
          run: () => ({ ok: false, notes: 'needs work' }),
        }),
      ],
      edges: [
        { from: 'draft', to: 'review' },
        { from: 'review', to: 'draft', when: (r: { ok: boolean }) => !r.ok, loop: { maxAttempts: 2, feedback: (r: { notes: string }) => r.notes } },
      ],
    });
    const summary = await workflow.run([{ id: 'i', input: { text: 't' } }], { store: states });
    expect(summary.items[0]!.state).toBe('awaiting-review');
    expect(drafts).toBe(3);
    const transitions = await readTransitions(states, summary.runId);
    expect(transitions.filter((t) => t.policy === 'loop.send-back').map((t) => t.why)).toEqual([
      '"review" sent the item back to "draft" (1 of 2): needs work',
      '"review" sent the item back to "draft" (2 of 2): needs work',
    ]);
    expect((await listReviews(states))[0]).toMatchObject({ policy: 'loop.limit', findings: ['needs work'] });

    // Approved as it is: the output is taken and the loop that hit its limit is not taken again.
    const [limit] = await listReviews(states);
    await decideReview(states, limit!.id, { approved: true, by: 'ed' });
    const resumed = await workflow.resume(summary.runId, { store: states });
    expect(resumed.items[0]).toMatchObject({ state: 'accepted', outputs: { review: { ok: false, notes: 'needs work' } } });
    expect(drafts).toBe(3);
    expect(await listReviews(states, { status: 'pending' })).toEqual([]);
    const after = await readTransitions(states, summary.runId);
    expect(after.slice(-2).map((transition) => transition.why)).toEqual([
      `the loop "review" → "draft" is not taken again: review ${limit!.id} approved going on past its limit`,
      'every step is done',
    ]);
  });
});
