import { ConfigurationError } from '../core/errors/configuration-error.js';
import { TroupeError } from '../core/errors/troupe-error.js';
import { z } from 'zod';
import type { JsonValue } from '../core/json.js';
import type { CorruptRecordError } from '../store/errors/corrupt-record-error.js';
import { VersionConflictError } from '../store/errors/version-conflict-error.js';
import { defineRecord } from '../store/record-schema.js';
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

export const reviewRecords = defineRecord<ReviewRequest>({
  kind: 'review',
  version: runStateVersion,
  schema: z.looseObject({
    id: z.string(),
    runId: z.string(),
    workflow: z.string(),
    item: z.string(),
    task: z.string(),
    kind: z.enum(['approval', 'input', 'output']),
    what: z.string(),
    policy: z.string(),
    evidence: z.array(z.unknown()),
    findings: z.array(z.string()),
    status: z.enum(['pending', 'approved', 'rejected']),
    createdAt: z.number(),
    decision: z.looseObject({ by: z.string(), at: z.number() }).optional(),
  }),
});

/**
 * Reviews, filtered, oldest first. Damaged review documents are left out and pushed to `corrupt` when it is
 * given, so one bad document does not hide the rest; without it the first one throws.
 */
export async function listReviews(
  store: StateStore,
  filter: { status?: ReviewRequest['status']; runId?: string } = {},
  corrupt?: CorruptRecordError[],
): Promise<ReviewRequest[]> {
  const all = await reviewRecords.list(store, collections.reviews, corrupt ? { corrupt } : {});
  // Oldest first, as a person works through them; ids are random, so their order says nothing.
  return all
    .map((doc) => doc.value)
    .filter((review) => (!filter.status || review.status === filter.status) && (!filter.runId || review.runId === filter.runId))
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A review; a missing one is the user's mistake (exit 2), a damaged one a `CorruptRecordError` naming where it is. */
export async function getReview(store: StateStore, id: string): Promise<ReviewRequest> {
  return (await readReview(store, id)).review;
}

async function readReview(store: StateStore, id: string): Promise<{ review: ReviewRequest; version: number }> {
  const doc = await reviewRecords.get(store, collections.reviews, id);
  if (!doc) throw new ConfigurationError(`no review "${id}" (troupe review list shows the pending ones)`, { field: 'review' });
  return { review: doc.value, version: doc.version };
}

/**
 * Records a person's decision. Safe from another process while the run waits: the write is a
 * compare-and-set, so two people deciding at once cannot both win; the loser reads the winner's
 * decision and gets `ReviewAlreadyDecidedError` naming who decided. The run picks the decision up
 * when it resumes (`resumeRun`, or `troupe run --resume <run>`).
 */
export async function decideReview(store: StateStore, id: string, decision: ReviewDecision, now = Date.now()): Promise<ReviewRequest> {
  for (let attempt = 1; ; attempt++) {
    const { review, version } = await readReview(store, id);
    if (review.status !== 'pending') throw new ReviewAlreadyDecidedError(review);
    const decided: ReviewRequest = {
      ...review,
      status: decision.approved ? 'approved' : 'rejected',
      decision: {
        by: decision.by ?? process.env.USER ?? 'unknown',
        at: now,
        ...(decision.note ? { note: decision.note } : {}),
        ...(decision.value !== undefined ? { value: decision.value } : {}),
      },
    };
    try {
      await reviewRecords.put(store, collections.reviews, id, decided, { expectedVersion: version });
      return decided;
    } catch (error) {
      // Someone wrote the review between our read and our write: read it again, which normally
      // finds their decision. A review only ever changes once, so this ends at the next read.
      if (!(error instanceof VersionConflictError) || attempt >= 5) throw error;
    }
  }
}
