import { TroupeError, type TroupeErrorOptions } from './troupe-error.js';

/** The tool call a person must allow before it runs. */
export interface PendingApproval {
  tool: string;
  input: unknown;
  sideEffects?: string | undefined;
  callId?: string;
  runId?: string;
  agent?: string;
}

/**
 * Thrown to stop work that must not go on until a person decides (an action needing approval).
 * It steers control flow across an agent's loop (the approver is asked inside a tool call):
 * whoever runs the work persists it — a workflow turns it into a review pause — and exits with code 3.
 */
export class AwaitingReviewError extends TroupeError {
  readonly code = 'awaiting_review';
  readonly fault = 'review' as const;
  readonly reviewId: string | undefined;
  /** The call waiting for approval, when that is what waits. */
  readonly approval: PendingApproval | undefined;

  constructor(message: string, reviewId?: string, options: TroupeErrorOptions & { approval?: PendingApproval } = {}) {
    const { approval, ...rest } = options;
    super(message, { ...rest, details: { reviewId, ...(approval ? { request: approval } : {}), ...rest.details } });
    this.reviewId = reviewId;
    this.approval = approval;
  }
}
