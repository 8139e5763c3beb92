// Writes crews/draft-review-loop/cassette.json, the transcript the workflow replays without a key.
// A scripted writer (its model id says `scripted:draft-review-loop`) answers each draft request the
// way a model plausibly would, slips included: the offline-mode note first promises "seamless" sync
// at length and is fixed when the check's problems come back; the sso-login note keeps writing
// "single sign-on" where the check wants "SAML", so it is sent back twice and then waits for a person.
// To record live instead: delete the cassette and run the workflow with TROUPE_RECORD=1,
// TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 and ANTHROPIC_API_KEY.
// Run: npm run build && node dist/crews/draft-review-loop/author.js
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelRequest, WorkItemInput } from 'troupe';
import { FileStore } from 'troupe/store';
import { registerModel, scriptedModel } from 'troupe/testing';
import workflow, { type Change, type Draft } from './workflow.js';

const cassette = 'crews/draft-review-loop/cassette.json';

function write(request: ModelRequest): string {
  const last = request.messages.at(-1);
  const prompt = last?.role === 'user' ? last.content : '';
  const attempt = Number(/## This is attempt (\d+)/.exec(prompt)?.[1] ?? 1);
  const note = draftFor(prompt, attempt);
  if (!note) throw new Error(`the writer has no note for this prompt: ${prompt.slice(0, 120)}…`);
  return JSON.stringify(note);
}

function draftFor(prompt: string, attempt: number): Draft | undefined {
  if (prompt.includes('filtered by date range'))
    return {
      headline: 'Filter search by date range and author',
      body: 'Narrow any search to a date range or to one author with the new filters. Filters stay in the address bar, so a filtered search can be shared by sending its link.',
    };
  if (prompt.includes('cached locally')) {
    if (attempt === 1)
      return {
        headline: 'Seamless offline editing in the desktop app',
        body: 'The desktop app now works seamlessly wherever you are. Every document you open is cached on your computer, so you can keep editing on a train, on a plane or anywhere else without a connection, and your edits sync automatically the moment you are back online, with conflicting edits kept as two versions.',
      };
    return {
      headline: 'Edit documents offline in the desktop app',
      body: 'Documents you open in the desktop app stay editable offline. Your edits sync when the connection returns; if someone else changed the same part meanwhile, both versions are kept.',
    };
  }
  if (prompt.includes('SAML 2.0')) {
    // The slip: "single sign-on" reads friendlier than "SAML", and the writer keeps choosing it.
    if (attempt === 1)
      return {
        headline: 'Single sign-on for workspaces',
        body: "Admins can now require everyone to sign in through the company's identity provider, and then turn off password sign-in.",
      };
    return {
      headline: 'Require single sign-on for your workspace',
      body: "Admins can require sign-in through the company's identity provider with single sign-on, then turn off password sign-in in Settings > Security.",
    };
  }
  return undefined;
}

rmSync(cassette, { force: true });
registerModel('draft-review-loop', scriptedModel(write, { id: 'scripted:draft-review-loop' }));
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:draft-review-loop';
const scratch = mkdtempSync(join(tmpdir(), 'draft-review-loop-author-'));
const store = new FileStore({ root: scratch });
const changes = JSON.parse(readFileSync('crews/draft-review-loop/changes.json', 'utf8')) as WorkItemInput<Change>[];
const run = await workflow.run(changes, { store, model: `replay:${cassette}` });
await store.close();
rmSync(scratch, { recursive: true, force: true });
console.log(`changes: ${JSON.stringify(run.counts)}`);
