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
