// Writes crews/invoices/cassette.json, the transcript the workflow replays without a key: the
// documents in documents.json and the golden examples, answered by the scripted document reader
// (its model id says `scripted:invoices`). To record live instead: delete the cassette and run
// `troupe run invoices` and `troupe eval invoices` with --model replay:crews/invoices/cassette.json,
// TROUPE_RECORD=1, TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 and ANTHROPIC_API_KEY.
// Run: npm run build && node dist/crews/invoices/author.js
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateWorkflow, loadGolden, type WorkItemInput } from 'troupe';
import { FileStore } from 'troupe/store';
import { registerModel } from 'troupe/testing';
import { documentReader } from './document-reader.js';
import workflow, { totalMatchesLines, type Document } from './workflow.js';

const cassette = 'crews/invoices/cassette.json';
rmSync(cassette, { force: true });
registerModel('invoices', documentReader());
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:invoices';
const scratch = mkdtempSync(join(tmpdir(), 'invoices-author-'));
const store = new FileStore({ root: scratch });
const documents = JSON.parse(readFileSync('crews/invoices/documents.json', 'utf8')) as WorkItemInput<Document>[];
const run = await workflow.run(documents, { store, model: `replay:${cassette}` });
const evaluation = await evaluateWorkflow(workflow, {
  golden: loadGolden('crews/invoices/golden.json'),
  checks: { totalMatchesLines },
  model: `replay:${cassette}`,
  store,
  save: false,
});
await store.close();
rmSync(scratch, { recursive: true, force: true });
console.log(`documents: ${JSON.stringify(run.counts)}; golden: ${evaluation.result.passed} of ${evaluation.result.total} pass`);
if (evaluation.result.passed !== evaluation.result.total)
  console.log(
    JSON.stringify(
      evaluation.result.examples.filter((e) => !e.passed),
      null,
      2,
    ),
  );
