// Runs the refunds workflow (_refunds.ts) in code, on a scripted model and the embedded store.
import { decideReview, listReviews, openStateStore } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';
import refunds from './_refunds.js';

// #region run
// The model's claims, one per email: the value and the words it rests on.
const model = scriptedModel([
  reply.toolCall('record_extract', {
    value: { orderId: 'A-1001', amountUsd: 24 },
    evidence: [{ source: 'email', quote: 'refund the 24 dollars' }],
  }),
  reply.toolCall('record_extract', {
    value: { orderId: 'B-2002', amountUsd: 180 },
    evidence: [{ source: 'email', quote: 'I want my 180 USD back' }],
  }),
]);

const store = await openStateStore(); // SQLite under TROUPE_HOME (default .troupe), or Redis with REDIS_URL
const emails = [
  { id: 'mug', input: { from: 'ana@example.com', text: 'My mug from order A-1001 arrived broken. Please refund the 24 dollars.' } },
  { id: 'chair', input: { from: 'li@example.com', text: 'The desk chair (order B-2002) is not what I ordered. I want my 180 USD back.' } },
];

const first = await refunds.run(emails, { store, model });
console.log(first.status, first.counts);
// #endregion

// #region review
// A person decides (here in code; `npx troupe review approve <id>` does the same), then the run goes on.
const [pending] = await listReviews(store, { status: 'pending', runId: first.runId });
console.log(`review for ${pending!.item}: ${pending!.what}`);
await decideReview(store, pending!.id, { approved: true, by: 'finance', note: 'receipt checked' });

const second = await refunds.resume(first.runId, { store, model });
console.log(second.status, second.counts);
for (const item of second.items) console.log(item.id, item.state, item.outputs.refund);
await store.close();
// #endregion
