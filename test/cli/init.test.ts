// `troupe init` through the built command, as a user meets it: the project it writes passes its
// own `npm test`. npm install needs the network, so the new project's node_modules is made by hand
// from this checkout's: troupe is this checkout (what `file:<checkout>` installs), the rest are
// links to the packages the project names, and node_modules/.bin holds their commands.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand, type CommandResult } from '../support/run-command.js';

const checkout = resolve('.');
const work = mkdtempSync(join(tmpdir(), 'troupe-init-'));

function troupe(args: string[], cwd = work): Promise<CommandResult> {
  return runCommand(process.execPath, [join(checkout, 'dist/bin/troupe.js'), ...args], {
    cwd,
    env: { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', TROUPE_DEBUG: '' },
  });
}

/** What `npm install` would have put in node_modules, from this checkout's. */
function linkDependencies(project: string): void {
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  mkdirSync(join(modules, '@types'));
  symlinkSync(checkout, join(modules, 'troupe'), 'dir');
  for (const name of ['zod', 'vitest', 'typescript', '@types/node']) symlinkSync(join(checkout, 'node_modules', name), join(modules, name), 'dir');
  symlinkSync(join(checkout, 'node_modules/vitest/vitest.mjs'), join(modules, '.bin/vitest'));
  symlinkSync(join(checkout, 'node_modules/typescript/bin/tsc'), join(modules, '.bin/tsc'));
  symlinkSync(join(checkout, 'dist/bin/troupe.js'), join(modules, '.bin/troupe'));
}

describe('troupe init', { timeout: 300_000 }, () => {
  it('makes a project whose npm test passes, offline, on a scripted model', async () => {
    const project = join(work, 'my-agents');
    const init = await troupe(['init', 'my-agents']);
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    expect(init.stdout).toContain('npm install && npm test');
    for (const file of ['package.json', 'tsconfig.json', 'agents/assistant.yaml', 'crews/words/crew.yaml', 'crews/words/tools.ts', 'test/words.test.ts']) {
      expect(existsSync(join(project, file)), file).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    // Run from a checkout, the project depends on that checkout.
    expect(manifest).toMatchObject({ name: 'my-agents', type: 'module', scripts: { test: 'vitest run' }, dependencies: { troupe: `file:${checkout}` } });
    expect(readFileSync(join(project, 'agents/assistant.yaml'), 'utf8')).toContain('model: anthropic:claude-sonnet-5-5');

    linkDependencies(project);
    const { FORCE_COLOR: _colour, ...env } = process.env;
    const test = await runCommand('npm', ['test'], { cwd: project, env: { ...env, NO_COLOR: '1', ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', CI: '1' } });
    expect(test.stdout + test.stderr).toMatch(/Tests\s+1 passed \(1\)/);
    expect(test.status).toBe(0);

    // Its crew's tools compile to where `troupe run words` finds them.
    const build = await runCommand('npm', ['run', 'build'], { cwd: project });
    expect(build.status).toBe(0);
    expect(existsSync(join(project, 'dist/crews/words/tools.js'))).toBe(true);
  });

  it('refuses a folder that is not empty (exit 2), and writes into it with --force', async () => {
    const project = join(work, 'busy');
    mkdirSync(project);
    writeFileSync(join(project, 'notes.txt'), 'mine\n');
    const refused = await troupe(['init'], project);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(`troupe: field "dir": ${project} is not empty: run troupe init in an empty folder, or pass --force to write into it\n`);
    expect(existsSync(join(project, 'package.json'))).toBe(false);

    const forced = await troupe(['init', '--force', '--troupe', '^0.1.0'], project);
    expect(forced.status).toBe(0);
    expect(JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).dependencies.troupe).toBe('^0.1.0');
    expect(readFileSync(join(project, 'notes.txt'), 'utf8')).toBe('mine\n');
  });
});
