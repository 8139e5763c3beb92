// The dashboard in code: a workflow run recorded in a store, and the dashboard serving that store.
// The program reads two of its pages as a browser would, and shows that a review decision sent
// without the dashboard's token is refused. `troupe dashboard` does the same on the store the
// environment names.
import { z } from 'zod';
import { codeTask, defineWorkflow, humanTask, openStateStore } from 'troupe';
import { startDashboard } from 'troupe/dashboard';

const amount = z.object({ amount: z.number() });
const payments = defineWorkflow({
  name: 'payments',
  input: amount,
  tasks: [
    codeTask({ name: 'check', input: amount, output: amount, run: (input) => input }),
    humanTask({ name: 'approve', input: amount, output: amount, question: ({ amount }) => `Pay ${amount}?` }),
  ],
});

// #region dashboard
const store = await openStateStore();
const run = await payments.run([{ id: 'invoice-7', input: { amount: 480 } }], { store });

const dashboard = await startDashboard({ store, port: 0 });
const runPage = await fetch(`${dashboard.url}/runs/${run.runId}`);
const reviews = await fetch(`${dashboard.url}/reviews`).then((response) => response.text());
const forged = await fetch(`${dashboard.url}/reviews/any/approve`, { method: 'POST' });
// #endregion

console.log(`run page: HTTP ${runPage.status}, ${(await runPage.text()).includes('<svg') ? 'with' : 'without'} its graph`);
console.log(`reviews page: ${reviews.includes('Pay 480?') ? 'asks "Pay 480?"' : 'no review'}`);
console.log(`a decision without the token: HTTP ${forged.status}`);
await dashboard.close();
await store.close();
