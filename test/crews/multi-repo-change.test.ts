// crews/multi-repo-change through the built CLI (dist/, compiled by vitest's global setup), as a
// user runs it: offline on its cassette, by name and by path, stopping for a person's review and
// continuing after it, with a temporary TROUPE_HOME (where the repositories are made).
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { approveTools, decideReview, listReviews, type ModelRequest } from 'troupe';
import { FileStore } from 'troupe/store';
import { manualClock, scriptedModel } from 'troupe/testing';
import { checkOut, git, repositoryNames, repositoryTools, runChecks } from '../../crews/multi-repo-change/repositories.js';
import { scriptedTeam } from '../../crews/multi-repo-change/scripted-team.js';
import multiRepoChange from '../../crews/multi-repo-change/workflow.js';
import { executeToolCall } from '../../src/tools/execute-tool-call.js';
import { ToolSet } from '../../src/tools/tool-set.js';
import { runCommand } from '../support/run-command.js';

const troupe = (home: string, ...args: string[]) =>
  runCommand(process.execPath, ['dist/src/cli/main.js', ...args], {
    env: { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', REDIS_URL: '', TROUPE_HOME: home, MULTI_REPO_WORKDIR: '', USER: 'tester' },
  });

interface Summary {
  runId: string;
  status: string;
  counts: Record<string, number>;
  reviews: Array<{ id: string; task: string; what: string; proposal: { repos: string[] } }>;
  items: Array<{ id: string; state: string; reason?: string; outputs: Record<string, any> }>;
}

const json = (result: { stdout: string }) => JSON.parse(result.stdout) as Summary;

describe('crews/multi-repo-change', { timeout: 240_000 }, () => {
  afterEach(() => vi.unstubAllEnvs());

  it('stops for the person to confirm the repositories, then changes the edited set, fixes a failing check and writes one summary', async () => {
    const home = mkdtempSync(join(tmpdir(), 'multi-repo-home-'));
    const first = await troupe(home, 'run', 'multi-repo-change', '--input', 'crews/multi-repo-change/requirements.json', '--json');
    expect(first.stderr).toMatch(/no API key is set: replaying the recorded transcript crews\/multi-repo-change\/cassette.json/);
    expect(first.status).toBe(3);
    const waiting = json(first);
    expect(waiting).toMatchObject({ status: 'awaiting-review', counts: { 'awaiting-review': 1 } });
    // The scout proposed the repositories whose README names the invoice format, and missed web-shop.
    const [review] = waiting.reviews;
    expect(review).toMatchObject({ task: 'confirm-repos', proposal: { repos: ['invoice-format', 'billing-api'] } });
    expect(review!.what).toContain('Other repositories: web-shop, search-index.');
    // Nothing was changed before the person decided.
    expect(existsSync(join(home, 'workspaces'))).toBe(false);

    const approved = await troupe(
      home,
      'review',
      'approve',
      review!.id,
      '--value',
      '{"repos":["invoice-format","billing-api","web-shop"]}',
      '--resume',
      '--json',
    );
    expect(approved.status).toBe(0);
    const done = json(approved);
    expect(done).toMatchObject({ status: 'done', counts: { accepted: 1 } });
    const item = done.items[0]!;
    const changes = item.outputs['change-repos'].changes as Array<Record<string, any>>;
    expect(changes.map((change) => [change.repo, change.status, change.files])).toEqual([
      ['invoice-format', 'changed', ['index.mjs']],
      ['billing-api', 'changed', ['totals.mjs']],
      ['web-shop', 'changed', ['checks.test.mjs', 'receipt.mjs']],
    ]);
    // web-shop's check failed after the first edit; the agent read the failure, fixed the test, and the checks pass.
    const webShop = changes[2]!;
    expect(webShop.agentCheckRuns.map((run: { failed: number }) => run.failed)).toEqual([1, 0]);
    expect(webShop.agentCheckRuns[0].report).toContain('- the receipt line shows the total and its code — the receipt line reads "Total: 30 undefined"');
    expect(webShop.checks).toMatchObject({ passed: 1, failed: 0 });
    expect(webShop.summary).toMatch(/The checks failed at first: checks.test.mjs built an invoice with the old field/);
    expect(changes[0]!.checks).toMatchObject({ passed: 2, failed: 0 });

    // Real repositories, each with the change committed on its own branch.
    const workdir = join(home, 'workspaces', 'multi-repo-change', 'currency-code');
    expect(readFileSync(join(workdir, 'web-shop', 'receipt.mjs'), 'utf8')).toContain('${invoice.currencyCode}');
    expect((await git(join(workdir, 'web-shop'), 'log', '--format=%s', 'change/currency-code')).split('\n').filter(Boolean)).toEqual([
      'Invoices must name their currency field currencyCode instead of currency (an ISO 4217 code): change the shared invoice format and every service that reads invoices.',
      'web-shop as shipped',
    ]);
    expect(await git(join(workdir, 'billing-api'), 'status', '--porcelain')).toBe('');
    expect(existsSync(join(workdir, 'search-index'))).toBe(false);

    const summary = item.outputs['summarize'];
    expect(summary).toEqual({ markdown: join(workdir, 'CHANGE-SUMMARY.md'), json: join(workdir, 'CHANGE-SUMMARY.json'), ok: true });
    const markdown = readFileSync(summary.markdown, 'utf8');
    expect(markdown).toContain('| web-shop | changed | checks.test.mjs, receipt.mjs | 1 passed, 0 failed |');
    expect(markdown).toContain('Check runs by the agent: 1 failed → 1 passed.');
    expect(markdown).toContain('+  return `Total: ${invoice.total} ${invoice.currencyCode}`;');
    const combined = JSON.parse(readFileSync(summary.json, 'utf8')) as { ok: boolean; changes: Array<{ repo: string }> };
    expect(combined.ok).toBe(true);
    expect(combined.changes.map((change) => change.repo)).toEqual(['invoice-format', 'billing-api', 'web-shop']);
  });

  it('runs by path and changes the proposed set when the person approves it as it is', async () => {
    const home = mkdtempSync(join(tmpdir(), 'multi-repo-home-'));
    const path = resolve('dist/crews/multi-repo-change/workflow.js');
    const cassette = 'replay:crews/multi-repo-change/cassette.json';
    const first = await troupe(home, 'run', path, '--input', 'crews/multi-repo-change/requirements.json', '--model', cassette, '--json', '--quiet');
    expect(first.status).toBe(3);
    const [review] = json(first).reviews;
    // The run remembers its file, so the resume finds the workflow by path; the model is named again for the resume.
    const approved = await troupe(home, 'review', 'approve', review!.id, '--note', 'as proposed', '--json', '--quiet');
    expect(approved.status).toBe(0);
    const resumed = await troupe(home, 'run', '--resume', json(first).runId, '--model', cassette, '--json', '--quiet');
    expect(resumed.status).toBe(0);
    const item = json(resumed).items[0]!;
    expect(item.state).toBe('accepted');
    expect((item.outputs['change-repos'].changes as Array<{ repo: string; status: string }>).map((change) => [change.repo, change.status])).toEqual([
      ['invoice-format', 'changed'],
      ['billing-api', 'changed'],
    ]);
    expect(existsSync(join(home, 'workspaces', 'multi-repo-change', 'currency-code', 'web-shop'))).toBe(false);
  });

  it('fails the item when the person names a repository that does not exist', async () => {
    const home = mkdtempSync(join(tmpdir(), 'multi-repo-home-'));
    const first = await troupe(home, 'run', 'multi-repo-change', '--input', 'crews/multi-repo-change/requirements.json', '--json', '--quiet');
    const [review] = json(first).reviews;
    const approved = await troupe(home, 'review', 'approve', review!.id, '--value', '{"repos":["billing-api","mobile-app"]}', '--resume', '--json', '--quiet');
    expect(approved.status).toBe(1);
    expect(json(approved).items[0]).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/the approved value is not a valid output of "confirm-repos": repos.1/),
    });
  });

  it('reports a repository whose checks still fail, and rejects the change', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'multi-repo-fail-'));
    vi.stubEnv('MULTI_REPO_WORKDIR', join(scratch, 'work'));
    // The scripted team, except that web-shop's editor gives up after the first failing check.
    const team = scriptedTeam();
    const model = scriptedModel(async (request: ModelRequest) => {
      const prompt = request.messages[0]?.role === 'user' ? request.messages[0].content : '';
      const failed = request.messages.some((m) => m.role === 'tool' && m.content.some((part) => part.name === 'run_checks' && / 1 failed/.test(part.output)));
      if (prompt.includes('Repository: web-shop') && failed)
        return { toolCalls: [{ name: 'finish', input: { summary: 'Renamed the field in receipt.mjs; the checks fail and I stopped.' } }] };
      const part = (await team.generate(request)).content[0]!;
      return part.type === 'text' ? part.text : { toolCalls: [{ name: part.name, input: part.input, id: part.id }] };
    });
    const store = new FileStore({ root: join(scratch, 'state') });
    const items = [{ id: 'rename', input: { requirement: 'Rename the currency field of invoices to currencyCode everywhere invoices are read.' } }];
    const first = await multiRepoChange.run(items, { store, model });
    const [review] = await listReviews(store, { runId: first.runId, status: 'pending' });
    await decideReview(store, review!.id, { approved: true, by: 'tester', value: { repos: ['web-shop'] } });
    const resumed = await multiRepoChange.resume(first.runId, { store, model });
    const markdown = join(scratch, 'work', 'rename', 'CHANGE-SUMMARY.md');
    expect(resumed.items[0]).toMatchObject({ state: 'rejected', reason: `the change is not complete: web-shop (checks-fail); see ${markdown}` });
    expect(readFileSync(markdown, 'utf8')).toContain('| web-shop | checks-fail | receipt.mjs | 0 passed, 1 failed |');
    const combined = JSON.parse(readFileSync(join(scratch, 'work', 'rename', 'CHANGE-SUMMARY.json'), 'utf8'));
    expect(combined).toMatchObject({ ok: false, changes: [{ repo: 'web-shop', status: 'checks-fail', checks: { passed: 0, failed: 1 } }] });
    await store.close();
  });

  it('keeps an editing agent inside its repository, by real paths', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'multi-repo-tools-')), 'billing-api');
    await checkOut('billing-api', root);
    const outside = mkdtempSync(join(tmpdir(), 'multi-repo-outside-'));
    symlinkSync(outside, join(root, 'link'));
    const { tools, checkRuns } = repositoryTools(root);
    const set = new ToolSet(tools);
    const call = async (name: string, input: unknown) =>
      (await executeToolCall({ type: 'tool-call', id: name, name, input }, set, { runId: 'r', clock: manualClock(), approver: approveTools([], 'test') }))
        .output;
    expect(await call('write_file', { path: '../escape.mjs', content: 'x' })).toMatch(/"..\/escape.mjs" is outside the work directory/);
    expect(await call('write_file', { path: 'link/escape.mjs', content: 'x' })).toMatch(/outside the work directory \(through a symbolic link\)/);
    expect(await call('write_file', { path: '.git/hooks/post-commit', content: 'x' })).toMatch(/the .git folder is not yours to write/);
    expect(await call('read_file', { path: '/etc/hostname' })).toMatch(/outside the work directory/);
    expect(existsSync(join(outside, 'escape.mjs'))).toBe(false);
    expect(await call('list_files', {})).toBe('checks.test.mjs\nREADME.md\ntotals.mjs');
    expect(await call('run_checks', {})).toBe('1 passed, 0 failed\nPassed:\n- a total is printed with two decimals and its code');
    // A broken module is a failed check, not a pass.
    writeFileSync(join(root, 'totals.mjs'), 'export const formatTotal = (;\n');
    expect(await call('run_checks', {})).toMatch(/^0 passed, 0 failed\n.*\nThe checks ended with exit code 1 before reporting a failure/s);
    expect(checkRuns.map((run) => run.failed)).toEqual([0, 1]);
    expect((await runChecks(root)).failed).toBe(1);
  });

  it('ships one fixture folder per repository it names', () => {
    for (const name of repositoryNames) expect(existsSync(join('crews/multi-repo-change/repos', name, 'checks.test.mjs'))).toBe(true);
  });
});
