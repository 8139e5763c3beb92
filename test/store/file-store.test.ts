import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore, LockTimeoutError, openStateStore, SqliteStore } from '../../src/store/index.js';
import { RedisStore } from 'troupe/redis';
import { countsAcrossProcesses } from './across-processes.js';
import { stateStoreContract } from './state-store-contract.js';

const temporaryRoots: string[] = [];
function temporaryRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'troupe-file-store-'));
  temporaryRoots.push(root);
  return root;
}
afterAll(() => {
  for (const root of temporaryRoots) rmSync(root, { recursive: true, force: true });
});

stateStoreContract('FileStore', async () => {
  const root = temporaryRoot();
  return {
    store: new FileStore({ root }),
    sibling: () => new FileStore({ root }),
    cleanup: async () => rmSync(root, { recursive: true, force: true }),
  };
});

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function writeLock(path: string, owner: { pid: number; acquiredAt: number }): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ ...owner, host: hostname(), token: 'left-behind' }));
}

describe('FileStore on disk', () => {
  it('keeps one JSON file per document and no temporary or lock files after writing', async () => {
    const root = temporaryRoot();
    const store = new FileStore({ root });
    await store.put('runs', 'Run_1', { status: 'done' });
    await store.append('log', { step: 1 });
    expect(readdirSync(join(root, 'documents', 'runs'))).toEqual(['^run_1.json']);
    expect(JSON.parse(readFileSync(join(root, 'documents', 'runs', '^run_1.json'), 'utf8'))).toEqual({ format: 1, version: 1, value: { status: 'done' } });
    expect(readdirSync(join(root, 'streams')).sort()).toEqual(['log.jsonl', 'log.meta.json']);
  });

  it('takes over a lock left by a dead process at once', async () => {
    const root = temporaryRoot();
    const store = new FileStore({ root, lockTimeoutMs: 2000 });
    const pid = deadPid();
    writeLock(join(root, 'documents', 'runs', 'run_1.lock'), { pid, acquiredAt: Date.now() });
    writeLock(join(root, 'streams', 'log.lock'), { pid, acquiredAt: Date.now() });
    const started = Date.now();
    expect((await store.put('runs', 'run_1', 'mine')).version).toBe(1);
    expect(await store.append('log', 'mine')).toBe(1);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(readdirSync(join(root, 'documents', 'runs'))).toEqual(['run_1.json']);
  });

  it('waits for a live owner, times out with a typed error naming it, and takes over once the lock is stale', async () => {
    const root = temporaryRoot();
    const lock = join(root, 'documents', 'runs', 'run_1.lock');
    writeLock(lock, { pid: process.pid, acquiredAt: Date.now() });
    const impatient = new FileStore({ root, lockTimeoutMs: 100 });
    const error = await impatient.put('runs', 'run_1', 1).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error).toMatchObject({ code: 'store_lock_timeout', lockPath: lock, owner: { pid: process.pid } });
    expect((error as Error).message).toContain(`held by pid ${process.pid}`);

    writeLock(lock, { pid: process.pid, acquiredAt: Date.now() - 60_000 });
    expect((await new FileStore({ root, lockTimeoutMs: 1000, staleLockMs: 30_000 }).put('runs', 'run_1', 1)).version).toBe(1);
  });

  it('ignores a torn append (written after the last commit) and continues the numbering', async () => {
    const root = temporaryRoot();
    const store = new FileStore({ root });
    await store.append('log', 'one');
    await store.append('log', 'two');
    appendFileSync(join(root, 'streams', 'log.jsonl'), '{"seq":3,"entry":"half wri');
    expect((await store.read('log')).map((entry) => entry.entry)).toEqual(['one', 'two']);
    expect(await store.append('log', 'three')).toBe(3);
    expect(await store.read('log', { after: 1 })).toEqual([
      { seq: 2, entry: 'two' },
      { seq: 3, entry: 'three' },
    ]);
  });

  it('reports a damaged document file as corrupt, naming the file', async () => {
    const root = temporaryRoot();
    const store = new FileStore({ root });
    await store.put('runs', 'run_1', 1);
    writeFileSync(join(root, 'documents', 'runs', 'run_1.json'), '{"format":1,');
    await expect(store.get('runs', 'run_1')).rejects.toMatchObject({ code: 'corrupt_record', message: expect.stringContaining('run_1.json') });
  });
});

countsAcrossProcesses('FileStore', {
  module: 'file-store',
  className: 'FileStore',
  freshOptions: () => ({ root: temporaryRoot() }),
  open: (options) => new FileStore(options),
});

describe('openStateStore', () => {
  it('opens the SQLite store under TROUPE_HOME when REDIS_URL is not set', async () => {
    const home = temporaryRoot();
    const store = await openStateStore({ env: { TROUPE_HOME: home } });
    expect(store).toBeInstanceOf(SqliteStore);
    expect((store as SqliteStore).path).toBe(join(home, 'state.db'));
    expect(((await openStateStore({ env: {} })) as SqliteStore).path).toBe(join('.troupe', 'state.db'));
    await store.close();
  });

  it('keeps using the file store an earlier Troupe wrote until it is imported, so nothing in it is hidden', async () => {
    const home = temporaryRoot();
    await new FileStore({ root: join(home, 'state') }).put('runs', 'old', { status: 'done' });
    const before = await openStateStore({ env: { TROUPE_HOME: home } });
    expect(before).toBeInstanceOf(FileStore);
    expect((await before.get('runs', 'old'))?.value).toEqual({ status: 'done' });
  });

  it('opens the Redis store when REDIS_URL is set, without connecting until first use', async () => {
    const store = await openStateStore({ env: { REDIS_URL: 'redis://:hunter22@127.0.0.1:6379/2', TROUPE_HOME: '/unused' } });
    expect(store).toBeInstanceOf(RedisStore);
    expect((store as RedisStore).target).toBe('redis://:***@127.0.0.1:6379/2');
    await store.close();
  });
});
