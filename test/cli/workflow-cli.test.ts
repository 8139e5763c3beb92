// The workflow commands, each in its own process as a user runs them. The CLI is compiled into a
// temporary directory of its own (with a package.json named troupe, so the workflow module's
// `import 'troupe'` resolves to the same compiled copy), so this file never races test/cli/main.test.ts,
// which builds dist/.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../support/run-command.js';

// Laid out like the package: <root>/package.json beside <root>/dist (main.js reads ../../../package.json).
const root = mkdtempSync(join(tmpdir(), 'troupe-cli-build-'));
const build = join(root, 'dist');
const home = mkdtempSync(join(tmpdir(), 'troupe-cli-home-'));
const troupe = (...args: string[]) =>
  runCommand(process.execPath, [join(build, 'src/cli/main.js'), ...args], {
    env: { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', REDIS_URL: '', TROUPE_HOME: home, USER: 'tester' },
  });
const json = <T>(result: { stdout: string }) => JSON.parse(result.stdout) as T;

describe('troupe workflow commands', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    // Asynchronous: a synchronous build blocks this worker long enough for vitest's RPC to time out on a busy machine.
    await promisify(execFile)(resolve('node_modules/.bin/tsc'), [
      '-p',
      'tsconfig.build.json',
      '--outDir',
      build,
      '--tsBuildInfoFile',
      join(build, '.tsbuildinfo'),
      '--sourceMap',
      'false',
      '--declaration',
      'false',
    ]);
    writeFileSync(
      join(root, 'package.json'),
      JSON.stringify({ name: 'troupe', version: '0.0.0-test', type: 'module', exports: { '.': './dist/src/index.js', './testing': './dist/src/testing.js' } }),
    );
    symlinkSync(resolve('node_modules'), join(root, 'node_modules'), 'dir');
  }, 180_000);

  it('runs the invoices workflow offline, waits for review, and finishes after an approval from another process', async () => {
    const first = await troupe('run', 'invoices', '--input', 'crews/invoices/documents.json', '--json');
    expect(first.status).toBe(3);
    expect(first.stderr).toMatch(/no API key is set: replaying the recorded transcript crews\/invoices\/cassette.json/);
    expect(first.stderr).toMatch(/invoices\/contoso-4410: validated → awaiting-review: Approve paying 48000.00 USD .* \[human-step\]/);
    const summary = json<{ runId: string; status: string; counts: object; reviews: Array<{ id: string }> }>(first);
    expect(summary).toMatchObject({ status: 'awaiting-review', counts: { accepted: 3, rejected: 1, 'awaiting-review': 1 } });

    const listed = await troupe('review', 'list');
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(`review ${summary.reviews[0]!.id} (pending) — run ${summary.runId}, item contoso-4410, task approve-payment`);
    expect(listed.stdout).toMatch(/policy: human-step/);

    const approved = await troupe('review', 'approve', summary.reviews[0]!.id, '--note', 'contract checked');
    expect(approved.status).toBe(0);
    expect(approved.stdout).toMatch(/decided by tester at .*: contract checked/);
    expect(approved.stdout).toContain(`Continue the run with: troupe run --resume ${summary.runId}`);
    expect((await troupe('review', 'approve', summary.reviews[0]!.id)).stderr).toMatch(/was already approved by tester; a decision is final/);

    const resumed = await troupe('run', '--resume', summary.runId);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toMatch(/invoices run .*: done \(4 accepted, 1 rejected\)/);

    const shown = await troupe('runs', 'show', summary.runId);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/routed: route invoice taken \[task classify, route invoice\]/);
    expect(shown.stdout).toMatch(/the output of "extract-invoice" is invalid: total: .* \[task extract-invoice, policy invalid-output\]\n\s+invalid total: /);
    expect(shown.stdout).toMatch(/awaiting-review → validated: review \S+ approved by tester: contract checked/);
    const runs = json<Array<{ id: string; status: string }>>(await troupe('runs', 'list', '--json'));
    expect(runs.find((run) => run.id === summary.runId)?.status).toBe('done');
  });

  it('approves and resumes in one step', async () => {
    const first = await troupe('run', 'invoices', '--input', 'crews/invoices/documents.json', '--json', '--quiet');
    const { reviews } = json<{ reviews: Array<{ id: string }> }>(first);
    const result = await troupe('review', 'reject', reviews[0]!.id, '--note', 'not ordered', '--resume', '--quiet');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Item contoso-4410 will be rejected/);
    expect(result.stdout).toMatch(/contoso-4410\s+rejected\s+review \S+ rejected by tester: not ordered/);
  });

  it('names bad input files, unknown runs and reviews with exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-cli-input-'));
    const write = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
    const notJson = await troupe('run', 'invoices', '--input', write('broken.json', '[{'));
    expect(notJson.status).toBe(2);
    expect(notJson.stderr).toMatch(/broken.json:1:3: not valid JSON: /);
    const object = await troupe('run', 'invoices', '--input', write('object.json', '{"input": 1}'));
    expect(object.stderr).toMatch(/object.json:1: the items must be a JSON array/);
    const badItem = await troupe('run', 'invoices', '--input', write('items.json', '[{"input": {"source": "a", "text": "b"}}, {"source": "c"}]'));
    expect(badItem.status).toBe(2);
    expect(badItem.stderr).toMatch(
      /items.json:1, field "1.text": item item-2 does not fit the input of workflow "invoices": Invalid input: expected string, received undefined/,
    );
    expect((await troupe('run', 'invoices')).stderr).toMatch(/field "--input": workflow "invoices" needs its items/);
    const unknownRun = await troupe('run', '--resume', 'run_nope');
    expect(unknownRun.status).toBe(2);
    expect(unknownRun.stderr).toMatch(/no run "run_nope" in the store/);
    expect((await troupe('runs', 'show', 'run_nope')).status).toBe(2);
    expect((await troupe('review', 'approve', 'review_nope')).stderr).toMatch(/no review "review_nope"/);
    expect((await troupe('review', 'approve', 'review_nope', '--value', '{x')).stderr).toMatch(/field "--value": --value must be JSON/);
  });

  it('evaluates the golden examples and compares with the last result', async () => {
    // --no-save keeps nothing, and says so: the next eval still has nothing to compare with.
    const unsaved = await troupe('eval', 'invoices', '--no-save');
    expect(unsaved.stdout).toMatch(/No earlier result to compare with \(--no-save: this one is not kept either\)\./);
    const first = await troupe('eval', 'invoices');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/No earlier result to compare with; this one is kept for the next eval\./);
    expect(first.stdout).toMatch(/invoices: 7 of 7 examples pass/);
    expect(first.stdout).toMatch(/pass {2}a large invoice waits for a person — awaiting-review via invoice → high-total, review human-step/);
    expect(first.stdout).toMatch(/extract-invoice\s+2\/2 \(100%\)/);
    const second = await troupe('eval', 'invoices', '--json');
    expect(json<{ previous: { passed: number }; changes: unknown[] }>(second)).toMatchObject({ previous: { passed: 7 }, changes: [] });
    expect((await troupe('eval', 'nope')).status).toBe(2);
  });
});
