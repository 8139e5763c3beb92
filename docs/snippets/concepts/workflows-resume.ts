// A run that crashes mid-step and is resumed. The first process is killed (SIGKILL) in the middle
// of "send"; a second one resumes the run: "charge", done before the crash, is not run again,
// and "send" runs again with the same idempotency key.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { codeTask, defineWorkflow, openStateStore } from 'troupe';

const crashing = process.argv[2] === 'crash';

// #region tasks
const charge = codeTask({
  name: 'charge',
  input: z.object({ customer: z.string(), amount: z.number() }),
  output: z.object({ customer: z.string(), receipt: z.string() }),
  run: ({ customer, amount }, context) => {
    console.log(`  charge ${amount} EUR to ${customer} (key ${context.idempotencyKey})`);
    return { customer, receipt: `R-${amount}` };
  },
});

const send = codeTask({
  name: 'send',
  input: z.object({ customer: z.string(), receipt: z.string() }),
  output: z.string(),
  run: ({ customer, receipt }, context) => {
    // Pass the key to the mail service, so a repeated send is recognised and not sent twice.
    console.log(`  send ${receipt} to ${customer} (key ${context.idempotencyKey})`);
    if (crashing) process.kill(process.pid, 'SIGKILL'); // the process dies in the middle of the step
    return `sent ${receipt}`;
  },
});
// #endregion

const billing = defineWorkflow({ name: 'billing', input: z.object({ customer: z.string(), amount: z.number() }), tasks: [charge, send] });
const runId = 'run_billing_june';
const store = await openStateStore();

if (crashing) {
  await billing.run([{ id: 'ada', input: { customer: 'ada', amount: 40 } }], { store, runId });
} else {
  // #region resume
  console.log('first process:');
  const first = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'crash'], { stdio: 'inherit' });
  console.log(`  … killed by ${first.signal}`);

  console.log('second process: resume');
  const summary = await billing.resume(runId, { store, trace: (e) => e.type === 'item-transition' && e.policy && console.log(`  [${e.policy}] ${e.why}`) });
  console.log(summary.status, summary.items[0]?.outputs);
  // #endregion
}
await store.close();
