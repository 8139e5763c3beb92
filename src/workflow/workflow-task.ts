import type { z } from 'zod';
import type { RunContext } from '../agent/run-context.js';
import type { PendingApproval } from '../core/errors/awaiting-review-error.js';
import { TroupeError } from '../core/errors/troupe-error.js';
import type { Approver } from '../tools/approval.js';
import type { SideEffects } from '../tools/define-tool.js';
import type { Outbox } from '../tools/outbox.js';
import type { Claim } from './claim.js';
import type { TaskPolicy } from './policy.js';

/**
 * The stage an item reaches when a task succeeds: the workflow's own word for its progress
 * (`extracted`, `validated`, `shipped`). The engine knows only its own states (`received`,
 * `routed`, `awaiting-review`, `accepted`, `rejected`, `failed`); a stage may not reuse the ones
 * that halt an item. A workflow narrows it with its own union (see crews/invoices).
 */
export type Stage = string;

/**
 * What a task's implementation receives besides its input: the run's context (derived for this
 * step: agents and crews it starts run in it) and the step's own facts.
 */
export interface TaskContext extends RunContext {
  itemId: string;
  task: string;
  /** 1 on the first attempt; cycles, retries and escalation raise it. */
  attempt: number;
  /** Why the task runs again: a downstream task's feedback, validation errors, a checker's report, a reviewer's note. */
  feedback?: string;
  /** The value of the previous attempt, for self-correction. */
  previous?: unknown;
  /** Stable across retries and resumes: use it to make external side effects idempotent. */
  idempotencyKey: string;
  /** Decides tool calls that need approval, from the reviews of this item. */
  approver: Approver;
  /** Where this run records its side-effecting tool calls, so a repeated step does not act twice. */
  outbox?: Outbox;
}

/**
 * One step of a workflow: typed input and output, and an implementation that returns a claim.
 * Made by codeTask, promptTask, extractTask, agentTask, crewTask and humanTask.
 */
export interface WorkflowTask<Input = any, Output = any> {
  readonly name: string;
  readonly kind: 'code' | 'prompt' | 'extract' | 'agent' | 'crew' | 'human';
  readonly input: z.ZodType<Input>;
  readonly output: z.ZodType<Output>;
  readonly stage?: Stage;
  /** A completed task with `write` or `external` side effects is never run again for the item, even on resume. */
  readonly sideEffects?: SideEffects;
  readonly policy?: TaskPolicy<Output>;
  /** A claim for the engine to check, or an expected end without one (see `TaskEnd`). */
  execute(input: Input, context: TaskContext): Promise<Claim | TaskEnd>;
}

/**
 * A step that ended without a claim, on purpose or by a bound: values the engine switches on,
 * not exceptions. `stopped`: an agent or crew ended without a result (a termination condition
 * fired), treated like an invalid answer (retry, escalate, review). `awaiting-review`: the item
 * waits for a person, to answer a question or to allow a tool call.
 */
export type TaskEnd = { kind: 'stopped'; reason: string } | { kind: 'awaiting-review'; pause: ReviewPause };

/** What a paused step waits for. */
export type ReviewPause = { kind: 'input'; question: string; input: unknown } | { kind: 'approval'; approval: PendingApproval };

/** Tells a task's claim from an expected end without one. */
export function isTaskEnd(result: Claim | TaskEnd): result is TaskEnd {
  return 'kind' in result;
}

/** Common fields of every task constructor. */
export interface TaskBase<Input, Output> {
  name: string;
  input: z.ZodType<Input>;
  output: z.ZodType<Output>;
  stage?: Stage;
  sideEffects?: SideEffects;
  policy?: TaskPolicy<Output>;
}

/** Thrown by a task to reject the item on purpose (it is not a failure): the item ends `rejected`. */
export class ItemRejectedError extends TroupeError {
  readonly code = 'item_rejected';
  readonly fault = 'user' as const;

  constructor(readonly reason: string) {
    super(reason);
  }
}
