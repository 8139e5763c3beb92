import { ConfigurationError } from '../core/errors/configuration-error.js';
import { TroupeError } from '../core/errors/troupe-error.js';
import type { JsonValue } from '../core/json.js';
import type { StateStore } from '../store/state-store.js';
import type { Evidence } from './claim.js';
import { collections, runStateVersion } from './run-state.js';

/**
 * What a person is asked to decide. `approval`: a tool call needs approval before it runs.
 * `input`: a human step needs an answer. `output`: a policy wants a person to confirm, correct or
 * reject a task's proposed output (invalid output, missing evidence, conflict, checker, loop limit,
 * high risk).
 */
export interface ReviewRequest {
  schemaVersion: typeof runStateVersion;
  id: string;
  runId: string;
  workflow: string;
  item: string;
  task: string;
  kind: 'approval' | 'input' | 'output';
  /** What would happen, or what is asked, in words. */
  what: string;
  /** The policy that asked for the review, e.g. `tool.needs-approval`, `checker.exhausted`. */
  policy: string;
  /** The proposed value (an output, or a tool call's input). */
  proposal?: JsonValue;
  evidence: Evidence[];
  /** Validation errors, checker reports and the like that led here. */
  findings: string[];
  /** For approvals: which tool call (so the decision applies when the task runs again). */
  tool?: { name: string; inputKey: string };
  status: 'pending' | 'approved' | 'rejected';
  createdAt: number;
  decision?: { by: string; at: number; note?: string; value?: JsonValue };
}

export interface ReviewDecision {
  approved: boolean;
  by?: string;
  note?: string;
  /** A corrected output or a human step's answer (validated against the task's output schema on resume). */
  value?: JsonValue;
}

/** The review was already decided: decisions are final, so a second one is refused rather than silently overwriting the first. */
export class ReviewAlreadyDecidedError extends TroupeError {
  readonly code = 'review_already_decided';
  readonly fault = 'user' as const;

  constructor(review: ReviewRequest) {
    super(`review ${review.id} was already ${review.status} by ${review.decision?.by ?? 'someone'}; a decision is final`);
  }
}

export async function listReviews(store: StateStore, filter: { status?: ReviewRequest['status']; runId?: string } = {}): Promise<ReviewRequest[]> {
  const out: ReviewRequest[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.list(collections.reviews, { limit: 500, ...(after ? { after } : {}) });
    for (const doc of page.items) {
      const review = doc.value as unknown as ReviewRequest;
      if ((!filter.status || review.status === filter.status) && (!filter.runId || review.runId === filter.runId)) out.push(review);
    }
    if (!page.next) return out;
    after = page.next;
  }
}

export async function getReview(store: StateStore, id: string): Promise<ReviewRequest> {
  const doc = await store.get(collections.reviews, id).catch(() => undefined);
  if (!doc) throw new ConfigurationError(`no review "${id}" (troupe review list shows the pending ones)`, { field: 'review' });
  return doc.value as unknown as ReviewRequest;
}

/**
 * Records a person's decision. Safe from another process while the run waits: the write is a
 * compare-and-set, so two people deciding at once cannot both win. The run picks the decision up
 * when it resumes (`resumeRun`, or `troupe run --resume <run>`).
 */
export async function decideReview(store: StateStore, id: string, decision: ReviewDecision, now = Date.now()): Promise<ReviewRequest> {
  const doc = await store.get(collections.reviews, id).catch(() => undefined);
  if (!doc) throw new ConfigurationError(`no review "${id}" (troupe review list shows the pending ones)`, { field: 'review' });
  const review = doc.value as unknown as ReviewRequest;
  if (review.status !== 'pending') throw new ReviewAlreadyDecidedError(review);
  const decided: ReviewRequest = {
    ...review,
    status: decision.approved ? 'approved' : 'rejected',
    decision: { by: decision.by ?? process.env.USER ?? 'unknown', at: now, ...(decision.note ? { note: decision.note } : {}), ...(decision.value !== undefined ? { value: decision.value } : {}) },
  };
  await store.put(collections.reviews, id, decided as unknown as JsonValue, { expectedVersion: doc.version });
  return decided;
}
