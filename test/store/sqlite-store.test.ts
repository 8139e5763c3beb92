import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importFileStore } from '../../src/store/import-file-store.js';
import { CorruptRecordError, FileStore, SqliteStore, StoreCorruptError } from '../../src/store/index.js';
import { countsAcrossProcesses } from './across-processes.js';
import { stateStoreContract } from './state-store-contract.js';

const temporaryRoots: string[] = [];
function temporaryPath(): string {
  const root = mkdtempSync(join(tmpdir(), 'troupe-sqlite-store-'));
  temporaryRoots.push(root);
  return join(root, 'state.db');
}
afterAll(() => {
  for (const root of temporaryRoots) rmSync(root, { recursive: true, force: true });
});

stateStoreContract('SqliteStore', async () => {
  const path = temporaryPath();
  return { store: new SqliteStore({ path }), sibling: () => new SqliteStore({ path }), cleanup: async () => {} };
});

/** A raw handle on the database, as a person with the sqlite3 shell would have. */
async function rawDatabase(path: string) {
  const { default: Database } = await import('libsql');
  return new Database(path);
}

describe('SqliteStore on disk', () => {
  it('keeps the database in WAL mode with the schema version recorded', async () => {
    const path = temporaryPath();
    const store = new SqliteStore({ path });
    await store.put('runs', 'run_1', { status: 'done' });
    await store.close();
    // A WAL database says so in its header (bytes 18 and 19 are 2).
    const header = readFileSync(path).subarray(18, 20);
    expect([...header]).toEqual([2, 2]);
    const raw = await rawDatabase(path);
    expect(raw.prepare('PRAGMA user_version').get()).toMatchObject({ user_version: 1 });
    expect(raw.prepare('SELECT collection, id, version, value FROM documents').all()).toMatchObject([
      { collection: 'runs', id: 'run_1', version: 1, value: '{"status":"done"}' },
    ]);
    raw.close();
  });

  it('commits the writes of one turn together, and a failed one does not undo the others', async () => {
    const store = new SqliteStore({ path: temporaryPath() });
    await store.put('runs', 'taken', 1);
    const results = await Promise.allSettled([
      store.put('runs', 'a', 1),
      store.put('runs', 'taken', 2, { expectedVersion: 0 }),
      store.append('log', 'x'),
      store.put('runs', 'b', 1),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((await store.list('runs')).items.map((item) => [item.id, item.value])).toEqual([
      ['a', 1],
      ['b', 1],
      ['taken', 1],
    ]);
    await store.close();
  });

  it('numbers the appends of one turn in order across its commits of at most 100 writes, and a refused batch takes no number', async () => {
    const path = temporaryPath();
    const store = new SqliteStore({ path });
    await store.append('log', 'first');
    await store.put('runs', 'taken', 1);
    // 250 writes in one turn: three commits. A batch refused in the middle gives its number back.
    const writes = Array.from({ length: 250 }, (_, n) =>
      n === 120
        ? store.batch([
            { kind: 'append', stream: 'log', entry: 'refused' },
            { kind: 'put', collection: 'runs', id: 'taken', value: 2, options: { expectedVersion: 0 } },
          ])
        : store.append('log', n),
    );
    const results = await Promise.allSettled(writes);
    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(1);
    const numbers = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value as number] : []));
    expect(numbers).toEqual(Array.from({ length: 249 }, (_, n) => n + 2));
    const entries = await store.read('log');
    expect(entries.map((entry) => entry.seq)).toEqual(Array.from({ length: 250 }, (_, n) => n + 1));
    expect(entries.some((entry) => entry.entry === 'refused')).toBe(false);
    // Another store on the same file numbers on from the last one.
    const sibling = new SqliteStore({ path });
    expect(await sibling.append('log', 'next')).toBe(251);
    expect(await store.append('log', 'after')).toBe(252);
    await sibling.close();
    await store.close();
  });

  it('names a damaged document and lists the others', async () => {
    const path = temporaryPath();
    const store = new SqliteStore({ path });
    await store.put('runs', 'good', 1);
    await store.put('runs', 'bad', 1);
    const raw = await rawDatabase(path);
    raw.prepare("UPDATE documents SET value = '{oops' WHERE id = 'bad'").run();
    raw.close();
    const error = await store.get('runs', 'bad').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect((error as Error).message).toContain('runs/bad');
    expect((error as Error).message).toContain(path);
    const page = await store.list('runs');
    expect(page.items.map((item) => item.id)).toEqual(['good']);
    expect(page.corrupt?.map((problem) => problem.message).join()).toContain('runs/bad');
    await store.close();
  });

  it('refuses a database written by a newer Troupe', async () => {
    const path = temporaryPath();
    const raw = await rawDatabase(path);
    raw.exec('PRAGMA user_version = 99');
    raw.close();
    const error = await new SqliteStore({ path }).get('runs', 'x').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreCorruptError);
    expect((error as Error).message).toMatch(/schema is version 99/);
  });
});

describe('importFileStore', () => {
  it('copies documents with their versions and streams with their numbers and keys, and can run again', async () => {
    const root = join(temporaryPath(), '..', 'state');
    const files = new FileStore({ root });
    await files.put('runs', 'Run_1', { status: 'running' });
    await files.put('runs', 'Run_1', { status: 'done' });
    await files.put('reviews', 'r1', { decision: null }, { ttlMs: 3_600_000 });
    for (let i = 1; i <= 5; i++) await files.append('transitions', { i }, { key: `t${i}`, keepLast: 3 });
    await files.append('plain', 'only');

    const path = temporaryPath();
    const sqlite = new SqliteStore({ path });
    const progress: number[] = [];
    expect(await importFileStore(files, sqlite, (report) => progress.push(report.documents + report.entries))).toEqual({
      documents: 2,
      streams: 2,
      entries: 4,
    });
    expect(progress.length).toBeGreaterThan(0);
    expect(await sqlite.get('runs', 'Run_1')).toEqual({ id: 'Run_1', version: 2, value: { status: 'done' } });
    expect((await sqlite.get('reviews', 'r1'))?.version).toBe(1);
    const kept = await files.read('transitions');
    expect(await sqlite.read('transitions')).toEqual(kept);
    // The keys came along: a repeated keyed append is answered with the earlier number.
    expect(await sqlite.append('transitions', { i: 5 }, { key: `t${kept.at(-1)!.seq}` })).toBe(kept.at(-1)!.seq);
    expect(await sqlite.append('transitions', { i: 6 })).toBe(6);
    expect(await sqlite.read('plain')).toEqual([{ seq: 1, entry: 'only' }]);
    // Again, as after a crash part way: the same result, nothing doubled.
    await importFileStore(files, sqlite);
    expect(await sqlite.get('runs', 'Run_1')).toEqual({ id: 'Run_1', version: 2, value: { status: 'done' } });
    expect(await sqlite.read('plain')).toEqual([{ seq: 1, entry: 'only' }]);
    await sqlite.close();
  });
});

countsAcrossProcesses('SqliteStore', {
  module: 'sqlite-store',
  className: 'SqliteStore',
  freshOptions: () => ({ path: temporaryPath() }),
  open: (options) => new SqliteStore(options),
});
