// Workflow engine throughput: a 3-task DAG (code → model → code) per item, the model a
// zero-latency scripted one, over many items on the embedded SQLite store, the file store it
// replaced (both in a temp directory) and Redis (its own key prefix, removed afterwards). Prints items per second, framework time per task
// step and peak memory. Every state change is persisted before the next step, so the store's
// write cost is most of a step: the FileStore fsyncs each document and stream append. Ends with
// one JSON line of its figures.
// Run: npm run bench:workflow -- --items 10000   (builds, then runs with --expose-gc; BENCH_BUDGET_MS caps a slow store)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { codeTask, defineWorkflow, promptTask, type StateStore } from 'troupe';
import { FileStore, SqliteStore } from 'troupe/store';
import { RedisStore } from 'troupe/redis';
import { scriptedModel } from 'troupe/testing';
import { deleteKeys } from './redis-keys.js';

/** `--items N` (or BENCH_ITEMS): how many items each store runs. */
const itemsFlag = process.argv.indexOf('--items');
const target = Number(itemsFlag >= 0 ? process.argv[itemsFlag + 1] : (process.env.BENCH_ITEMS ?? 10_000));
if (!Number.isSafeInteger(target) || target < 1) throw new Error(`--items must be a positive whole number, got ${process.argv[itemsFlag + 1]}`);
/** The file store, when its projected time for `target` items passes this, runs a smaller count instead, and says so. */
const budgetMs = Number(process.env.BENCH_BUDGET_MS ?? 180_000);
const probeItems = 200;
const steps = 3;

const model = scriptedModel((request) => (String(request.messages.at(-1)?.content).length % 2 ? 'odd' : 'even'), {
  id: 'bench:zero-latency',
  recordCalls: false,
});
const workflow = defineWorkflow({
  name: 'bench',
  input: z.object({ n: z.number() }),
  tasks: [
    codeTask({ name: 'prepare', input: z.object({ n: z.number() }), output: z.object({ text: z.string() }), run: ({ n }) => ({ text: `item ${n}` }) }),
    promptTask({ name: 'label', input: z.object({ text: z.string() }), output: z.string(), prompt: 'Label {{text}}' }),
    codeTask({ name: 'store', input: z.string(), output: z.object({ label: z.string() }), run: (label) => ({ label }) }),
  ],
  concurrency: 16,
});

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

async function measure(store: StateStore, count: number, offset: number): Promise<{ ms: number; heapDelta: number }> {
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const items = Array.from({ length: count }, (_, i) => ({ id: `i${offset + i}`, input: { n: offset + i } }));
  const started = performance.now();
  const summary = await workflow.run(items, { store, model });
  const ms = performance.now() - started;
  if (summary.counts.accepted !== count) throw new Error(`expected ${count} accepted items, got ${JSON.stringify(summary.counts)}`);
  return { ms, heapDelta: process.memoryUsage().heapUsed - heapBefore };
}

const rates: Record<string, { items: number; items_per_s: number }> = {};

/** `capped`: a store too slow for the budget (the retired file store) measures fewer items; SQLite and Redis always run all of them. */
async function bench(name: string, store: StateStore, capped = false): Promise<void> {
  await measure(store, 50, 0); // warm-up: JIT, directories, Redis scripts
  const probe = await measure(store, probeItems, 1_000_000);
  const projectedMs = (probe.ms / probeItems) * target;
  const count = !capped || projectedMs <= budgetMs ? target : Math.max(probeItems, Math.floor(((budgetMs / 3 / probe.ms) * probeItems) / 100) * 100);
  if (count < target)
    console.log(`${name}: ${target} items would take about ${(projectedMs / 1000).toFixed(0)} s (from ${probeItems} items); measuring ${count} items instead.`);
  peakRss = 0;
  const { ms, heapDelta } = await measure(store, count, 2_000_000);
  rates[name] = { items: count, items_per_s: Math.round(count / (ms / 1000)) };
  console.log(
    `${name.padEnd(10)} ${String(count).padStart(6)} items  ${(count / (ms / 1000)).toFixed(0).padStart(6)} items/s  ` +
      `${((ms * 1000) / (count * steps)).toFixed(0).padStart(6)} µs per task step  peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB  heap growth ${(heapDelta / 2 ** 20).toFixed(1)} MiB`,
  );
}

console.log(
  `3-task DAG (code → zero-latency model → code), ${workflow.concurrency} items at once; µs per step is wall time / (items × 3), store writes included.`,
);
const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-'));
try {
  const sqlite = new SqliteStore({ path: join(dir, 'state.db') });
  await bench('SQLite', sqlite);
  await sqlite.close();
  await bench('FileStore', new FileStore({ root: join(dir, 'files') }), true);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const prefix = `troupe-bench-${process.pid}:`;
const redis = new RedisStore({ prefix, connectTimeoutMs: 1000 });
try {
  await redis.get('runs', 'probe');
  try {
    await bench('Redis', redis);
  } finally {
    await deleteKeys(prefix);
  }
} catch (error) {
  if ((error as { code?: string }).code !== 'store_unavailable') throw error;
  console.log(`Redis: skipped, it does not answer at ${redis.target} (${(error as Error).message.split('\n')[0]}).`);
} finally {
  await redis.close();
  clearInterval(sampler);
}
const rateOf = (name: string) => rates[name]?.items_per_s ?? null;
console.log(
  JSON.stringify({
    bench: 'workflow',
    items: target,
    sqlite_items_per_s: rateOf('SQLite'),
    redis_items_per_s: rateOf('Redis'),
    file_store_items_per_s: rateOf('FileStore'),
    measured: rates,
  }),
);
