// Writes crews/webpage-report/cassette.json, the transcript the workflow replays without a key:
// the pages in pages.json, read by the scripted page reader (its model id says
// `scripted:webpage-report`). To record live instead: delete the cassette and run
// `npx troupe run webpage-report --input crews/webpage-report/pages.json` with
// --model replay:crews/webpage-report/cassette.json, TROUPE_RECORD=1,
// TROUPE_RECORD_MODEL=<a live model, e.g. defaultModel's> and its API key.
// Run: npm run build && node dist/crews/webpage-report/author.js
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkItemInput } from 'troupe';
import { FileStore } from 'troupe/store';
import { registerModel } from 'troupe/testing';
import { pageReader } from './page-reader.js';
import workflow from './workflow.js';

const cassette = 'crews/webpage-report/cassette.json';
rmSync(cassette, { force: true });
registerModel('webpage-report', pageReader());
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:webpage-report';
const scratch = mkdtempSync(join(tmpdir(), 'webpage-report-author-'));
process.env.WEBPAGE_REPORT_OUT = join(scratch, 'reports');
const store = new FileStore({ root: join(scratch, 'state') });
const pages = JSON.parse(readFileSync('crews/webpage-report/pages.json', 'utf8')) as WorkItemInput<{ url: string }>[];
// One page at a time, so the cassette's entries keep the order of the conversation.
for (const page of pages) {
  const run = await workflow.run([page], { store, model: `replay:${cassette}` });
  console.log(`${page.id}: ${run.items[0]?.state}${run.items[0]?.reason ? ` (${run.items[0].reason})` : ''}`);
}
await store.close();
rmSync(scratch, { recursive: true, force: true });
