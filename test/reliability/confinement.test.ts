// Confinement against a model (or a trigger) that aims outside: symlinks in the work directory,
// absolute paths and file: URLs in a trigger's file references, and code run by `run_tests`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { approveTools, AwaitingReviewError } from 'troupe';
import { networkIsolationArgs } from '../../tools/sandboxed-node.js';
import { workspaceTools } from '../../tools/workspace.js';
import { executeToolCall } from '../../src/tools/execute-tool-call.js';
import { manualClock } from 'troupe/testing';
import { ToolSet } from '../../src/tools/tool-set.js';
import { VirtualFiles } from '../../src/coordinator/virtual-files.js';

const fresh = (name: string) => realpathSync(mkdtempSync(join(tmpdir(), `${name}-`)));

function workspace(options: Parameters<typeof workspaceTools>[1] = {}) {
  const root = fresh('confine-work');
  const outside = fresh('confine-outside');
  writeFileSync(join(outside, 'secret.txt'), 'OUTSIDE-SECRET');
  const tools = new ToolSet(Object.values(workspaceTools(root, options)));
  const approver = approveTools(['run_tests'], 'this test');
  const call = async (name: string, input: unknown) =>
    (await executeToolCall({ type: 'tool-call', id: 'c', name, input }, tools, { runId: 'r', clock: manualClock(), approver })).output;
  return { root, outside, tools, call };
}

describe('workspace tools: paths are checked where they really lead', () => {
  it('refuses to read through a symlink that leads outside', async () => {
    const { root, outside, call } = workspace();
    symlinkSync(join(outside, 'secret.txt'), join(root, 'notes.txt'));
    symlinkSync(outside, join(root, 'docs'));
    for (const path of ['notes.txt', 'docs/secret.txt']) {
      const output = await call('read_file', { path });
      expect(output).toMatch(new RegExp(`"${path}" is outside the work directory \\(through a symbolic link\\)`));
      expect(output).not.toContain('OUTSIDE-SECRET');
    }
  });

  it('refuses to write through a symlinked folder, a symlinked file or a dangling symlink', async () => {
    const { root, outside, call } = workspace();
    symlinkSync(outside, join(root, 'out'));
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    symlinkSync(join(outside, 'created.txt'), join(root, 'dangling.txt'));
    expect(await call('write_file', { path: 'out/new.txt', content: 'x' })).toMatch(/"out\/new.txt" is outside the work directory/);
    expect(await call('write_file', { path: 'out/deeper/new.txt', content: 'x' })).toMatch(/outside the work directory/);
    expect(await call('write_file', { path: 'link.txt', content: 'overwritten' })).toMatch(/"link.txt" is outside the work directory/);
    expect(await call('write_file', { path: 'dangling.txt', content: 'x' })).toMatch(/"dangling.txt" is outside the work directory \(it is a symbolic link\)/);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('OUTSIDE-SECRET');
    expect(existsSync(join(outside, 'new.txt'))).toBe(false);
    expect(existsSync(join(outside, 'deeper'))).toBe(false);
    expect(existsSync(join(outside, 'created.txt'))).toBe(false);
  });

  it('lists no file of a symlinked folder outside, and still reads a symlink that stays inside', async () => {
    const { root, outside, call } = workspace();
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n');
    symlinkSync(outside, join(root, 'elsewhere'));
    symlinkSync(join(outside, 'secret.txt'), join(root, 'secret-link.txt'));
    symlinkSync(join(root, 'src', 'a.ts'), join(root, 'alias.ts'));
    expect(await call('list_files', {})).toBe('alias.ts\nsrc/a.ts');
    expect(await call('read_file', { path: 'alias.ts' })).toBe('export const a = 1;\n');
  });
});

describe('run_tests: running model-written code is an approved, sandboxed capability', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('never runs without approval: no approver waits for a person, a rejection runs nothing', async () => {
    const { root, tools } = workspace();
    writeFileSync(join(root, 'a.test.ts'), "import { writeFileSync } from 'node:fs';\nwriteFileSync('ran.txt', 'yes');\n");
    const call = { type: 'tool-call' as const, id: 'c', name: 'run_tests', input: {} };
    await expect(executeToolCall(call, tools, { runId: 'r', clock: manualClock() })).rejects.toBeInstanceOf(AwaitingReviewError);
    const rejected = await executeToolCall(call, tools, { runId: 'r', clock: manualClock(), approver: () => ({ approved: false, by: 'ops' }) });
    expect(rejected.isError).toBe(true);
    expect(rejected.output).toMatch(/rejected by ops/);
    // An approver for other tools does not approve this one: it still waits for a person.
    await expect(executeToolCall(call, tools, { runId: 'r', clock: manualClock(), approver: approveTools(['write_file'], 'code') })).rejects.toBeInstanceOf(
      AwaitingReviewError,
    );
    expect(existsSync(join(root, 'ran.txt'))).toBe(false);
  });

  it('gives the tests no secrets from the environment, no file outside and no network', async () => {
    vi.stubEnv('CONFINE_TEST_API_KEY', 'sk-ant-test-SECRET123');
    const server = createServer((_, res) => res.end('reached'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const port = (server.address() as AddressInfo).port;
      const { root, outside, call } = workspace();
      writeFileSync(
        join(root, 'sandbox.test.ts'),
        [
          "import test from 'node:test';",
          "import assert from 'node:assert';",
          "import { readFileSync } from 'node:fs';",
          "test('sees no secret env', () => assert.deepEqual(Object.keys(process.env).filter((k) => /KEY|TOKEN|SECRET/.test(k)), []));",
          `test('cannot read outside', () => assert.throws(() => readFileSync(${JSON.stringify(join(outside, 'secret.txt'))}, 'utf8')));`,
          "test('reads inside', () => assert.match(readFileSync('sandbox.test.ts', 'utf8'), /sandbox/));",
          (await networkIsolationArgs()) ? `test('has no network', async () => { await assert.rejects(fetch('http://127.0.0.1:${port}/')); });` : '',
        ].join('\n'),
      );
      const output = await call('run_tests', {});
      expect(output).toMatch(/^\d passed, 0 failed\n/);
      expect(output).toContain('- cannot read outside');
      if (await networkIsolationArgs()) expect(output).toContain('- has no network');
      else expect(output).toContain('Not sandboxed here: the network is reachable');
    } finally {
      server.close();
    }
  });

  it('kills tests that run past the time limit, and stops at the output limit', async () => {
    const slow = workspace({ sandbox: { timeoutMs: 3_000 } });
    writeFileSync(join(slow.root, 'loop.test.ts'), "import test from 'node:test';\ntest('spins', () => { for (;;) {} });\n");
    expect(await slow.call('run_tests', {})).toMatch(/Stopped: the tests ran longer than 3000 ms\./);

    const loud = workspace({ sandbox: { maxOutputBytes: 10_000 } });
    writeFileSync(join(loud.root, 'loud.test.ts'), "import test from 'node:test';\nfor (;;) process.stdout.write('x'.repeat(1000) + '\\n');\n");
    expect(await loud.call('run_tests', {})).toMatch(/Stopped: the tests wrote more than 10000 bytes\./);
  });

  it('caps the memory of the tests', async () => {
    const { root, call } = workspace({ sandbox: { maxOldSpaceMb: 32 } });
    writeFileSync(
      join(root, 'hog.test.ts'),
      "import test from 'node:test';\nconst keep: unknown[] = [];\ntest('hogs', () => { for (;;) keep.push(new Array(1e5).fill({ a: 1 })); });\n",
    );
    expect(await call('run_tests', {})).toMatch(/ended with (exit code \d+|signal SIG[A-Z]+) before reporting a failure .*memory limit/);
  });
});

describe('trigger file references stay under the file root', () => {
  it('refuses absolute paths, file: URLs and symlinks that lead out, naming the reference', async () => {
    const root = fresh('confine-root');
    const outside = fresh('confine-outside');
    writeFileSync(join(outside, 'secret.txt'), 'OUTSIDE-SECRET');
    writeFileSync(join(root, 'ok.txt'), 'fine');
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    symlinkSync(outside, join(root, 'dir'));
    const files = new VirtualFiles(
      [
        { name: 'abs', uri: join(outside, 'secret.txt') },
        { name: 'url', uri: pathToFileURL(join(outside, 'secret.txt')).href },
        { name: 'link', uri: 'link.txt' },
        { name: 'dir', uri: 'dir/secret.txt' },
        { name: 'up', uri: '../x.txt' },
        { name: 'ok', uri: 'ok.txt' },
      ],
      root,
    );
    await expect(files.read('abs')).rejects.toThrow(/file "abs" .* is refused: absolute paths are not accepted/);
    await expect(files.read('url')).rejects.toThrow(/file "url" .* is refused: file: URLs are not accepted/);
    await expect(files.read('link')).rejects.toThrow(/file "link" \("link.txt"\) is refused: a symbolic link under the file root leads out of it/);
    await expect(files.read('dir')).rejects.toThrow(/file "dir" .* is refused: a symbolic link/);
    await expect(files.read('up')).rejects.toThrow(/file "up" .* is refused: it leaves the file root/);
    expect(await files.read('ok')).toBe('fine');
  });
});
