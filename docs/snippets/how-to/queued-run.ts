// A workflow run handed to workers, as `troupe run --detach` and `troupe worker` do. The runtime
// follows the environment: with REDIS_URL the queue is BullMQ and the store Redis, so workers in
// other processes (or machines) share the steps; without it both are embedded in this process.
import { z } from 'zod';
import { codeTask, defineWorkflow, openRuntime } from 'troupe';
import { serveWorkflowRuns, workflowRunsQueue } from 'troupe/workers';

const amount = z.object({ amount: z.number() });
const payments = defineWorkflow({
  name: 'payments',
  input: amount,
  tasks: [
    codeTask({ name: 'check', input: amount, output: amount, run: (input) => input }),
    codeTask({ name: 'pay', input: amount, output: z.string(), run: ({ amount }) => `paid ${amount}` }),
  ],
});

// #region enqueue
const runtime = await openRuntime();
const queue = await runtime.queue(workflowRunsQueue);

// The starting side: record the run and its items, queue their first steps, return at once.
const items = [10, 20, 30].map((n, i) => ({ id: `p${i + 1}`, input: { amount: n } }));
const started = await payments.enqueue(items, { queue, store: runtime.store });
console.log(`queued ${started.queued} items of run ${started.runId}`);

// The worker side (`troupe worker` runs this for every workflow it can load).
const done: string[] = [];
await serveWorkflowRuns(queue, {
  store: runtime.store,
  workflow: () => payments,
  worker: 'worker-a',
  concurrency: 2,
  onTaskDone: ({ item, task, output }) => {
    done.push(`${item} ${task}: ${JSON.stringify(output)}`);
  },
});
await queue.waitUntilIdle({ timeoutMs: 30_000 });
// #endregion
console.log(done.sort().join('\n'));
await queue.close({ graceMs: 0 });
await runtime.store.close();
