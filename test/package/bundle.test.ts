// The built package is a bundle of src/ (bin/bundle.mjs): one file per entry and the chunks they
// share. These tests read dist/ as built by test/support/build-once.ts and run it in fresh Node
// processes, where `troupe` resolves through package.json as it does for a user (vitest's aliases
// point it at src/).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'dist', 'src');
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; exports: Record<string, { default?: string } | string> };

function* scripts(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* scripts(path);
    else if (entry.name.endsWith('.js')) yield relative(dist, path);
  }
}

const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, REDIS_URL: '' } });

describe('the bundled package', () => {
  it('holds only the entries and their shared chunks: no module of src/ has a second copy under dist/src', () => {
    const entries = Object.values(packageJson.exports)
      .map((target) => (typeof target === 'object' ? target.default : undefined))
      .filter((target): target is string => target?.startsWith('./dist/src/') === true)
      .map((target) => target.slice('./dist/src/'.length));
    const expected = new Set([...entries, 'cli/main.js', 'dashboard/command.js']);
    const files = [...scripts(dist)];
    const chunks = files.filter((file) => file.startsWith('chunks/'));
    expect(chunks.length).toBeGreaterThan(0);
    expect(files.filter((file) => !file.startsWith('chunks/')).sort()).toEqual([...expected].sort());
  });

  it('gives a name exported by two entries as one object, so classes and registries are shared', () => {
    const script = `
      const root = await import('troupe');
      const testing = await import('troupe/testing');
      const store = await import('troupe/store');
      const shared = Object.keys(root).filter((name) => name in testing);
      const same = shared.filter((name) => root[name] === testing[name]);
      // The store the root entry opens is an instance of the class troupe/store exports, and its
      // version conflict one of troupe/store's error class.
      const { mkdtempSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const opened = await root.openStateStore({ env: { TROUPE_HOME: mkdtempSync(tmpdir() + '/bundle-') } });
      let conflict = opened instanceof store.SqliteStore ? 'no conflict' : 'not a SqliteStore: ' + opened.constructor.name;
      await opened.put('c', 'a', { n: 1 });
      try { await opened.put('c', 'a', { n: 2 }, { expectedVersion: 7 }); }
      catch (error) { conflict = error instanceof store.VersionConflictError ? 'same class' : String(error); }
      finally { await opened.close(); }
      console.log(JSON.stringify({ shared, same, conflict }));`;
    const { shared, same, conflict } = JSON.parse(node(['--input-type=module', '-e', script])) as { shared: string[]; same: string[]; conflict: string };
    expect(shared.length).toBeGreaterThan(0);
    expect(same).toEqual(shared);
    expect(conflict).toBe('same class');
  });

  it('runs the command from its entry file (node dist/src/cli/main.js), which checks it is the main module', () => {
    expect(node(['dist/src/cli/main.js', '--version']).trim()).toBe(packageJson.version);
  });
});
