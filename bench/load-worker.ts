// A `troupe worker` for bench/load: serves queued runs of the invoices workflow on Redis with the
// bench's slow, sometimes failing model (registered as `scripted:load`), and prints its model
// calls and CPU time as one JSON line when stopped (SIGTERM).
// argv: <key prefix> <fault rate> <latency ms> <concurrency>
import { registerModel } from 'troupe';
import { serveWorkflowRuns, workflowRunsQueue } from 'troupe/workers';
import { BullMqQueue, RedisStore } from 'troupe/redis';
import invoices from '../crews/invoices/workflow.js';
import { loadModel } from './load-model.js';

const [prefix, faults, latency, concurrency] = process.argv.slice(2) as [string, string, string, string];
const { model, stats } = loadModel(Number(faults), Number(latency));
registerModel('load', model);
const store = new RedisStore({ prefix });
const queue = new BullMqQueue({ name: workflowRunsQueue, prefix });
await serveWorkflowRuns(queue, { store, workflow: () => invoices, concurrency: Number(concurrency) });
process.stderr.write('serving\n');
process.once('SIGTERM', async () => {
  await queue.close({ graceMs: 1000 });
  await store.close();
  const cpu = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ ...stats, cpuMs: Math.round((cpu.user + cpu.system) / 1000) })}\n`);
  process.exit(0);
});
