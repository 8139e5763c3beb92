import { AwaitingReviewError } from '../core/errors/awaiting-review-error.js';
import type { SideEffects } from './define-tool.js';

/** What a person (or an approver function) is asked to allow. */
export interface ApprovalRequest {
  tool: string;
  callId: string;
  input: unknown;
  sideEffects: SideEffects | undefined;
  runId?: string;
  agent?: string;
}

export interface ApprovalDecision {
  approved: boolean;
  /** Why, in the reviewer's words; a rejection's note goes back to the model. */
  note?: string;
  by?: string;
}

/**
 * Decides on calls to tools marked `needsApproval`. Without one, such a call stops the run with
 * an AwaitingReviewError, which the workflow layer persists as a review request.
 */
export type Approver = (request: ApprovalRequest) => Promise<ApprovalDecision> | ApprovalDecision;

/**
 * An approver that a program sets explicitly, on its own authority: it approves calls to the
 * named tools (say, a crew that runs the tests it writes, sandboxed) with `by` saying who decided,
 * and hands every other call to `otherwise` — by default a person, as if no approver were set.
 * Nothing a model says reaches this decision: it depends on the tool's name only.
 */
export function approveTools(names: readonly string[], by: string, otherwise?: Approver): Approver {
  const allowed = new Set(names);
  return (request) => {
    if (allowed.has(request.tool)) return { approved: true, by };
    if (otherwise) return otherwise(request);
    throw new AwaitingReviewError(`Tool "${request.tool}" needs approval before it runs; ${by} approves only ${[...allowed].join(', ')}.`, undefined, {
      approval: request,
    });
  };
}
