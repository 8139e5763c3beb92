// One runtime per process, one run context per run: the embedded store when REDIS_URL is unset,
// a run id, a trace, a model override, and every run recorded where `troupe runs` finds it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { Agent, defineTool, openRuntime } from 'troupe';
import { listRecordedRuns, readTimeline, recordRun } from 'troupe/store';
import { reply, scriptedModel } from 'troupe/testing';

// #region runtime
// Opened once: the store (and queues) the environment chooses, the clock, ids and model resolver.
const runtime = await openRuntime();
console.log(`store: ${runtime.store.constructor.name}`);
// #endregion

const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Looks up an order by its id.',
  input: z.object({ orderId: z.string() }),
  run: ({ orderId }) => ({ orderId, status: 'shipped' }),
});
const support = new Agent({
  name: 'support',
  instructions: 'Answer customers about their orders. Look the order up; never guess.',
  tools: [lookupOrder],
  output: z.object({ status: z.string() }),
});

// #region run
const recorder = recordRun(runtime.store, { kind: 'agent', name: 'support', input: 'Where is A-1001?' });
const result = await support.run('Where is A-1001?', {
  ...runtime, // the runtime's services are the context's defaults
  runId: recorder.id, // this run's own parts
  trace: recorder.trace,
  model: scriptedModel([reply.toolCall('lookup_order', { orderId: 'A-1001' }), reply.finish({ status: 'shipped' })]),
});
await recorder.finish({ status: result.status === 'finished' ? 'finished' : 'stopped' });

for (const run of await listRecordedRuns(runtime.store)) {
  console.log(`${run.kind} ${run.name}: ${run.status}, ${run.totals.modelCalls} model calls, ${run.totals.toolCalls} tool call`);
  for (const entry of await readTimeline(runtime.store, run.id)) console.log(`  ${entry.type}`);
}
const home = process.env.TROUPE_HOME ?? '.troupe';
console.log(`${join(home, 'state.db')} exists: ${existsSync(join(home, 'state.db'))}`);
await runtime.store.close();
// #endregion
