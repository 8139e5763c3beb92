// Change propagation throughput: notifications per second on the in-process queue and on BullMQ
// with 1, 2 and 4 `troupe worker` processes, beside a bare BullMQ queue and worker with an empty
// processor (the ceiling) at the same job count and concurrency; then time until quiet for a
// 10,000-item graph of depth 5; and peak memory. Troupe and bare runs alternate (BENCH_ROUNDS
// rounds of each, default 3, the order swapped every round) and the best of each is compared, so a
// load change on a shared machine between the two does not move the ratio. Beside the rates, the
// CPU per 1,000 notifications of the worker processes and of Redis (median over the rounds). Items decide in code (`react`), so this measures
// Troupe's own work per notification (idempotence check, item read, outcome record, event) and
// not a model. Latest figures and what is left: CONTRIBUTING.md, "Propagation". Needs Redis for the BullMQ parts (REDIS_URL, default redis://127.0.0.1:6379).
// Run: npm run build && node dist/bench/propagation.js
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { openWorkGraph, type WorkGraphDefinition } from 'troupe';
import { fanOutGraph, treeGraph } from './propagation-graph.js';
import { deleteKeys } from './redis-keys.js';

const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
const jobs = Number(process.env.BENCH_JOBS ?? 5000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
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

/** CPU time (user + system, ms) a live child has used, from /proc; 0 where there is no /proc. */
function processCpuMs(child: ChildProcess): number {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name, in clock ticks (100 a second).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Redis's own CPU time so far (ms), from INFO cpu: other clients of a shared Redis count too. */
async function redisCpuMs(): Promise<number> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('cpu');
    const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
    return (field('used_cpu_sys') + field('used_cpu_user')) * 1000;
  } catch {
    return 0;
  } finally {
    client.disconnect();
  }
}

/** A timed run: wall time, and CPU of the worker processes and of Redis over the timed part. */
interface Timing {
  ms: number;
  workerCpuMs: number;
  redisCpuMs: number;
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
async function timeGraph(definition: WorkGraphDefinition, env: Record<string, string>, workers: number, root: string): Promise<Timing> {
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
    const workerCpu = () => children.reduce((sum, child) => sum + processCpuMs(child), 0);
    const [cpuBefore, redisBefore] = [workerCpu(), redis ? await redisCpuMs() : 0];
    const started = performance.now();
    await graph.change(root, { content: 'changed', summary: 'bench change' });
    await graph.waitUntilQuiet({ timeoutMs: 600_000 });
    const ms = performance.now() - started;
    return { ms, workerCpuMs: workerCpu() - cpuBefore, redisCpuMs: redis ? (await redisCpuMs()) - redisBefore : 0 };
  } finally {
    await stop(children);
    await graph.close({ graceMs: 1000 });
    if (redis) await deleteKeys(`${prefix}:`);
  }
}

/** The same job count through a bare BullMQ queue and `workers` bare worker processes with an empty processor. */
async function timeBare(workers: number): Promise<Timing> {
  const prefix = `troupe-bench-bare-${randomBytes(4).toString('hex')}`;
  const name = 'bare';
  const queue = new Queue(name, { connection: { url: redisUrl }, prefix });
  const children = await Promise.all(
    Array.from({ length: workers }, () => startProcess([here('./bare-worker.js'), redisUrl, name, prefix, String(concurrency)], {})),
  );
  try {
    const workerCpu = () => children.reduce((sum, child) => sum + processCpuMs(child), 0);
    const [cpuBefore, redisBefore] = [workerCpu(), await redisCpuMs()];
    const started = performance.now();
    // Added one by one, as the graph adds its notifications (with de-duplicating job ids).
    await Promise.all(Array.from({ length: jobs }, (_, i) => queue.add('notify', { i }, { jobId: `job-${i}` })));
    for (;;) {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      if (Object.values(counts).every((count) => count === 0)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ms = performance.now() - started;
    return { ms, workerCpuMs: workerCpu() - cpuBefore, redisCpuMs: (await redisCpuMs()) - redisBefore };
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
const inProcess = (await timeGraph(fanOutGraph('bench-inprocess', embeddedJobs), fanOutEnv, 0, 'hub')).ms;
console.log(`in-process queue, SQLite store:     ${rate(embeddedJobs, inProcess)} (${embeddedJobs} notifications, ${Math.round(inProcess)} ms)`);

const ratios: Record<string, number> = {};
const perSecond: Record<string, { troupe: number; bare: number }> = {};
const cpu: Record<string, { troupe: { worker: number; redis: number }; bare: { worker: number; redis: number } }> = {};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const per1000 = (ms: number) => Math.round((ms * 1000) / jobs);
const summary = (timings: Timing[]) => ({
  best: Math.min(...timings.map((timing) => timing.ms)),
  cpu: { worker: per1000(median(timings.map((timing) => timing.workerCpuMs))), redis: per1000(median(timings.map((timing) => timing.redisCpuMs))) },
});
const redis = await redisAnswers();
if (!redis) console.log(`Redis does not answer at ${redisUrl}: BullMQ runs skipped.`);
else {
  for (const workers of (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number)) {
    const troupeRuns: Timing[] = [];
    const bareRuns: Timing[] = [];
    for (let round = 0; round < rounds; round++) {
      const runTroupe = async () => troupeRuns.push(await timeGraph(fanOut(`bench-w${workers}-r${round}`), fanOutEnv, workers, 'hub'));
      const runBare = async () => bareRuns.push(await timeBare(workers));
      if (round % 2 === 0) await runTroupe().then(runBare);
      else await runBare().then(runTroupe);
    }
    const troupe = summary(troupeRuns);
    const bare = summary(bareRuns);
    ratios[String(workers)] = Number((bare.best / troupe.best).toFixed(2));
    perSecond[String(workers)] = { troupe: Math.round((jobs * 1000) / troupe.best), bare: Math.round((jobs * 1000) / bare.best) };
    cpu[String(workers)] = { troupe: troupe.cpu, bare: bare.cpu };
    console.log(
      `BullMQ + RedisStore, ${workers} worker${workers > 1 ? 's' : ' '}:  Troupe ${rate(jobs, troupe.best)}, bare BullMQ ${rate(jobs, bare.best)}, Troupe/bare ${(bare.best / troupe.best).toFixed(2)} (best of ${rounds} each); CPU per 1,000 notifications: workers ${troupe.cpu.worker} ms (bare ${bare.cpu.worker}), Redis ${troupe.cpu.redis} ms (bare ${bare.cpu.redis})`,
    );
  }
}

const treeEnv = { BENCH_SHAPE: 'tree', BENCH_SIZE: '10000', BENCH_DEPTH: '5' };
const tree = (name: string) => treeGraph(name, 10_000, 5);
if (process.env.BENCH_TREE_EMBEDDED === '1') {
  const treeInProcess = (await timeGraph(tree('bench-tree'), treeEnv, 0, 'n0')).ms;
  console.log(`10,000 items, depth 5, every item updated: quiet after ${(treeInProcess / 1000).toFixed(2)} s in process (SQLite store)`);
}
// BENCH_TREE=0 skips it (and BENCH_WORKERS=1,2 picks the worker counts) (quicker runs while measuring the ratio).
if (redis && process.env.BENCH_TREE !== '0') {
  const treeRedis = (await timeGraph(tree('bench-tree-w4'), treeEnv, 4, 'n0')).ms;
  console.log(`10,000 items, depth 5, every item updated: quiet after ${(treeRedis / 1000).toFixed(2)} s on BullMQ with 4 workers`);
}
clearInterval(sampler);
console.log(`peak memory of this process: RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB, heap ${Math.round(peakHeap / 1024 / 1024)} MiB`);
console.log(
  JSON.stringify({
    bench: 'propagation',
    jobs,
    rounds,
    ratio: ratios,
    embedded_per_s: Math.round(embeddedJobs / (inProcess / 1000)),
    per_s: perSecond,
    cpu_ms_per_1000: cpu,
  }),
);
