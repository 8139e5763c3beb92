import type { ModelClient } from '../model/model-client.js';
import type { Claim } from './claim.js';

/** A checker's verdict on an output: passing, or a report that goes back into a bounded retry. */
export interface CheckReport {
  ok: boolean;
  report: string;
}

/**
 * What code does with a task's claim, per task. Each rule that fires is recorded in the item's
 * transitions by name (`invalid-output.retry`, `evidence.missing`, `conflict.authority`,
 * `escalation`, `high-risk.checkpoint`, `checker.retry`, ...), so the trace says why.
 */
export interface TaskPolicy<Output = unknown> {
  /** Output that fails the schema: retry with the errors up to `maxRetries` times (default 1), then `review` (default) or `fail`. */
  invalidOutput?: { maxRetries?: number; then?: 'review' | 'fail' };
  /** Claims must carry evidence; without it the claim is marked unsupported and the item goes to `review` (default) or is `rejected`. */
  evidence?: { required: true; onMissing?: 'review' | 'reject' };
  /**
   * Ask `samples` times (default 2); when the values differ, `authority` picks one (deterministic,
   * e.g. the one with most evidence), or returns undefined and the item goes to review.
   */
  conflict?: { samples?: number; authority?: (claims: readonly Claim[]) => Claim | undefined };
  /** Models to try in order: the next one takes over when an attempt's output is invalid or fails its checker. */
  escalate?: { models: ReadonlyArray<string | ModelClient> };
  /** High-risk steps need evidence and a person's approval of the output before the item goes on. */
  risk?: 'high';
  /**
   * Self-correction (Reflexion): code, a test run or a judge model checks the output; a failing
   * report and the previous attempt go into a retry, up to `maxRetries` (default 2); then a person reviews.
   */
  checker?: { check: (output: Output, input: unknown) => CheckReport | Promise<CheckReport>; maxRetries?: number };
}
