// A damaged record is reported with where it is and what is wrong, never silently dropped, and
// never hides the records around it.
import { type CorruptRecordError, getReview, listReviews, openStateStore } from 'troupe';

const store = await openStateStore();
const review = {
  schemaVersion: 1,
  runId: 'run-1',
  workflow: 'invoices',
  item: 'inv-7',
  task: 'approve',
  kind: 'output',
  what: 'Approve the 48,000 USD invoice',
  policy: 'risk.high',
  evidence: [],
  findings: [],
  status: 'pending',
  createdAt: 0,
};
// #region corrupt
// One good review, and one damaged outside Troupe: its status is no status a review can have.
await store.put('reviews', 'review-good', { ...review, id: 'review-good' });
await store.put('reviews', 'review-bad', { ...review, id: 'review-bad', status: 'maybe' });

const corrupt: CorruptRecordError[] = [];
const reviews = await listReviews(store, {}, corrupt);
console.log(`listed: ${reviews.map((r) => r.id).join(', ')}`);
for (const error of corrupt) console.log(`reported: ${error.message}`);

try {
  await getReview(store, 'review-bad');
} catch (error) {
  console.log(`getReview: ${(error as CorruptRecordError).code}`);
}
// #endregion
await store.close();
