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
// Run: npm run bench:load   (BENCH_LOAD_ITEMS, BENCH_LOAD_LATENCY_MS, BENCH_LOAD_FAULT_RATE to change)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProviderUnavailableError, SqliteStore, withRetry, type ModelClient, type ModelRequest, type ModelResponse, type StateStore } from 'troupe';
import { RedisStore } from 'troupe/redis';
import { loadCassette, requestKey } from 'troupe/testing';
import invoices from '../crews/invoices/workflow.js';
import { listItems } from '../src/workflow/run-state.js';
import { deleteKeys } from './redis-keys.js';

const itemCount = Number(process.env.BENCH_LOAD_ITEMS ?? 1000);
const latencyMs = Number(process.env.BENCH_LOAD_LATENCY_MS ?? 200);
const faultRate = Number(process.env.BENCH_LOAD_FAULT_RATE ?? 0.05);
const root = new URL('../../', import.meta.url); // dist/bench/ → the package root
const documents = JSON.parse(readFileSync(new URL('crews/invoices/documents.json', root), 'utf8')) as Array<{
  id: string;
  input: { source: string; text: string };
}>;
const cassette = loadCassette(new URL('crews/invoices/cassette.json', root).pathname);
const workflow = { ...invoices, concurrency: itemCount };
/**
 * The most calls one item makes one after another without faults: its classification, then its
 * extraction and each retry of it (the cassette holds every call the documents need). A call is
 * the item's when the request quotes the document's text.
 */
const longestChain = Math.max(
  ...documents.map(
    (document) => cassette.entries.filter((entry) => JSON.stringify(entry.request).includes(JSON.stringify(document.input.text).slice(1, 41))).length,
  ),
);

/** A seeded generator (mulberry32), so a run's faults repeat. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Answers from the cassette after `latencyMs`; fails a `faultRate` share of calls with a 503. */
function loadModel(faults: number, latency = latencyMs): { model: ModelClient; stats: { calls: number; faults: number } } {
  const modelId = cassette.entries[0]!.request.model;
  const answers = new Map<string, ModelResponse>();
  for (const entry of cassette.entries) if (!answers.has(entry.key)) answers.set(entry.key, entry.response);
  const random = seeded(42);
  const stats = { calls: 0, faults: 0 };
  const slow: ModelClient = {
    id: modelId,
    async generate(request: ModelRequest): Promise<ModelResponse> {
      stats.calls++;
      await new Promise((resolve) => setTimeout(resolve, latency));
      if (random() < faults) {
        stats.faults++;
        throw new ProviderUnavailableError('bench', 'HTTP 503 (injected)', undefined, { status: 503 });
      }
      const answer = answers.get(requestKey(modelId, request));
      if (!answer) throw new Error('the bench asked the model something the cassette has no answer for');
      return structuredClone(answer);
    },
  };
  return { model: withRetry(slow, { baseDelayMs: 50, maxDelayMs: 400 }), stats };
}

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

async function measure(storeName: string, store: StateStore, faults: number): Promise<Figures> {
  const { model, stats } = loadModel(faults);
  const items = Array.from({ length: itemCount }, (_, i) => {
    const document = documents[i % documents.length]!;
    return { id: `${document.id}-${Math.floor(i / documents.length)}`, input: document.input };
  });
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
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
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

function print(figures: Figures): void {
  console.log(
    `${figures.store.padEnd(9)} faults ${String(figures.faultRate * 100).padStart(2)} %  ${figures.items} items  wall ${(figures.wallMs / 1000).toFixed(2)} s  ` +
      `ideal ${(figures.idealMs / 1000).toFixed(2)} s  ratio ${figures.ratio.toFixed(2)}  CPU ${(figures.cpuMs / 1000).toFixed(2)} s  calls ${figures.calls} (${figures.faults} failed)  ` +
      `peak RSS ${figures.peakRssMiB} MiB  final ${figures.final}, awaiting review ${figures.awaitingReview}, failed with a reason ${figures.failedWithReason}, lost ${figures.lost}, errors ${figures.errors}`,
  );
}

console.log(
  `invoices workflow, ${itemCount} items at once, ${latencyMs} ms per model call; ideal = max(calls × latency ÷ ${workflow.concurrency}, ${longestChain} calls in a row × latency).`,
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
}
console.log(JSON.stringify({ bench: 'load', latency_ms: latencyMs, results }));
