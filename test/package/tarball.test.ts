// What the published package holds, and that its examples run from a project that installed it.
// The package ships its examples compiled (dist/crews, dist/tools) with their data (crews/:
// cassettes, inputs, golden files), so `npx troupe run invoices` works from any project.
// npm install needs the network, so the test installs the tarball as npm would lay it out:
// unpacked into node_modules/troupe, its dependencies linked from this checkout's node_modules,
// and node_modules/.bin/troupe pointing at its bin. dist/ is built by the global setup.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../support/run-command.js';

const repo = resolve('.');
const work = mkdtempSync(join(tmpdir(), 'troupe-tarball-'));
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
let files: string[] = [];
let tarball = '';

describe('the package tarball', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    // --ignore-scripts: `prepare` would build dist/ again, which the global setup has done.
    const { stdout } = await promisify(execFile)('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: repo,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed!.files.map((file) => file.path);
    tarball = join(work, packed!.filename);
  }, 240_000);

  it('ships the compiled examples with their data, and no tests or TypeScript sources of the library', () => {
    for (const path of [
      'dist/bin/troupe.js',
      'dist/src/index.js',
      'dist/crews/invoices/workflow.js',
      'dist/crews/invoices/document-reader.js',
      'dist/crews/website/graph.js',
      'dist/tools/workspace.js',
      'crews/invoices/cassette.json',
      'crews/invoices/documents.json',
      'crews/invoices/golden.json',
      'crews/research/crew.yaml',
      'agents/code-assistant.yaml',
    ]) {
      expect(files, path).toContain(path);
    }
    expect(files.filter((path) => path.startsWith('test/') || path.startsWith('src/') || path.startsWith('bench/'))).toEqual([]);
    // Every example module the package ships compiled is importable: whatever it imports is shipped too.
    for (const path of files.filter((file) => /^dist\/(crews|tools)\/.*\.js$/.test(file))) {
      const relative = ts
        .preProcessFile(readFileSync(join(repo, path), 'utf8'))
        .importedFiles.map((file) => file.fileName)
        .filter((name) => name.startsWith('.'));
      for (const target of relative) expect(files, `${path} imports ${target}`).toContain(join(path, '..', target));
    }
  });

  it('runs an example with npx troupe run <example> from a project that installed it, offline', async () => {
    const project = join(work, 'project');
    const modules = join(project, 'node_modules');
    mkdirSync(join(modules, 'troupe'), { recursive: true });
    mkdirSync(join(modules, '.bin'));
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'project', private: true, type: 'module', dependencies: { troupe: `^${manifest.version}` } }),
    );
    await promisify(execFile)('tar', ['-xzf', tarball, '-C', join(modules, 'troupe'), '--strip-components', '1']);
    for (const name of Object.keys(manifest.dependencies)) {
      if (name.includes('/')) mkdirSync(join(modules, name.split('/')[0]!), { recursive: true });
      symlinkSync(join(repo, 'node_modules', name), join(modules, name), 'dir');
    }
    symlinkSync('../troupe/dist/bin/troupe.js', join(modules, '.bin', 'troupe'));
    // npm makes a package's bin executable when it links it (the tarball holds it as written: 0644).
    chmodSync(join(modules, 'troupe', 'dist/bin/troupe.js'), 0o755);

    const { FORCE_COLOR: _colour, ...env } = process.env;
    const run = await runCommand(
      'npx',
      ['--offline', 'troupe', 'run', 'invoices', '--input', 'node_modules/troupe/crews/invoices/documents.json', '--json', '--quiet'],
      { cwd: project, env: { ...env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', REDIS_URL: '', TROUPE_HOME: join(work, 'home'), TROUPE_DEBUG: '' } },
    );
    // The package's own cassette answers (no key), and the run stops at the one invoice over 10,000.
    expect(run.stderr).toContain(`no API key is set: replaying the recorded transcript ${join(modules, 'troupe/crews/invoices/cassette.json')}`);
    expect(run.status).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'awaiting-review', counts: { accepted: 3, rejected: 1, 'awaiting-review': 1 } });
  });
});
