import { createHash } from 'node:crypto';
import { FinishValidationError } from '../agent/finish-validation-error.js';
import { AwaitingReviewError } from '../core/errors/awaiting-review-error.js';
import { formatIssues, type ValidationIssue } from '../core/validation-issue.js';
import { stableStringify, type JsonValue } from '../core/json.js';
import type { Claim } from './claim.js';
import type { ReviewRequest } from './review.js';
import { toJson, type TaskRecord, type Transition } from './run-state.js';
import { isTaskEnd, ItemRejectedError, type ReviewPause, type TaskContext, type TaskEnd, type WorkflowTask } from './workflow-task.js';

/** What a person must look at, before the engine gives it an id and stores it. */
export type ReviewDraft = Pick<ReviewRequest, 'kind' | 'what' | 'policy' | 'evidence' | 'findings'> & Partial<Pick<ReviewRequest, 'proposal' | 'tool'>>;

export type StepOutcome =
  | { kind: 'done'; output: unknown; claim: Claim }
  | { kind: 'review'; review: ReviewDraft }
  | { kind: 'rejected'; reason: string }
  | { kind: 'failed'; reason: string };

export interface StepEnvironment {
  task: WorkflowTask;
  input: unknown;
  record: TaskRecord;
  /** The step's context; its `model` (the run's override) is used when the task's policy picks none. */
  context: Omit<TaskContext, 'attempt' | 'feedback' | 'previous'>;
  /** Records a transition that leaves the item's state as it is (a retry, an escalation, a failed validation). */
  note: (transition: Omit<Transition, 'at' | 'item' | 'from' | 'to' | 'task'>) => Promise<void>;
}

/** The key an approval is matched by: the tool and a hash of its exact input. */
export function approvalKey(input: unknown): string {
  return createHash('sha256').update(stableStringify(input)).digest('hex').slice(0, 16);
}

/**
 * Runs one task for one item and applies its policies in code: validation with a bounded retry,
 * escalation to the next model, evidence, conflicting samples, a checker's bounded self-correction,
 * and the high-risk checkpoint. Model mistakes never throw from here; they become retries, reviews
 * or a failed outcome, each recorded with the rule that fired.
 */
export async function runStep(env: StepEnvironment): Promise<StepOutcome> {
  const { task, record } = env;
  const policy = task.policy ?? {};
  const models = policy.escalate?.models ?? [undefined];
  const invalidRetries = policy.invalidOutput?.maxRetries ?? 1;
  const checkerRetries = policy.checker?.maxRetries ?? 2;
  let modelIndex = 0;
  let invalidCount = 0;
  let checkerCount = 0;

  for (;;) {
    record.attempts++;
    const model = models[modelIndex] ?? env.context.model;
    const context: TaskContext = { ...env.context, attempt: record.attempts };
    if (record.feedback) context.feedback = record.feedback;
    if (record.previous !== undefined) context.previous = record.previous;
    if (model !== undefined) context.model = model;

    const claims: Claim[] = [];
    let end: TaskEnd | undefined;
    try {
      for (let i = 0; i < (policy.conflict ? (policy.conflict.samples ?? 2) : 1) && !end; i++) {
        const result = await task.execute(env.input, context);
        if (isTaskEnd(result)) end = result;
        else claims.push(result);
      }
    } catch (error) {
      // A tool call waiting for approval is asked deep inside an agent's loop, so it arrives as the
      // one exception that crosses it; from here on it is a pause like a human step's.
      if (error instanceof AwaitingReviewError) end = { kind: 'awaiting-review', pause: pauseOf(error) };
      else if (error instanceof ItemRejectedError) return { kind: 'rejected', reason: error.reason };
      else if (error instanceof FinishValidationError) end = { kind: 'stopped', reason: error.message };
      else return { kind: 'failed', reason: `task "${task.name}" failed: ${(error as Error).message}` };
    }
    if (end) {
      switch (end.kind) {
        case 'awaiting-review':
          return { kind: 'review', review: reviewFromPause(end.pause) };
        case 'stopped': {
          // The model could not produce a result at all: the same treatment as an invalid one.
          const next = await afterInvalid([{ path: [], message: end.reason }], undefined);
          if (next) return next;
          continue;
        }
      }
    }

    let chosen = claims[0]!;
    if (claims.length > 1 && new Set(claims.map((c) => stableStringify(c.value))).size > 1) {
      const picked = policy.conflict?.authority?.(claims);
      if (!picked) {
        return review(
          'output',
          'conflict.review',
          `the ${claims.length} answers of "${task.name}" disagree; choose or correct one`,
          chosen,
          claims.map((c) => `answer: ${JSON.stringify(c.value)}`),
        );
      }
      await env.note({ why: `the ${claims.length} answers disagreed; the authority rule chose one`, policy: 'conflict.authority', claim: claimOf(picked) });
      chosen = picked;
    }

    const parsed = task.output.safeParse(chosen.value);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(({ path, message, code }) => ({ path, message, code }));
      await env.note({
        why: `the output of "${task.name}" is invalid: ${formatIssues(issues)}`,
        policy: 'invalid-output',
        attempt: record.attempts,
        claim: claimOf(chosen),
        validation: issues,
      });
      const next = await afterInvalid(issues, chosen);
      if (next) return next;
      continue;
    }
    const output = parsed.data;

    if ((policy.evidence?.required || policy.risk === 'high') && chosen.evidence.length === 0) {
      chosen = { ...chosen, status: 'unsupported' };
      if (policy.evidence?.onMissing === 'reject') return { kind: 'rejected', reason: `the claim of "${task.name}" has no evidence (evidence.missing)` };
      return review('output', 'evidence.missing', `the claim of "${task.name}" has no evidence; confirm or correct it`, chosen, ['no evidence was given']);
    }

    if (policy.checker) {
      const report = await policy.checker.check(output, env.input);
      if (!report.ok) {
        await env.note({
          why: `the checker rejected the output of "${task.name}": ${report.report}`,
          policy: 'checker.failed',
          attempt: record.attempts,
          claim: claimOf(chosen),
        });
        if (checkerCount < checkerRetries) {
          checkerCount++;
          record.feedback = `A check of your previous answer failed:\n${report.report}`;
          record.previous = toJson(output);
          if (modelIndex + 1 < models.length) {
            modelIndex++;
            await env.note({ why: `escalating "${task.name}" to ${describeModel(models[modelIndex])}`, policy: 'escalation' });
          } else await env.note({ why: `retrying "${task.name}" with the checker's report`, policy: 'checker.retry' });
          continue;
        }
        return review('output', 'checker.exhausted', `"${task.name}" kept failing its check after ${checkerRetries + 1} attempts`, chosen, [report.report]);
      }
    }

    if (policy.risk === 'high')
      return review('output', 'high-risk.checkpoint', `"${task.name}" is high-risk: approve its output before the item goes on`, chosen, []);
    return { kind: 'done', output, claim: chosen };
  }

  async function afterInvalid(issues: ValidationIssue[], claimed: Claim | undefined): Promise<StepOutcome | undefined> {
    record.feedback = `Your previous answer was invalid: ${formatIssues(issues)}`;
    if (claimed) record.previous = toJson(claimed.value);
    if (modelIndex + 1 < models.length) {
      modelIndex++;
      await env.note({ why: `escalating "${task.name}" to ${describeModel(models[modelIndex])} after an invalid answer`, policy: 'escalation' });
      return undefined;
    }
    if (invalidCount < invalidRetries) {
      invalidCount++;
      await env.note({ why: `retrying "${task.name}" with the validation errors`, policy: 'invalid-output.retry' });
      return undefined;
    }
    if (policy.invalidOutput?.then === 'fail') return { kind: 'failed', reason: `"${task.name}" gave no valid output: ${formatIssues(issues)}` };
    return review(
      'output',
      'invalid-output.review',
      `"${task.name}" gave no valid output after ${record.attempts} attempts; correct it or reject the item`,
      claimed,
      issues.map((i) => formatIssues([i])),
    );
  }

  function review(kind: ReviewDraft['kind'], rule: string, what: string, claimed: Claim | undefined, findings: string[]): StepOutcome {
    const draft: ReviewDraft = { kind, what, policy: rule, evidence: claimed?.evidence ?? [], findings };
    if (claimed) draft.proposal = toJson(claimed.value);
    return { kind: 'review', review: draft };
  }
}

function pauseOf(error: AwaitingReviewError): ReviewPause {
  return error.approval ? { kind: 'approval', approval: error.approval } : { kind: 'input', question: error.message, input: undefined };
}

function reviewFromPause(pause: ReviewPause): ReviewDraft {
  if (pause.kind === 'approval') {
    const { tool, input, sideEffects } = pause.approval;
    return {
      kind: 'approval',
      what: `call ${tool}${sideEffects ? ` (${sideEffects} side effects)` : ''} with ${JSON.stringify(input)}`,
      policy: 'tool.needs-approval',
      proposal: toJson(input),
      evidence: [],
      findings: [],
      tool: { name: tool, inputKey: approvalKey(input) },
    };
  }
  return {
    kind: 'input',
    what: pause.question,
    policy: 'human-step',
    evidence: [],
    findings: [],
    ...(pause.input !== undefined ? { proposal: toJson(pause.input) } : {}),
  };
}

function claimOf(claimed: Claim): NonNullable<Transition['claim']> {
  return { value: toJson(claimed.value), status: claimed.status, evidence: claimed.evidence, ...(claimed.model ? { model: claimed.model } : {}) };
}

function describeModel(model: unknown): string {
  return typeof model === 'string' ? model : model && typeof model === 'object' && 'id' in model ? String((model as { id: unknown }).id) : 'the next model';
}

export type { JsonValue };
