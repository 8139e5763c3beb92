// The SQLite store on its two candidate drivers, side by side, and the file store it replaces:
// the same store code, the same operations, one process. `libsql` is a dependency; `better-sqlite3`
// is measured only where it is installed (it compiles from source on install, 2-11 minutes here):
//   npm install --no-save better-sqlite3@12 (or NODE_PATH=<a node_modules that has it>)
// Run: npm run bench:sqlite [-- --ops 5000]
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore, SqliteStore, type SqliteDriver } from 'troupe/store';
import type { StateStore } from 'troupe';

const opsFlag = process.argv.indexOf('--ops');
const ops = opsFlag > 0 ? Number(process.argv[opsFlag + 1]) : 5000;

interface Figures {
  /** One write at a time, each awaited: a commit per write. */
  serial_puts_per_s: number;
  /** 100 writes in flight at a time, as a run's concurrent items make them. */
  concurrent_puts_per_s: number;
  /** Appends with an idempotency key, 100 in flight. */
  keyed_appends_per_s: number;
  gets_per_s: number;
}

async function measure(open: () => StateStore, count: number): Promise<Figures> {
  const store = open();
  const rate = async (n: number, work: (i: number) => Promise<unknown>, parallel: number): Promise<number> => {
    const started = performance.now();
    for (let start = 0; start < n; start += parallel) {
      await Promise.all(Array.from({ length: Math.min(parallel, n - start) }, (_, offset) => work(start + offset)));
    }
    return Math.round(n / ((performance.now() - started) / 1000));
  };
  try {
    const value = { status: 'done', step: 'extract', output: { total: 1234.5, lines: ['a', 'b', 'c'] } };
    const serial = await rate(count, (i) => store.put('items', `serial-${i}`, value), 1);
    const concurrent = await rate(count, (i) => store.put('items', `concurrent-${i}`, value), 100);
    const appends = await rate(count, (i) => store.append('transitions', { i, to: 'done' }, { key: `t-${i}` }), 100);
    const gets = await rate(count, (i) => store.get('items', `serial-${i}`), 1);
    return { serial_puts_per_s: serial, concurrent_puts_per_s: concurrent, keyed_appends_per_s: appends, gets_per_s: gets };
  } finally {
    await store.close();
  }
}

function installed(driver: SqliteDriver): boolean {
  try {
    createRequire(join(process.cwd(), 'package.json')).resolve(driver);
    return true;
  } catch {
    return false;
  }
}

const results: Record<string, Figures | 'not installed'> = {};
const roots: string[] = [];
const fresh = () => {
  const root = mkdtempSync(join(tmpdir(), 'troupe-bench-sqlite-'));
  roots.push(root);
  return root;
};
try {
  for (const driver of ['libsql', 'better-sqlite3'] as const) {
    if (!installed(driver)) {
      results[driver] = 'not installed';
      console.log(`${driver}: not installed, skipped`);
      continue;
    }
    const path = join(fresh(), 'state.db');
    results[driver] = await measure(() => new SqliteStore({ path, driver }), ops);
    console.log(`${driver} (SqliteStore):`, results[driver]);
  }
  // The file store fsyncs every write: a tenth of the operations is enough to see its rate.
  const root = fresh();
  results['file-store'] = await measure(() => new FileStore({ root }), Math.max(100, Math.round(ops / 10)));
  console.log('file store:', results['file-store']);
} finally {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
}

const libsql = results.libsql;
const better = results['better-sqlite3'];
const ratios: Record<string, number> = {};
if (typeof libsql === 'object' && typeof better === 'object') {
  for (const key of Object.keys(libsql) as Array<keyof Figures>) ratios[key] = Number((libsql[key] / better[key]).toFixed(2));
  console.log('libsql / better-sqlite3:', ratios);
}
console.log(JSON.stringify({ bench: 'sqlite-drivers', ops, results, libsql_over_better_sqlite3: ratios }));
