import { TroupeError, type TroupeErrorOptions } from './troupe-error.js';

/**
 * Thrown to stop work that must not go on until a person decides (an action needing approval).
 * It steers control flow: whoever runs the work persists it and exits with code 3.
 */
export class AwaitingReviewError extends TroupeError {
  readonly code = 'awaiting_review';
  readonly fault = 'review' as const;
  readonly reviewId: string | undefined;

  constructor(message: string, reviewId?: string, options: TroupeErrorOptions = {}) {
    super(message, { ...options, details: { reviewId, ...options.details } });
    this.reviewId = reviewId;
  }
}
