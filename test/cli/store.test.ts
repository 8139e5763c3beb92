import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore, SqliteStore } from '../../src/store/index.js';
import { runCommand } from '../support/run-command.js';

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

function troupe(home: string, args: string[]) {
  return runCommand(process.execPath, ['dist/bin/troupe.js', ...args], { env: { ...process.env, TROUPE_HOME: home, REDIS_URL: '' } });
}

describe('troupe store import', () => {
  it('copies the file store of an earlier Troupe into SQLite and sets the old folder aside', async () => {
    const home = mkdtempSync(join(tmpdir(), 'troupe-store-import-'));
    homes.push(home);
    const files = new FileStore({ root: join(home, 'state') });
    await files.put('runs', 'run_old', { status: 'done' });
    await files.put('runs', 'run_old', { status: 'done', note: 'twice' });
    await files.append('run_old.transitions', { to: 'done' }, { key: 'k1' });

    const result = await troupe(home, ['store', 'import']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Imported 1 documents and 1 streams \(1 entries\) into .*state\.db\. The file store is set aside at .*state\.imported-/);
    expect(existsSync(join(home, 'state'))).toBe(false);
    expect(readdirSync(home).some((name) => name.startsWith('state.imported-'))).toBe(true);

    const sqlite = new SqliteStore({ path: join(home, 'state.db') });
    expect(await sqlite.get('runs', 'run_old')).toEqual({ id: 'run_old', version: 2, value: { status: 'done', note: 'twice' } });
    expect(await sqlite.append('run_old.transitions', { to: 'done' }, { key: 'k1' })).toBe(1);
    await sqlite.close();
  });

  it('exits 2 naming the folder when there is no file store to import', async () => {
    const home = mkdtempSync(join(tmpdir(), 'troupe-store-import-'));
    homes.push(home);
    const result = await troupe(home, ['store', 'import']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`there is no file store at ${join(home, 'state')}`);
  });
});
