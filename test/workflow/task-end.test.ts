import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { claim, defineWorkflow, listReviews, type TaskContext, type TaskEnd, type WorkflowTask } from 'troupe';
import { FileStore } from 'troupe/store';
import { readTransitions } from '../../src/workflow/run-state.js';
import { sequentialIds } from 'troupe/testing';

const store = () => new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-end-')) });

/** A task that ends as `ends` says, attempt by attempt, and records the contexts it ran in. */
function scriptedTask(ends: Array<TaskEnd | string>, contexts: TaskContext[] = []): WorkflowTask<unknown, string> {
  return {
    name: 'answer',
    kind: 'code',
    input: z.unknown(),
    output: z.string(),
    async execute(_input, context) {
      contexts.push(context);
      const end = ends[context.attempt - 1]!;
      return typeof end === 'string' ? claim(end) : end;
    },
  };
}

describe('expected ends of a step are values', () => {
  it('a stopped step is retried with its reason as feedback, like an invalid answer', async () => {
    const contexts: TaskContext[] = [];
    const workflow = defineWorkflow({
      name: 'ends',
      input: z.unknown(),
      tasks: [scriptedTask([{ kind: 'stopped', reason: 'the budget ran out' }, 'fine'], contexts)],
    });
    const states = store();

    const summary = await workflow.run([{ id: 'x', input: {} }], { store: states, ids: sequentialIds(), runId: 'r-end', model: 'scripted' });

    expect(summary.status).toBe('done');
    expect(summary.items[0]!.outputs).toEqual({ answer: 'fine' });
    expect(contexts[1]!.feedback).toContain('the budget ran out');
    // Each step runs in a context derived from the run's: its id and model override, the step's own approver and signal.
    expect(contexts.map((c) => [c.runId, c.model, c.idempotencyKey])).toEqual([
      ['r-end', 'scripted', 'r-end.x.answer'],
      ['r-end', 'scripted', 'r-end.x.answer'],
    ]);
    expect(contexts[0]!.signal).toBeInstanceOf(AbortSignal);
    const policies = (await readTransitions(states, 'r-end')).map((t) => t.policy).filter(Boolean);
    expect(policies).toContain('invalid-output.retry');
  });

  it('a step that keeps stopping goes to review; a pause asks a person', async () => {
    const states = store();
    const ids = sequentialIds();
    const stopping = defineWorkflow({
      name: 'stops',
      input: z.unknown(),
      tasks: [
        scriptedTask([
          { kind: 'stopped', reason: 'no result' },
          { kind: 'stopped', reason: 'no result again' },
        ]),
      ],
    });
    const stopped = await stopping.run([{ id: 'x', input: {} }], { store: states, ids });
    expect(stopped.status).toBe('awaiting-review');

    const pausing = defineWorkflow({
      name: 'pauses',
      input: z.unknown(),
      tasks: [scriptedTask([{ kind: 'awaiting-review', pause: { kind: 'input', question: 'Which account?', input: { id: 7 } } }])],
    });
    const paused = await pausing.run([{ id: 'y', input: {} }], { store: states, ids, runId: 'r-pause' });
    expect(paused.status).toBe('awaiting-review');

    const reviews = await listReviews(states);
    expect(reviews.map((r) => [r.workflow, r.kind, r.policy, r.what])).toEqual(
      expect.arrayContaining([
        ['stops', 'output', 'invalid-output.review', expect.stringContaining('gave no valid output')],
        ['pauses', 'input', 'human-step', 'Which account?'],
      ]),
    );
    expect(reviews.find((r) => r.workflow === 'pauses')!.proposal).toEqual({ id: 7 });
  });
});
