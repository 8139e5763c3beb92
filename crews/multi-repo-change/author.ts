// Writes crews/multi-repo-change/cassette.json, the transcript the workflow replays without a key:
// the requirement in requirements.json, with the person adding web-shop to the proposed set at
// review, answered by the scripted team (its model id says `scripted:multi-repo-change`). The
// editing conversations are per repository, so the cassette also serves a run whose proposal is
// approved as it is. To record live instead: delete the cassette and run the workflow with
// --model replay:crews/multi-repo-change/cassette.json, TROUPE_RECORD=1,
// TROUPE_RECORD_MODEL=<a live model, e.g. defaultModel's> and its API key.
// Run: npm run build && node dist/crews/multi-repo-change/author.js
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideReview, listReviews, type WorkItemInput } from 'troupe';
import { FileStore } from 'troupe/store';
import { registerModel } from 'troupe/testing';
import { scriptedTeam } from './scripted-team.js';
import workflow, { type Requirement } from './workflow.js';

const cassette = 'crews/multi-repo-change/cassette.json';
rmSync(cassette, { force: true });
registerModel('multi-repo-change', scriptedTeam());
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:multi-repo-change';
const scratch = mkdtempSync(join(tmpdir(), 'multi-repo-change-author-'));
process.env.MULTI_REPO_WORKDIR = join(scratch, 'work');
const store = new FileStore({ root: join(scratch, 'state') });
const items = JSON.parse(readFileSync('crews/multi-repo-change/requirements.json', 'utf8')) as WorkItemInput<Requirement>[];
const model = `replay:${cassette}`;
const first = await workflow.run(items, { store, model });
for (const review of await listReviews(store, { runId: first.runId, status: 'pending' }))
  await decideReview(store, review.id, { approved: true, by: 'author', value: { repos: ['invoice-format', 'billing-api', 'web-shop'] } });
const resumed = await workflow.resume(first.runId, { store, model });
for (const item of resumed.items) console.log(`${item.id}: ${item.state}${item.reason ? ` (${item.reason})` : ''}`);
await store.close();
rmSync(scratch, { recursive: true, force: true });
