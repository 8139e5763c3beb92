import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listReviews, type ReviewRequest } from 'troupe';
import { SqliteStore } from 'troupe/store';
import { reviewRecords } from '../../src/workflow/review.js';
import { collections } from '../../src/workflow/run-state.js';

function review(id: string, createdAt: number, status: ReviewRequest['status'] = 'pending'): ReviewRequest {
  return {
    id,
    runId: 'run-1',
    workflow: 'w',
    item: id,
    task: 't',
    kind: 'output',
    what: 'decide',
    policy: 'risk.high',
    evidence: [],
    findings: [],
    status,
    createdAt,
  };
}

describe('listReviews', () => {
  it('lists the oldest first, whatever their ids (random ones) say', async () => {
    const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'troupe-reviews-')), 'state.db') });
    for (const [id, at] of [
      ['review_a', 300],
      ['review_b', 100],
      ['review_c', 200],
      ['review_d', 100],
    ] as const) {
      await reviewRecords.put(store, collections.reviews, id, review(id, at));
    }
    await reviewRecords.put(store, collections.reviews, 'review_e', review('review_e', 50, 'approved'));
    expect((await listReviews(store)).map((found) => found.id)).toEqual(['review_e', 'review_b', 'review_d', 'review_c', 'review_a']);
    expect((await listReviews(store, { status: 'pending' })).map((found) => found.id)).toEqual(['review_b', 'review_d', 'review_c', 'review_a']);
    await store.close();
  });
});
