#!/usr/bin/env node
// `npm start`: the shopify-promoter example end to end, offline (its recorded transcript, no API
// key) on the embedded store (.troupe, or TROUPE_HOME; no services). It reads six storefronts,
// writes and checks an email to each shop, and stops where a person approves each email, printing
// the command that approves it. `npm start -- --approve` is that person: typing the flag approves
// every email, and each is written once to the outbox as an .eml file.
//
// It builds first only when a TypeScript source is newer than what dist/ holds, so a second
// `npm start` goes straight to the run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDirs = ['src', 'bin', 'examples', 'docs', 'bench', 'tools', 'crews', 'agents']; // tsconfig.build.json's "include"
const builtStamp = join(root, 'dist', '.start-built');
const workflow = 'shopify-promoter';
const items = 'crews/shopify-promoter/storefronts.json';
const cassette = 'crews/shopify-promoter/cassette.json';

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--approve');
if (unknown.length > 0) {
  process.stderr.write(`npm start: unknown option ${unknown.join(' ')}; the only one is --approve (approve every email, which writes them to the outbox)\n`);
  process.exit(2);
}
const approve = args.includes('--approve');

buildIfStale();
const started = troupe(['run', workflow, '--input', items, '--model', `replay:${cassette}`, '--json', '--quiet']);
let summary = started.json;
const runId = summary.runId;
const reviews = summary.reviews ?? [];
const say = (text = '') => process.stdout.write(`${text}\n`);
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0); // `npm start | head` ends quietly
  throw error;
});

const timeline = troupe(['runs', 'show', runId, '--json']).json;
const sentBack = (t) => t.policy === 'loop.send-back' || (t.policy === 'checker.failed' && t.task === 'email');
say(`${workflow}: read ${summary.items.length} storefronts, wrote an email to each shop and checked it.`);
for (const t of timeline.transitions.filter(sentBack)) {
  // "…sent the item back to "email" (1 of 2): <feedback>" or "the checker rejected the output of "email": <rules broken>", a reason a line
  const loop = /\((\d+ of \d+)\): ([\s\S]*)/.exec(t.why);
  const feedback = loop ? loop[2] : t.why.slice(t.why.indexOf(': ') + 2);
  const reasons = feedback.split('\n').map((reason) => reason.replace(/^- /, '').replace(/\.$/, ''));
  const who = t.policy === 'checker.failed' ? "code's rules sent the draft" : 'the check sent the email';
  say(`  ${who} to ${t.item} back to be rewritten${loop ? ` (${loop[1]})` : ''}: ${reasons.join('; ')}`);
}

if (approve && reviews.length > 0) {
  say(`\nApproving the ${reviews.length} emails (--approve: you typed the flag, so you approve them):`);
  const by = `${process.env.USER || 'you'} (npm start -- --approve)`;
  for (const review of reviews) troupe(['review', 'approve', review.id, '--by', by, '--json']);
  summary = troupe(['run', '--resume', runId, '--model', `replay:${cassette}`, '--json', '--quiet']).json;
}

say('');
for (const item of summary.items) {
  const email = item.outputs.approve ?? item.outputs.email;
  const line = email ? `"${email.subject_line}"${email.to ? ` → ${email.to}` : ''}` : (item.reason ?? '');
  say(`  ${item.id.padEnd(18)} ${item.state.padEnd(15)} ${line}`);
}
// By shop, as the items are listed above (review ids are random).
const pending = (summary.reviews ?? []).filter((review) => review.status === 'pending').sort((a, b) => a.item.localeCompare(b.item));
if (pending.length > 0) {
  say('\nEach email waits for your approval. Read one: npx troupe review show <id>. Approve one (it is written to the outbox at once):');
  for (const review of pending) say(`  npx troupe review approve ${review.id} --resume     # ${review.item}`);
  say(`Reject one with: npx troupe review reject <id> --note "why"`);
  say('Or run it all again approving every email: npm start -- --approve');
}
const sent = summary.items.map((item) => item.outputs.send?.file).filter(Boolean);
const outbox =
  sent.length > 0 ? dirname(sent[0]) : join(process.env.SHOPIFY_PROMOTER_OUTBOX || join(process.env.TROUPE_HOME || '.troupe', 'outbox', workflow), runId);
say('');
const shown = relative(process.cwd(), resolve(root, outbox));
const count =
  sent.length === 0
    ? 'none yet: each is written once approved'
    : `${sent.length} .eml written${pending.length > 0 ? `, ${pending.length} more once approved` : ''}`;
say(`Emails:    ${shown.startsWith('..') ? resolve(root, outbox) : shown}/ (${count})`);
say(`Timeline:  npx troupe runs show ${runId}`);
say(`Dashboard: npx troupe dashboard, then open http://127.0.0.1:4000/runs/${runId}`);
process.exitCode = summary.status === 'done' || summary.status === 'awaiting-review' ? 0 : 1;

/** Runs the CLI from dist/ and reads its JSON; exit 0 (done) and 3 (waiting for review) are the expected ends. */
function troupe(argv) {
  const result = spawnSync(process.execPath, [join(root, 'dist', 'bin', 'troupe.js'), ...argv], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0 && result.status !== 3) {
    process.stderr.write(result.stdout ?? '');
    process.stderr.write(`npm start: troupe ${argv.join(' ')} exited ${result.status ?? result.signal}\n`);
    process.exit(result.status || 1);
  }
  return { json: JSON.parse(result.stdout) };
}

/** Builds when any TypeScript source is newer than its compiled file and than the last build. */
function buildIfStale() {
  const stale = staleSource();
  if (!stale) return;
  process.stderr.write(`[start] ${stale}: building (npm run build)\n`);
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) process.exit(build.status || 1);
  // tsc leaves unchanged outputs as they are: the stamp says a source touched but unchanged was built.
  writeFileSync(builtStamp, `${new Date().toISOString()}\n`);
}

function staleSource() {
  if (!existsSync(join(root, 'dist', 'bin', 'troupe.js')) || !existsSync(join(root, 'dist', 'src', 'index.js'))) return 'dist/ has no build yet';
  const lastBuild = Math.max(mtime(builtStamp), mtime(join(root, 'dist', '.tsbuildinfo')));
  for (const config of ['tsconfig.json', 'tsconfig.build.json']) if (mtime(join(root, config)) > lastBuild) return `${config} changed`;
  for (const dir of sourceDirs)
    for (const source of typescriptFiles(join(root, dir))) {
      // src/ is bundled (bin/bundle.mjs): its modules have no compiled file of their own, only the last build's time.
      const built = dir === 'src' ? undefined : join(root, 'dist', relative(root, source)).replace(/\.ts$/, '.js');
      if (built && !existsSync(built)) return `${relative(root, source)} is not built`;
      if (mtime(source) > Math.max(built ? mtime(built) : 0, lastBuild)) return `${relative(root, source)} changed`;
    }
  return undefined;
}

function* typescriptFiles(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typescriptFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
