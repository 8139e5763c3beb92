// Profiles one `troupe worker` process through a fan-out of "no change" notifications (see
// bench/propagation.ts): writes a V8 CPU profile of the worker to BENCH_PROFILE_DIR (default a temp
// directory) and prints its CPU per 1,000 notifications. Needs Redis. Run:
// npm run build && node dist/bench/propagation-profile.js
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openWorkGraph } from 'troupe';
import { fanOutGraph } from './propagation-graph.js';
import { deleteKeys } from './redis-keys.js';

const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
const jobs = Number(process.env.BENCH_JOBS ?? 5000);
const dir = process.env.BENCH_PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'troupe-profile-'));
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const prefix = `troupe-bench-${randomBytes(4).toString('hex')}`;
const graph = await openWorkGraph(fanOutGraph('bench-profile', jobs), { env: { REDIS_URL: redisUrl }, prefix });
await graph.seed();
const env = {
  ...process.env,
  REDIS_URL: redisUrl,
  TROUPE_REDIS_PREFIX: prefix,
  BENCH_GRAPH: 'bench-profile',
  BENCH_SHAPE: 'fan-out',
  BENCH_SIZE: String(jobs),
};
const args = [
  '--cpu-prof',
  '--cpu-prof-dir',
  dir,
  here('../src/cli/main.js'),
  'worker',
  '--graph',
  here('./propagation-graph.js'),
  '--concurrency',
  '32',
  '--quiet',
];
const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
await new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => /serving/.test(chunk.toString()) && resolve()));
const started = performance.now();
await graph.change('hub', { content: 'changed', summary: 'bench change' });
await graph.waitUntilQuiet({ timeoutMs: 600_000 });
console.log(`${jobs} notifications in ${Math.round(performance.now() - started)} ms; profile in ${dir}`);
await new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')));
await graph.close({ graceMs: 1000 });
await deleteKeys(`${prefix}:`);
