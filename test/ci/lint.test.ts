import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../support/run-command.js';

const repo = join(import.meta.dirname, '../..');
const biome = join(repo, 'node_modules/@biomejs/biome/bin/biome');
const roots: string[] = [];

/** A throwaway project with this repository's Biome configuration and one source file. */
function project(source: string): string {
  const root = mkdtempSync(join(tmpdir(), 'troupe-lint-'));
  roots.push(root);
  const config = JSON.parse(readFileSync(join(repo, 'biome.json'), 'utf8'));
  config.vcs = { enabled: false };
  delete config.$schema;
  writeFileSync(join(root, 'biome.json'), JSON.stringify(config));
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'file.ts'), source);
  return root;
}

async function lint(root: string): Promise<{ code: number | null; output: string }> {
  const result = await runCommand(process.execPath, [biome, 'ci', '--error-on-warnings', '--colors=off', 'src'], { cwd: root });
  return { code: result.status, output: result.stdout + result.stderr };
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('npm run lint (biome ci)', () => {
  it('passes code in the house style', async () => {
    expect(await lint(project("export const greeting = 'hello';\n"))).toMatchObject({ code: 0 });
  });

  it('fails on a lint finding, naming the file and the rule', async () => {
    const result = await lint(project('export function f(): void {\n  debugger;\n}\n'));
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('src/file.ts');
    expect(result.output).toContain('noDebugger');
  });

  it('fails on a warning too (an unused import)', async () => {
    const result = await lint(project("import { join } from 'node:path';\n\nexport const greeting = 'hello';\n"));
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('noUnusedImports');
  });

  it('fails on code that is not formatted', async () => {
    const result = await lint(project('export const greeting = "hello"\n'));
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/format/i);
  });
});
