// What a work graph keeps in Redis as notifications flow, by kind of key, with the retention
// setting (`retention: { outcomesMs, events }`): the event stream stops growing at `events`
// entries, while outcome documents live `outcomesMs` (default 7 days: they are what keeps a
// notification delivered again from running again). Items decide in code, one process works.
// Needs Redis (REDIS_URL, default redis://127.0.0.1:6379).
// Run: npm run build && BENCH_NOTIFICATIONS=100000 node dist/bench/work-retention.js
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { openWorkGraph, type WorkGraphDefinition } from 'troupe';
import { fanOutGraph } from './propagation-graph.js';
import { deleteKeys } from './redis-keys.js';

const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
const notifications = Number(process.env.BENCH_NOTIFICATIONS ?? 20_000);
const leaves = 1000;

/** Bytes Redis uses for the keys under `prefix`, summed by kind of key and collection. */
async function usage(admin: Redis, prefix: string): Promise<Map<string, { keys: number; bytes: number }>> {
  const kinds = new Map<string, { keys: number; bytes: number }>();
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 2000);
    for (const key of keys) {
      // Store keys are `<prefix>:<kind>:<collection or stream>[:<id>]`; BullMQ's `<prefix>:work-<graph>:...`.
      const [type = '', name = ''] = key.slice(prefix.length + 1).split(':');
      const kind = type.startsWith('work-') ? 'queue (BullMQ)' : `${type} ${name.split('.').at(-1)}`;
      const bytes = Number((await admin.call('MEMORY', 'USAGE', key)) ?? 0);
      const entry = kinds.get(kind) ?? { keys: 0, bytes: 0 };
      kinds.set(kind, { keys: entry.keys + 1, bytes: entry.bytes + bytes });
    }
    cursor = next;
  } while (cursor !== '0');
  return kinds;
}

async function run(label: string, retention: WorkGraphDefinition['retention']): Promise<void> {
  const name = `retention-${randomBytes(3).toString('hex')}`;
  const prefix = `troupe-bench-${name}`;
  const graph = await openWorkGraph({ ...fanOutGraph(name, leaves), ...(retention ? { retention } : {}) }, { env: { REDIS_URL: redisUrl }, prefix });
  const admin = new Redis(redisUrl);
  try {
    await graph.seed();
    await graph.work({ concurrency: 32 });
    const started = Date.now();
    for (let change = 1; change * leaves <= notifications; change++) {
      await graph.change('hub', { content: `change ${change}`, summary: 'bench change' });
      await graph.waitUntilQuiet({ timeoutMs: 600_000 });
    }
    const kinds = await usage(admin, prefix);
    const total = [...kinds.values()].reduce((sum, kind) => sum + kind.bytes, 0);
    figures.push({ label, notifications, seconds: Number(((Date.now() - started) / 1000).toFixed(1)), redis_mb: Number((total / 1e6).toFixed(1)) });
    console.log(
      `${label}: ${notifications.toLocaleString('en')} notifications in ${((Date.now() - started) / 1000).toFixed(1)} s, ${(total / 1e6).toFixed(1)} MB in Redis`,
    );
    for (const [kind, { keys, bytes }] of [...kinds].sort((a, b) => b[1].bytes - a[1].bytes))
      console.log(`  ${kind.padEnd(28)} ${String(keys).padStart(8)} keys ${(bytes / 1e6).toFixed(2).padStart(8)} MB`);
  } finally {
    await graph.close({ graceMs: 1000 });
    await deleteKeys(prefix);
    admin.disconnect();
  }
}

const figures: Array<{ label: string; notifications: number; seconds: number; redis_mb: number }> = [];
await run('defaults (outcomes 7 days, last 10,000 events)', undefined);
await run('outcomes 1 hour, last 1,000 events', { outcomesMs: 3600_000, events: 1000 });
console.log(JSON.stringify({ bench: 'work-retention', results: figures }));
