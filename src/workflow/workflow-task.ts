import type { z } from 'zod';
import { TroupeError } from '../core/errors/troupe-error.js';
import type { Clock } from '../core/ids.js';
import type { ModelClient } from '../model/model-client.js';
import type { TraceSink } from '../observe/trace-event.js';
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

/** What a task's implementation receives besides its input. */
export interface TaskContext {
  runId: string;
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
  /** The model this attempt should use (escalation may pick a stronger one); undefined: the task's own. */
  model?: string | ModelClient;
  trace?: TraceSink;
  /** Stamps the task's trace events (default: the system clock). */
  clock?: Clock;
  signal?: AbortSignal;
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
  execute(input: Input, context: TaskContext): Promise<Claim>;
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
