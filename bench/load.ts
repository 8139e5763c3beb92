// Load: many concurrent workflow runs against a slow, sometimes failing model. The invoices
// workflow (classify → extract → validate → a person for large totals) over 1,000 documents, all
// in flight at once, each model call taking 200 ms. The ideal bound is the time the model alone
// needs: the larger of calls × latency ÷ concurrency and the longest chain of calls one item must
// make one after another (a document whose extraction the checker sends back once makes 3 calls,
// 600 ms, however many items run at once). The ratio of wall time to it is what Troupe adds (store
// writes, validation, scheduling). The CPU time the process used is printed with it: when it is
// close to the wall time, the run is bound by one core's work per item, not by waiting. Then the same with 5 % of calls failing like an overloaded
// provider (HTTP 503, retried by withRetry): every item must end final or waiting for review, with
// a recorded reason when it failed; none may be lost.
//
// Answers come from the invoices cassette (by request, ignoring how often it was asked), so the
// model's work is the recorded one; only the latency and the faults are simulated.
// Run: npm run bench:load   (BENCH_LOAD_ITEMS, BENCH_LOAD_CONCURRENCY, BENCH_LOAD_WORKERS, BENCH_LOAD_LATENCY_MS,
// BENCH_LOAD_FAULT_RATE to change)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ItemRecord, RunRecord, StateStore } from 'troupe';
import { SqliteStore } from 'troupe/store';
import { workflowRunsQueue } from 'troupe/workers';
import { BullMqQueue, RedisStore } from 'troupe/redis';
import invoices from '../crews/invoices/workflow.js';
import { documents, loadModel, longestChain } from './load-model.js';
import { deleteKeys } from './redis-keys.js';

const itemCount = Number(process.env.BENCH_LOAD_ITEMS ?? 1000);
const workerCount = Number(process.env.BENCH_LOAD_WORKERS ?? 4);
const latencyMs = Number(process.env.BENCH_LOAD_LATENCY_MS ?? 200);
const faultRate = Number(process.env.BENCH_LOAD_FAULT_RATE ?? 0.05);
// Items in flight at once: all of them unless BENCH_LOAD_CONCURRENCY says fewer (the ideal bound follows it).
const concurrency = Number(process.env.BENCH_LOAD_CONCURRENCY ?? itemCount);
const workflow = { ...invoices, concurrency };

interface Figures {
  store: string;
  faultRate: number;
  items: number;
  wallMs: number;
  idealMs: number;
  ratio: number;
  /** CPU time (user + system) the process used during the run. */
  cpuMs: number;
  calls: number;
  faults: number;
  peakRssMiB: number;
  final: number;
  awaitingReview: number;
  failedWithReason: number;
  lost: number;
  errors: number;
}

const items = Array.from({ length: itemCount }, (_, i) => {
  const document = documents[i % documents.length]!;
  return { id: `${document.id}-${Math.floor(i / documents.length)}`, input: document.input };
});

async function measure(storeName: string, store: StateStore, faults: number): Promise<Figures> {
  const { model, stats } = loadModel(faults, latencyMs);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 25);
  let errors = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let runId = '';
  try {
    runId = (await workflow.run(items, { store, model })).runId;
  } catch (error) {
    errors++;
    console.error(`${storeName}: the run threw: ${(error as Error).message}`);
  }
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  return tally(storeName, store, runId, faults, { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRss, errors, ...stats });
}

// A run's records, read through the StateStore interface the way any tool outside Troupe would.
async function loadRun(store: StateStore, runId: string): Promise<RunRecord | undefined> {
  return (await store.get('runs', runId))?.value as RunRecord | undefined;
}

async function listItems(store: StateStore, runId: string): Promise<ItemRecord[]> {
  const items: ItemRecord[] = [];
  for (let after: string | undefined; ; ) {
    const page = await store.list('items', { prefix: `${runId}.`, limit: 500, ...(after ? { after } : {}) });
    items.push(...page.items.map((doc) => doc.value as unknown as ItemRecord));
    if (!page.next) return items;
    after = page.next;
  }
}

/** The figures of a finished run, from what its items' records say. */
async function tally(
  storeName: string,
  store: StateStore,
  runId: string,
  faults: number,
  run: { wallMs: number; cpuMs: number; peakRss: number; errors: number; calls: number; faults: number },
): Promise<Figures> {
  const { wallMs, peakRss, errors } = run;
  const stats = run;
  const recorded = runId ? await listItems(store, runId) : [];
  const final = recorded.filter((item) => ['accepted', 'rejected', 'failed'].includes(item.state)).length;
  const awaitingReview = recorded.filter((item) => item.state === 'awaiting-review').length;
  const failedWithReason = recorded.filter((item) => item.state === 'failed' && item.reason).length;
  // Lost: sent in but neither final nor waiting for a person (or not recorded at all).
  const lost = itemCount - final - awaitingReview;
  const idealMs = Math.max((stats.calls * latencyMs) / workflow.concurrency, longestChain * latencyMs);
  return {
    store: storeName,
    faultRate: faults,
    items: itemCount,
    wallMs: Math.round(wallMs),
    idealMs: Math.round(idealMs),
    ratio: Number((wallMs / idealMs).toFixed(2)),
    cpuMs: Math.round(run.cpuMs),
    calls: stats.calls,
    faults: stats.faults,
    peakRssMiB: Math.round(peakRss / 2 ** 20),
    final,
    awaitingReview,
    failedWithReason,
    lost,
    errors,
  };
}

/**
 * The same run on `workerCount` worker processes (bench/load-worker.ts) sharing the items through
 * BullMQ: this process queues the run (workflow.enqueue) and waits for its status to leave
 * "running". CPU time and model calls are the workers' (and RSS the largest worker's is not
 * sampled: peak RSS is this process's).
 */
async function measureOnWorkers(faults: number): Promise<Figures | undefined> {
  const prefix = `troupe-load-workers-${process.pid}-${faults}`;
  const store = new RedisStore({ prefix, connectTimeoutMs: 1000 });
  const queue = new BullMqQueue({ name: workflowRunsQueue, prefix });
  const workers: Array<{ child: ChildProcess; report: Promise<{ calls: number; faults: number; cpuMs: number }> }> = [];
  try {
    await store.get('runs', 'probe');
    const script = fileURLToPath(new URL('./load-worker.js', import.meta.url));
    for (let n = 0; n < workerCount; n++) {
      const child = spawn(process.execPath, [script, prefix, String(faults), String(latencyMs), String(Math.ceil(concurrency / workerCount))], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout!.on('data', (chunk) => (stdout += chunk));
      const ready = new Promise<void>((resolve, reject) => {
        child.stderr!.on('data', (chunk: Buffer) => chunk.toString().includes('serving') && resolve());
        child.once('exit', (code) => reject(new Error(`a load worker exited with ${code}`)));
      });
      const report = new Promise<{ calls: number; faults: number; cpuMs: number }>((resolve) =>
        child.once('exit', () => resolve(JSON.parse(stdout.trim() || '{}'))),
      );
      workers.push({ child, report });
      await ready;
    }
    let peakRss = process.memoryUsage().rss;
    const started = performance.now();
    const { runId } = await invoices.enqueue(items, { store, queue, model: 'scripted:load' });
    for (;;) {
      const run = await loadRun(store, runId);
      if (run && run.status !== 'running') break;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const wallMs = performance.now() - started;
    for (const worker of workers) worker.child.kill('SIGTERM');
    const reports = await Promise.all(workers.map((worker) => worker.report));
    const sum = (key: 'calls' | 'faults' | 'cpuMs') => reports.reduce((total, report) => total + (report[key] ?? 0), 0);
    return await tally(`redis×${workerCount}`, store, runId, faults, {
      wallMs,
      cpuMs: sum('cpuMs'),
      peakRss,
      errors: 0,
      calls: sum('calls'),
      faults: sum('faults'),
    });
  } catch (error) {
    if ((error as { code?: string }).code !== 'store_unavailable') throw error;
    console.log(`redis with workers: skipped, nothing answers at ${store.target}.`);
    return undefined;
  } finally {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await queue.close({ graceMs: 0 });
    await store.close();
    await deleteKeys(prefix);
  }
}

function print(figures: Figures): void {
  console.log(
    `${figures.store.padEnd(10)} faults ${String(figures.faultRate * 100).padStart(2)} %  ${figures.items} items  wall ${(figures.wallMs / 1000).toFixed(2)} s  ` +
      `ideal ${(figures.idealMs / 1000).toFixed(2)} s  ratio ${figures.ratio.toFixed(2)}  CPU ${(figures.cpuMs / 1000).toFixed(2)} s  calls ${figures.calls} (${figures.faults} failed)  ` +
      `peak RSS ${figures.peakRssMiB} MiB  final ${figures.final}, awaiting review ${figures.awaitingReview}, failed with a reason ${figures.failedWithReason}, lost ${figures.lost}, errors ${figures.errors}`,
  );
}

console.log(
  `invoices workflow, ${itemCount} items, ${concurrency} at once, ${latencyMs} ms per model call; ideal = max(calls × latency ÷ ${workflow.concurrency}, ${longestChain} calls in a row × latency).`,
);
// A warm-up run (100 items, no latency, not measured) first, as the other benches do: the first
// run otherwise pays for compiling the engine's code paths.
{
  const dir = mkdtempSync(join(tmpdir(), 'troupe-load-warm-'));
  const store = new SqliteStore({ path: join(dir, 'state.db') });
  try {
    const items = Array.from({ length: 100 }, (_, i) => ({ id: `warm-${i}`, input: documents[i % documents.length]!.input }));
    await workflow.run(items, { store, model: loadModel(0, 0).model });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
const results: Figures[] = [];
for (const faults of [0, faultRate]) {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-load-'));
  try {
    // The embedded default: the SQLite store.
    const sqlite = new SqliteStore({ path: join(dir, 'state.db') });
    const figures = await measure('embedded', sqlite, faults);
    await sqlite.close();
    print(figures);
    results.push(figures);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const prefix = `troupe-load-${process.pid}-${faults}:`;
  const redis = new RedisStore({ prefix, connectTimeoutMs: 1000 });
  try {
    await redis.get('runs', 'probe');
    const figures = await measure('redis', redis, faults);
    print(figures);
    results.push(figures);
  } catch (error) {
    if ((error as { code?: string }).code !== 'store_unavailable') throw error;
    console.log(`redis: skipped, nothing answers at ${redis.target}.`);
  } finally {
    await deleteKeys(prefix);
    await redis.close();
  }
  const onWorkers = await measureOnWorkers(faults);
  if (onWorkers) {
    print(onWorkers);
    results.push(onWorkers);
  }
}
console.log(JSON.stringify({ bench: 'load', latency_ms: latencyMs, results }));
