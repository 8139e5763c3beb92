// Change propagation throughput: notifications per second on the in-process queue and on BullMQ
// with 1, 2 and 4 `troupe worker` processes, beside a bare BullMQ queue and worker with an empty
// processor (the ceiling) at the same job count and concurrency; then time until quiet for a
// 10,000-item graph of depth 5; and peak memory. Items decide in code (`react`), so this measures
// Troupe's own work per notification (idempotence check, item read, outcome record, event) and
// not a model. Needs Redis for the BullMQ parts (REDIS_URL, default redis://127.0.0.1:6379).
// Run: npm run build && node dist/bench/propagation.js
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { openWorkGraph, type WorkGraphDefinition } from '../src/work/index.js';
import { fanOutGraph, treeGraph } from './propagation-graph.js';
import { deleteKeys } from './redis-keys.js';

const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
const jobs = Number(process.env.BENCH_JOBS ?? 5000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const cli = here('../src/cli/main.js');
let peakHeap = 0;
const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 50);

function rate(count: number, ms: number): string {
  return `${Math.round((count * 1000) / ms).toLocaleString('en')}/s`;
}

async function redisAnswers(): Promise<boolean> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function startProcess(args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/serving/.test(stderr)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${stderr}`)));
  });
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((child) => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')))));
}

/** Times one change of the root until the graph is quiet; `workers` > 0 runs them as `troupe worker` processes on Redis. */
async function timeGraph(definition: WorkGraphDefinition, env: Record<string, string>, workers: number, root: string): Promise<number> {
  const prefix = `troupe-bench-${randomBytes(4).toString('hex')}`;
  const redis = workers > 0;
  const graph = await openWorkGraph(
    definition,
    redis ? { env: { REDIS_URL: redisUrl }, prefix } : { env: { TROUPE_HOME: mkdtempSync(join(tmpdir(), 'troupe-bench-')) } },
  );
  const children: ChildProcess[] = [];
  try {
    await graph.seed();
    if (redis) {
      const workerEnv = { ...env, REDIS_URL: redisUrl, TROUPE_REDIS_PREFIX: prefix, BENCH_GRAPH: definition.name };
      const args = [cli, 'worker', '--graph', here('./propagation-graph.js'), '--concurrency', String(concurrency), '--quiet'];
      children.push(...(await Promise.all(Array.from({ length: workers }, () => startProcess(args, workerEnv)))));
    } else await graph.work({ concurrency });
    const started = performance.now();
    await graph.change(root, { content: 'changed', summary: 'bench change' });
    await graph.waitUntilQuiet({ timeoutMs: 600_000 });
    return performance.now() - started;
  } finally {
    await stop(children);
    await graph.close({ graceMs: 1000 });
    if (redis) await deleteKeys(`${prefix}:`);
  }
}

/** The same job count through a bare BullMQ queue and `workers` bare worker processes with an empty processor. */
async function timeBare(workers: number): Promise<number> {
  const prefix = `troupe-bench-bare-${randomBytes(4).toString('hex')}`;
  const name = 'bare';
  const queue = new Queue(name, { connection: { url: redisUrl }, prefix });
  const children = await Promise.all(
    Array.from({ length: workers }, () => startProcess([here('./bare-worker.js'), redisUrl, name, prefix, String(concurrency)], {})),
  );
  try {
    const started = performance.now();
    // Added one by one, as the graph adds its notifications (with de-duplicating job ids).
    await Promise.all(Array.from({ length: jobs }, (_, i) => queue.add('notify', { i }, { jobId: `job-${i}` })));
    for (;;) {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      if (Object.values(counts).every((count) => count === 0)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return performance.now() - started;
  } finally {
    await stop(children);
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    await deleteKeys(`${prefix}:`);
  }
}

console.log(
  `propagation bench: ${jobs} notifications per run (a hub and ${jobs} dependents deciding "no change" in code), concurrency ${concurrency} per process`,
);
const fanOut = (name: string) => fanOutGraph(name, jobs);
const fanOutEnv = { BENCH_SHAPE: 'fan-out', BENCH_SIZE: String(jobs) };
// The embedded path (the in-process queue on the SQLite store) is measured on fewer jobs.
const embeddedJobs = Math.min(jobs, Number(process.env.BENCH_EMBEDDED_JOBS ?? 500));
const inProcess = await timeGraph(fanOutGraph('bench-inprocess', embeddedJobs), fanOutEnv, 0, 'hub');
console.log(`in-process queue, SQLite store:     ${rate(embeddedJobs, inProcess)} (${embeddedJobs} notifications, ${Math.round(inProcess)} ms)`);

const ratios: Record<string, number> = {};
const redis = await redisAnswers();
if (!redis) console.log(`Redis does not answer at ${redisUrl}: BullMQ runs skipped.`);
else {
  for (const workers of [1, 2, 4]) {
    const troupe = await timeGraph(fanOut(`bench-w${workers}`), fanOutEnv, workers, 'hub');
    const bare = await timeBare(workers);
    ratios[String(workers)] = Number((bare / troupe).toFixed(2));
    console.log(
      `BullMQ + RedisStore, ${workers} worker${workers > 1 ? 's' : ' '}:  Troupe ${rate(jobs, troupe)}, bare BullMQ ${rate(jobs, bare)}, Troupe/bare ${(bare / troupe).toFixed(2)}`,
    );
  }
}

const treeEnv = { BENCH_SHAPE: 'tree', BENCH_SIZE: '10000', BENCH_DEPTH: '5' };
const tree = (name: string) => treeGraph(name, 10_000, 5);
if (process.env.BENCH_TREE_EMBEDDED === '1') {
  const treeInProcess = await timeGraph(tree('bench-tree'), treeEnv, 0, 'n0');
  console.log(`10,000 items, depth 5, every item updated: quiet after ${(treeInProcess / 1000).toFixed(2)} s in process (SQLite store)`);
}
if (redis) {
  const treeRedis = await timeGraph(tree('bench-tree-w4'), treeEnv, 4, 'n0');
  console.log(`10,000 items, depth 5, every item updated: quiet after ${(treeRedis / 1000).toFixed(2)} s on BullMQ with 4 workers`);
}
clearInterval(sampler);
console.log(`peak memory of this process: RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB, heap ${Math.round(peakHeap / 1024 / 1024)} MiB`);
console.log(JSON.stringify({ bench: 'propagation', jobs, ratio: ratios, embedded_per_s: Math.round(embeddedJobs / (inProcess / 1000)) }));
