// Reviews from code: a high-risk step waits for a person; one review is approved with a corrected
// value, another is rejected with a note that goes back to the model; the run resumes after each.
import { z } from 'zod';
import { decideReview, defineWorkflow, extractTask, listReviews, openStateStore } from 'troupe';
import { scriptedModel } from 'troupe/testing';

const refund = extractTask({
  name: 'propose-refund',
  input: z.object({ order: z.string(), complaint: z.string() }),
  output: z.object({ amount: z.number() }),
  prompt: 'How much should we refund for order {{order}}? Quote the complaint as evidence.\n\n{{complaint}}',
  // High risk: even a valid claim with evidence waits for a person before the item goes on.
  policy: { risk: 'high' },
});
const refunds = defineWorkflow({ name: 'refunds', input: z.object({ order: z.string(), complaint: z.string() }), tasks: [refund] });

// The scripted model proposes the whole order; told why a reviewer rejected that, it proposes less.
const model = scriptedModel((request) => {
  const prompt = JSON.stringify(request.messages);
  const amount = prompt.includes('A reviewer rejected') ? 15 : prompt.includes('1001') ? 120 : 60;
  return { toolCalls: [{ name: 'record_propose-refund', input: { value: { amount }, evidence: [{ source: 'complaint', quote: 'arrived broken' }] } }] };
});

const store = await openStateStore();
const items = [
  { id: 'order-1001', input: { order: '1001', complaint: 'The whole set arrived broken.' } },
  { id: 'order-1002', input: { order: '1002', complaint: 'One cup of the set arrived broken.' } },
];
const first = await refunds.run(items, { store, model });
console.log(`run: ${first.status}`);

// #region decide
const pending = (await listReviews(store, { runId: first.runId, status: 'pending' })).sort((a, b) => a.item.localeCompare(b.item));
for (const review of pending) console.log(`  ${review.item}: [${review.policy}] proposal ${JSON.stringify(review.proposal)}`);
const byItem = (id: string) => pending.find((review) => review.item === id)!.id;

// Approve with a corrected value: it is checked against the task's output schema and becomes the output.
await decideReview(store, byItem('order-1001'), { approved: true, by: 'dana', note: 'shipping is not refunded', value: { amount: 100 } });
// Reject with a note: the task runs again, and the note reaches the model as feedback.
await decideReview(store, byItem('order-1002'), { approved: false, by: 'dana', note: 'refund only the broken cup' });

const second = await refunds.resume(first.runId, { store, model });
// #endregion
console.log(`after the decisions: ${second.status}`);
for (const item of second.items) console.log(`  ${item.id}: ${item.state}`, item.outputs['propose-refund'] ?? `(review ${item.review ? 'pending' : '-'})`);

const [again] = await listReviews(store, { runId: first.runId, status: 'pending' });
console.log(`  ${again!.item} asks again: proposal ${JSON.stringify(again!.proposal)}`);
await decideReview(store, again!.id, { approved: true, by: 'dana' });
const third = await refunds.resume(first.runId, { store, model });
console.log(`after the second decision: ${third.status}`, third.counts);

// #region final
try {
  await decideReview(store, again!.id, { approved: false, by: 'eve' });
} catch (error) {
  console.log(`a second decision: ${(error as Error).message}`);
}
// #endregion
await store.close();
