// `troupe runs show` of a run that is still running says who continues it (its lease's live
// holder) or, when its process died, that nobody does and how to go on.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { leaseCollection, leaseRecords } from '../../src/workflow/run-lease.js';
import { collections, runRecords, type RunRecord } from '../../src/workflow/run-state.js';
import { runCommand } from '../support/run-command.js';

const home = mkdtempSync(join(tmpdir(), 'troupe-runs-holder-'));
const env = { ...process.env, REDIS_URL: '', TROUPE_HOME: home };
const troupe = (...args: string[]) => runCommand(process.execPath, [resolve('dist/src/cli/main.js'), ...args], { env });
const store = new SqliteStore({ path: join(home, 'state.db') });
afterAll(() => store.close());

const sample = JSON.parse(readFileSync(new URL('../fixtures/records/run.schemaVersion-1.json', import.meta.url), 'utf8')) as RunRecord;
async function runningRun(id: string, pid: number): Promise<void> {
  await runRecords.put(store, collections.runs, id, { ...sample, id, status: 'running', counts: {}, items: [] });
  const now = Date.now();
  const lease = { holder: `${hostname()}/${pid}/abc`, host: hostname(), pid, token: 1, acquiredAt: now, expiresAt: now + 600_000 };
  await leaseRecords.put(store, leaseCollection, id, lease);
}

describe('troupe runs show of a running run', () => {
  it('names the process that continues it while that process lives', async () => {
    // This test's own process stands for the holder: alive, on this host.
    await runningRun('run-held', process.pid);
    const shown = await troupe('runs', 'show', 'run-held');
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(
      new RegExp(
        `^run run-held — workflow fixture, running, .*\\ncontinued by ${hostname()}/${process.pid}/abc \\(pid ${process.pid} on ${hostname()}; its lease is renewed while it works, now until 20`,
      ),
    );
    const json = JSON.parse((await troupe('runs', 'show', 'run-held', '--json')).stdout) as { holder: { state: string; lease: { pid: number } } };
    expect(json.holder).toMatchObject({ state: 'held', lease: { pid: process.pid } });
  });

  it('says nobody continues it, and how to go on, when its process is gone', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await runningRun('run-orphan', gone);
    const shown = await troupe('runs', 'show', 'run-orphan');
    expect(shown.stdout).toContain(
      `no process is continuing it (the last one was pid ${gone} on ${hostname()}): continue it with troupe run --resume run-orphan`,
    );
  });
});
