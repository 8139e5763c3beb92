import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../support/run-command.js';

const script = join(import.meta.dirname, '../../.ci/check-imports.mjs');
const roots: string[] = [];

/** A throwaway project whose src/ holds the given files. */
function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'troupe-imports-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, 'src', path)), { recursive: true });
    writeFileSync(join(root, 'src', path), text);
  }
  return root;
}

async function check(root: string): Promise<{ code: number | null; output: string }> {
  const result = await runCommand(process.execPath, [script, root]);
  return { code: result.status, output: result.stdout + result.stderr };
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('.ci/check-imports.mjs', () => {
  it('passes a tree whose layers import only earlier layers', async () => {
    const root = project({ 'core/ids.ts': 'export const id = 1;\n', 'agent/agent.ts': "import { id } from '../core/ids.js';\nexport const a = id;\n" });
    expect(await check(root)).toMatchObject({ code: 0 });
  });

  it('fails on an import from a later layer, naming both files', async () => {
    const root = project({ 'core/ids.ts': "import { a } from '../agent/agent.js';\nexport const id = a;\n", 'agent/agent.ts': 'export const a = 1;\n' });
    const result = await check(root);
    expect(result.code).toBe(1);
    expect(result.output).toContain('src/core/ids.ts imports src/agent/agent.ts (core -> agent');
  });

  it('fails on a cycle, type-only and dynamic imports included', async () => {
    const root = project({
      'workflow/a.ts': "import type { B } from './b.js';\nexport type A = B;\n",
      'workflow/b.ts': "export type B = string;\nexport const load = () => import('./a.js');\n",
    });
    const result = await check(root);
    expect(result.code).toBe(1);
    expect(result.output).toContain('cycle: src/workflow/a.ts <-> src/workflow/b.ts');
  });

  it('fails on a folder that is not a layer of the design', async () => {
    const root = project({ 'core/ids.ts': 'export const id = 1;\n', 'extras/x.ts': "import { id } from '../core/ids.js';\nexport const x = id;\n" });
    const result = await check(root);
    expect(result.code).toBe(1);
    expect(result.output).toContain('src/extras/ is not a layer');
  });

  it('passes on this project', async () => {
    expect(await check(join(import.meta.dirname, '../..'))).toMatchObject({ code: 0 });
  });
});
