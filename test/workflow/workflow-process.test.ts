import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decideReview, listReviews, type RunSummary } from 'troupe';
import { FileStore } from 'troupe/store';
import { transpiledTroupe } from '../support/transpile.js';
import { readTransitions } from '../../src/workflow/run-state.js';

let troupe: string;
beforeAll(async () => {
  troupe = await transpiledTroupe();
}, 60_000);

/** Runs the fixture in its own process; resolves with its exit and the summary it printed. */
function child(root: string, ...args: string[]): { done: Promise<{ code: number | null; signal: NodeJS.Signals | null; summary?: RunSummary }> } {
  const process_ = spawn(process.execPath, ['test/workflow/fixtures/workflows.mjs', troupe, root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  process_.stdout.on('data', (chunk) => (out += chunk));
  process_.stderr.on('data', (chunk) => (err += chunk));
  return {
    done: new Promise((resolve, reject) => {
      process_.on('error', reject);
      process_.on('exit', (code, signal) => {
        if (code !== 0 && signal === null) reject(new Error(`child failed (${code}): ${err}`));
        else resolve({ code, signal, ...(out ? { summary: JSON.parse(out) as RunSummary } : {}) });
      });
    }),
  };
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('human review across processes', () => {
  it('a run waits for review; a decision from another process lets it go on, and a rejection note reaches the agent', async () => {
    const root = mkdtempSync(join(tmpdir(), 'troupe-review-'));
    const store = new FileStore({ root });
    const run = child(root, 'mailer', 'run_mail', 'wait');

    const pending = await until(async () => {
      const reviews = await listReviews(store, { status: 'pending' });
      return reviews.length === 2 ? reviews : undefined;
    });
    const ann = pending.find((r) => r.item === 'ann')!;
    expect(ann).toMatchObject({
      kind: 'approval',
      task: 'send',
      policy: 'tool.needs-approval',
      what: 'call send_email (external side effects) with {"to":"ann@example.com","subject":"About invoices"}',
    });
    expect(existsSync(join(root, 'sent.log'))).toBe(false);

    await decideReview(store, ann.id, { approved: true, by: 'alice' });
    await decideReview(store, pending.find((r) => r.item === 'bob')!.id, { approved: false, by: 'alice', note: 'Bob left the company' });
    const { summary } = await run.done;

    expect(summary!.status).toBe('done');
    expect(summary!.items.find((i) => i.id === 'ann')!.outputs.send).toEqual({ sent: true, note: 'sent' });
    expect(summary!.items.find((i) => i.id === 'bob')!.outputs.send).toMatchObject({
      sent: false,
      note: expect.stringContaining('rejected by alice: Bob left the company'),
    });
    expect(readFileSync(join(root, 'sent.log'), 'utf8')).toBe('ann@example.com: About invoices\n');
    const transitions = await readTransitions(store, 'run_mail');
    expect(transitions.find((t) => t.item === 'ann' && t.review && t.from === 'awaiting-review')!.why).toMatch(/^review review_\w+ approved by alice$/);
    const decided = await listReviews(store, { status: 'approved' });
    expect(decided[0]!.decision).toMatchObject({ by: 'alice', at: expect.any(Number) });
  }, 120_000);

  it('a run that stopped to wait survives the restart: approve, then resume in a new process', async () => {
    const root = mkdtempSync(join(tmpdir(), 'troupe-review-'));
    const store = new FileStore({ root });
    const first = await child(root, 'mailer', 'run_later').done;
    expect(first.summary!.status).toBe('awaiting-review');
    expect(first.summary!.counts).toEqual({ 'awaiting-review': 2 });

    for (const review of await listReviews(store, { status: 'pending' })) await decideReview(store, review.id, { approved: true, by: 'bo' });
    await expect(decideReview(store, (await listReviews(store))[0]!.id, { approved: false })).rejects.toThrow(
      /was already approved by bo; a decision is final/,
    );

    const resumed = await child(root, 'resume', 'mailer', 'run_later').done;
    expect(resumed.summary!.status).toBe('done');
    expect(readFileSync(join(root, 'sent.log'), 'utf8').trim().split('\n').sort()).toEqual([
      'ann@example.com: About invoices',
      'bob@example.com: About refunds',
    ]);
  }, 120_000);
});

describe('crash and resume', () => {
  it('a run killed mid-way resumes from its last recorded step without repeating completed side effects', async () => {
    const root = mkdtempSync(join(tmpdir(), 'troupe-crash-'));
    const crashed = await child(root, 'ledger', 'run_ledger').done;
    expect(crashed.signal).toBe('SIGKILL');
    expect(readFileSync(join(root, 'charges.log'), 'utf8')).toBe('run_ledger.a.charge 1250\n');

    const resumed = await child(root, 'resume', 'ledger', 'run_ledger').done;

    expect(resumed.summary!.status).toBe('done');
    expect(resumed.summary!.items.map((i) => [i.id, i.outputs.notify])).toEqual([
      ['a', 'charged 1250'],
      ['b', 'charged 300'],
    ]);
    // Item a's charge had completed before the crash: it is not made again.
    expect(readFileSync(join(root, 'charges.log'), 'utf8')).toBe('run_ledger.a.charge 1250\nrun_ledger.b.charge 300\n');
  }, 120_000);
});
