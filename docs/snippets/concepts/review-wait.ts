// A run that waits for a person instead of returning: `waitForReviews` (the CLI's `--wait`) keeps
// the waiting item in this process and goes on as soon as a decision is recorded, from anywhere.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { codeTask, decideReview, defineWorkflow, humanTask, listReviews, openStateStore } from 'troupe';

const expense = z.object({ employee: z.string(), amount: z.number() });
const approve = humanTask({
  name: 'approve',
  input: expense,
  output: expense,
  question: ({ employee, amount }) => `Reimburse ${amount} EUR to ${employee}?`,
});
const pay = codeTask({ name: 'pay', input: expense, output: z.string(), run: ({ employee, amount }) => `paid ${amount} EUR to ${employee}` });
const expenses = defineWorkflow({ name: 'expenses', input: expense, tasks: [approve, pay] });

const store = await openStateStore();
// #region wait
const running = expenses.run([{ id: 'exp-7', input: { employee: 'ada', amount: 84 } }], { store, waitForReviews: { pollMs: 100 } });

// Elsewhere (another terminal, the dashboard, another program), a person finds the review and decides.
let pending = await listReviews(store, { status: 'pending' });
while (pending.length === 0) {
  await sleep(50);
  pending = await listReviews(store, { status: 'pending' });
}
console.log(`waiting: ${pending[0]!.what}`);
await decideReview(store, pending[0]!.id, { approved: true, by: 'dana', value: { employee: 'ada', amount: 80 }, note: 'the taxi receipt says 80' });

const summary = await running; // the same run goes on by itself
console.log(summary.status, summary.items[0]?.outputs.pay);
// #endregion
await store.close();
