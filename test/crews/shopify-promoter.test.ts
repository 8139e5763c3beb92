// The headline example through the built CLI, as a user runs it: `troupe run shopify-promoter`
// offline on its cassette, approvals, the outbox, `npm start`'s script and `--watch`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideReview, listReviews, type TaskContext } from 'troupe';
import { FileStore } from 'troupe/store';
import { scriptedModel } from 'troupe/testing';
import { readTransitions } from '../../src/workflow/run-state.js';
import { promoterModel } from '../../crews/shopify-promoter/promoter-model.js';
import { runCommand } from '../support/run-command.js';
import promoter, { emailProblems, emailSchema, ideaSchema, summarySchema, type OutgoingEmail } from '../../crews/shopify-promoter/workflow.js';

const storefronts = 'crews/shopify-promoter/storefronts';
const shops = ['dew-botanics', 'good-boy-supply', 'marginalia-books', 'north-star-coffee', 'oak-and-ash', 'spoke-and-chain'];

interface Review {
  id: string;
  item: string;
  task: string;
  status: string;
  proposal: OutgoingEmail;
}
interface Summary {
  runId: string;
  status: string;
  items: Array<{ id: string; state: string; outputs: Record<string, any>; review?: string }>;
  reviews: Review[];
}
interface Timeline {
  run: { status: string };
  items: Array<{ id: string; tasks: Record<string, { attempts: number }> }>;
  transitions: Array<{ item: string; task?: string; policy?: string; why: string; route?: string }>;
}

/** A fresh Troupe home (its SQLite store and outbox), without any provider key: the example must run offline. */
function setup() {
  const home = mkdtempSync(join(tmpdir(), 'shopify-promoter-'));
  const env = { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', REDIS_URL: '', TROUPE_HOME: home, SHOPIFY_PROMOTER_OUTBOX: '', USER: 'tester' };
  const troupe = (...args: string[]) => runCommand(process.execPath, ['dist/bin/troupe.js', ...args], { env });
  const emails = (runId: string) => {
    const dir = join(home, 'outbox', 'shopify-promoter', runId);
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  };
  return { home, env, troupe, emails, outbox: (runId: string) => join(home, 'outbox', 'shopify-promoter', runId) };
}

const json = <T>(result: { stdout: string }) => JSON.parse(result.stdout) as T;

/** Waits until `ready` holds, checking again after each look; the limit only catches a hang. */
async function until<T>(look: () => Promise<T>, ready: (value: T) => boolean, what: string, limitMs = 90_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await look();
    if (ready(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: last saw ${JSON.stringify(value)}`);
    await new Promise((done) => setTimeout(done, 300));
  }
}

describe('crews/shopify-promoter', { timeout: 240_000 }, () => {
  it('takes every storefront to approval offline, with two drafts sent back and rewritten, in the seeds’ schemas', async () => {
    const { troupe } = setup();
    const result = await troupe('run', 'shopify-promoter', '--input', 'crews/shopify-promoter/storefronts.json', '--json', '--quiet');
    expect(result.stderr).toMatch(/no API key is set: replaying the recorded transcript crews\/shopify-promoter\/cassette.json/);
    expect(result.status).toBe(3); // waiting for review
    const summary = json<Summary>(result);
    expect(summary.status).toBe('awaiting-review');
    expect(summary.items.map((item) => [item.id, item.state])).toEqual(shops.map((id) => [id, 'awaiting-review']));
    expect(summary.reviews.map((review) => [review.item, review.task]).sort()).toEqual(shops.map((id) => [id, 'approve']));
    for (const item of summary.items) {
      expect(summarySchema.parse(item.outputs['summarize']).praiseworthy).not.toBe('');
      expect(ideaSchema.parse(item.outputs['concept'])).toMatchObject({ store_id: item.id });
      const email = emailSchema.parse(item.outputs['email']);
      expect(Object.keys(item.outputs['email']).sort()).toEqual(['body', 'subject_line']);
      expect(emailProblems(email)).toEqual([]);
      expect(item.outputs['check']).toMatchObject({ pass: true });
    }
    // The page text addressed to AI assistants is reported as content, not obeyed.
    const goodBoy = summary.items.find((item) => item.id === 'good-boy-supply')!;
    expect(goodBoy.outputs['summarize'].noteworthy).toMatch(/comment addressed to AI assistants/);
    expect(goodBoy.outputs['email'].body).not.toMatch(/password|best in the world/i);

    const timeline = json<Timeline>(await troupe('runs', 'show', summary.runId, '--json'));
    const loops = timeline.transitions.filter((t) => t.policy === 'loop.send-back');
    // The check (a model) sent the generic draft back with its feedback; code's rules (the email step's checker) the long subject.
    expect(loops.map((t) => t.item)).toEqual(['marginalia-books']);
    expect(loops[0]!.why).toMatch(/sent the item back to "email" \(1 of 2\): Greet the shop by name[\s\S]*\n- it could go to any shop/);
    const rules = timeline.transitions.filter((t) => t.task === 'email' && t.policy?.startsWith('checker.'));
    expect(rules.map((t) => [t.item, t.policy])).toEqual([
      ['oak-and-ash', 'checker.failed'],
      ['oak-and-ash', 'checker.retry'],
    ]);
    expect(rules[0]!.why).toMatch(/the checker rejected the output of "email": - the subject line is 99 characters/);
    const rewritten = ['marginalia-books', 'oak-and-ash'];
    for (const item of timeline.items) expect(item.tasks['email']!.attempts).toBe(rewritten.includes(item.id) ? 2 : 1);
    const bookshop = summary.items.find((item) => item.id === 'marginalia-books')!;
    expect(bookshop.outputs['email'].body).toMatch(/^Hi Marginalia team,/);
  });

  it('writes exactly one .eml per approved email, and never a second on another resume', async () => {
    const { troupe, emails, outbox } = setup();
    const summary = json<Summary>(await troupe('run', 'shopify-promoter', '--input', 'crews/shopify-promoter/storefronts.json', '--json', '--quiet'));
    expect(emails(summary.runId)).toEqual([]); // nothing leaves before a person approves

    // The command npm start prints for one email.
    const [first, ...rest] = summary.reviews;
    const one = await troupe('review', 'approve', first!.id, '--resume', '--quiet');
    expect(one.status).toBe(3); // the other five still wait
    expect(emails(summary.runId)).toEqual([`${first!.item}.eml`]);

    for (const review of rest) expect((await troupe('review', 'approve', review.id, '--json')).status).toBe(0);
    const done = await troupe('run', '--resume', summary.runId, '--json', '--quiet');
    expect(done.status).toBe(0);
    const finished = json<Summary>(done);
    expect(finished.status).toBe('done');
    expect(finished.items.every((item) => item.state === 'accepted')).toBe(true);
    expect(emails(summary.runId)).toEqual(shops.map((id) => `${id}.eml`));

    const written = Object.fromEntries(emails(summary.runId).map((name) => [name, statSync(join(outbox(summary.runId), name)).mtimeMs]));
    for (const review of summary.reviews) {
      const text = readFileSync(join(outbox(summary.runId), `${review.item}.eml`), 'utf8');
      expect(text).toContain(`\r\nTo: ${review.proposal.to}\r\n`);
      expect(text).toContain(`\r\nSubject: ${review.proposal.subject_line}\r\n`);
      expect(text).toContain(review.proposal.body.replace(/\n/g, '\r\n'));
      expect(finished.items.find((item) => item.id === review.item)!.outputs['send'].file).toBe(join(outbox(summary.runId), `${review.item}.eml`));
    }
    const again = await troupe('run', '--resume', summary.runId, '--json', '--quiet');
    expect(again.status).toBe(0);
    expect(Object.fromEntries(emails(summary.runId).map((name) => [name, statSync(join(outbox(summary.runId), name)).mtimeMs]))).toEqual(written);
  });

  it('sends once even when the step is repeated without its record, and keeps model text out of the headers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shopify-promoter-send-'));
    const previous = process.env['SHOPIFY_PROMOTER_OUTBOX'];
    process.env['SHOPIFY_PROMOTER_OUTBOX'] = dir;
    try {
      const send = promoter.tasks.get('send')!;
      const context = { runId: 'run_1', itemId: 'shop', task: 'send', idempotencyKey: 'run_1.shop.send', clock: { now: () => 0 } } as unknown as TaskContext;
      const hostile: OutgoingEmail = {
        store_id: 'shop',
        to: 'owner@shop.example',
        subject_line: 'Hello\r\nBcc: everyone@example.com',
        body: 'Line one\nLine two',
      };
      // No outbox: as if the process died after writing the file and before recording it, twice.
      const first = await send.execute(hostile, context);
      const second = await send.execute({ ...hostile, body: 'a different body' }, context);
      expect(second).toEqual(first);
      expect(readdirSync(join(dir, 'run_1'))).toEqual(['shop.eml']);
      const text = readFileSync(join(dir, 'run_1', 'shop.eml'), 'utf8');
      expect(text).toContain('\r\nSubject: Hello Bcc: everyone@example.com\r\n');
      expect(text).not.toMatch(/^Bcc:/m);
      expect(text).toContain('\r\n\r\nLine one\r\nLine two\r\n');
      await expect(
        send.execute({ ...hostile, to: 'owner@shop.example\r\nBcc: x@y.example' }, { ...context, idempotencyKey: 'other', itemId: 'other' }),
      ).rejects.toThrow(/is not an email address/);
    } finally {
      if (previous === undefined) delete process.env['SHOPIFY_PROMOTER_OUTBOX'];
      else process.env['SHOPIFY_PROMOTER_OUTBOX'] = previous;
    }
  });

  it('npm start stops at approval with the commands to approve; --approve writes every email; a second start does not rebuild', async () => {
    const { env, home, troupe, emails } = setup();
    const start = (...args: string[]) => runCommand(process.execPath, ['bin/start.mjs', ...args], { env });
    const waiting = await start();
    expect(waiting.status).toBe(0);
    const commands = [...waiting.stdout.matchAll(/^ {2}npx troupe review approve (review_\w+) --resume {5}# (\S+)$/gm)];
    expect(commands.map((match) => match[2]).sort()).toEqual(shops);
    const runId = /npx troupe runs show (run_\w+)/.exec(waiting.stdout)![1]!;
    expect(waiting.stdout).toContain(`Dashboard: npx troupe dashboard, then open http://127.0.0.1:4000/runs/${runId}`);
    expect(waiting.stdout).toMatch(/the check sent the email to marginalia-books back to be rewritten \(1 of 2\): Greet the shop by name/);
    expect(waiting.stdout).toMatch(/code's rules sent the draft to oak-and-ash back to be rewritten: the subject line is 99 characters/);
    expect(waiting.stdout).toContain('npm start -- --approve');
    // The printed command works as printed (npx troupe is this CLI).
    const approved = await troupe('review', 'approve', commands[0]![1]!, '--resume', '--quiet');
    expect(approved.status).toBe(3);
    expect(emails(runId)).toEqual([`${commands[0]![2]}.eml`]);

    const all = await start('--approve');
    expect(all.status).toBe(0);
    expect(all.stderr).not.toMatch(/\[start\] .*building/); // dist/ was built by the first start at the latest
    const second = /npx troupe runs show (run_\w+)/.exec(all.stdout)![1]!;
    expect(second).not.toBe(runId);
    expect(all.stdout).toMatch(/Approving the 6 emails/);
    expect(all.stdout).toContain(`Emails:    ${join(home, 'outbox', 'shopify-promoter', second)}/ (6 .eml written)`);
    expect(emails(second)).toEqual(shops.map((id) => `${id}.eml`));
    expect((await start('--aprove')).status).toBe(2);
  });

  it('--watch takes storefronts as they arrive, passes over other files, and SIGTERM ends it with the run saved', async () => {
    const { env, troupe, emails } = setup();
    const folder = mkdtempSync(join(tmpdir(), 'shopify-promoter-watch-'));
    copyFileSync(join(storefronts, 'dew-botanics.html'), join(folder, 'dew-botanics.html'));
    const child = spawn(process.execPath, ['dist/bin/troupe.js', 'run', 'shopify-promoter', '--watch', folder, '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    try {
      const waitingFor = (items: string[]) =>
        until(
          async () => json<Review[]>(await troupe('review', 'list', '--json')).map((review) => review.item),
          (seen) => items.every((item) => seen.includes(item)),
          `reviews of ${items.join(', ')}`,
        );
      await waitingFor(['dew-botanics']);
      // Written under a name the watch never takes, then renamed: the page arrives whole.
      copyFileSync(join(storefronts, 'oak-and-ash.html'), join(folder, '.oak-and-ash.html.tmp'));
      renameSync(join(folder, '.oak-and-ash.html.tmp'), join(folder, 'oak-and-ash.html'));
      writeFileSync(join(folder, 'notes.txt'), 'not a storefront');
      await waitingFor(['dew-botanics', 'oak-and-ash']);
      await until(
        async () => stderr,
        (text) => text.includes('passed over'),
        'the note about notes.txt',
      );
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(3); // ended gracefully, its items waiting for review
    expect(stderr).toMatch(/SIGTERM: no new items are taken/);
    expect(stderr).toMatch(/passed over .*notes\.txt: not an item of this workflow/);
    const summary = json<Summary>({ stdout });
    expect(summary.items.map((item) => [item.id, item.state])).toEqual([
      ['dew-botanics', 'awaiting-review'],
      ['oak-and-ash', 'awaiting-review'],
    ]);
    const timeline = json<Timeline>(await troupe('runs', 'show', summary.runId, '--json'));
    expect(timeline.run.status).toBe('awaiting-review');
    // The saved run goes on like any other: approve both, resume, two emails.
    for (const review of summary.reviews) await troupe('review', 'approve', review.id);
    const done = await troupe('run', '--resume', summary.runId, '--quiet');
    expect(done.status).toBe(0);
    expect(emails(summary.runId)).toEqual(['dew-botanics.eml', 'oak-and-ash.eml']);
  });

  it('asks a person once the check has sent an email back twice, and lets it through when they approve it passing', async () => {
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'shopify-promoter-loop-')) });
    const writer = promoterModel();
    // A check that never passes: the loop's attempt limit is what ends it.
    const model = scriptedModel(async (request) => {
      if (request.output?.name === 'check_output') return JSON.stringify({ pass: false, problems: ['too long'], feedback: 'Shorter, please.' });
      const part = (await writer.generate(request)).content[0]!;
      return part.type === 'text' ? part.text : '';
    });
    const shop = { id: 'dew-botanics', input: { store_id: 'dew-botanics', page: join(storefronts, 'dew-botanics.html') } };
    const first = await promoter.run([shop], { store, model });
    const [review] = await listReviews(store, { runId: first.runId, status: 'pending' });
    expect(review).toMatchObject({ task: 'check', policy: 'loop.limit', findings: ['Shorter, please.\n- too long'] });
    const transitions = await readTransitions(store, first.runId);
    expect(transitions.filter((t) => t.policy === 'loop.send-back').map((t) => t.why.match(/\(\d of \d\)/)![0])).toEqual(['(1 of 2)', '(2 of 2)']);
    await decideReview(store, review!.id, { approved: true, by: 'editor', value: { pass: true, problems: [], feedback: '' } });
    const resumed = await promoter.resume(first.runId, { store, model });
    expect(resumed.items[0]).toMatchObject({ state: 'awaiting-review', outputs: { check: { pass: true } } });
    expect((await listReviews(store, { runId: first.runId, status: 'pending' }))[0]).toMatchObject({ task: 'approve' });
    await store.close();
  });

  it('refuses a --watch folder that does not exist (exit 2)', async () => {
    const { troupe } = setup();
    const result = await troupe('run', 'shopify-promoter', '--watch', join(tmpdir(), 'no-such-folder-for-troupe'));
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--watch needs a folder that exists/);
  });
});
