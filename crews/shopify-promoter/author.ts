// Writes crews/shopify-promoter/cassette.json, the transcript the promoter replays without a key:
// every model step on the shipped storefronts, answered by the scripted promoter model (its model
// id says `scripted:shopify-promoter`). To record live instead: delete the cassette and run
// `npx troupe run shopify-promoter --input crews/shopify-promoter/storefronts.json` with
// TROUPE_RECORD=1, TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 and ANTHROPIC_API_KEY.
// Run: npm run build && node dist/crews/shopify-promoter/author.js
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkItemInput } from 'troupe';
import { FileStore } from 'troupe/store';
import { registerModel } from 'troupe/testing';
import { promoterModel } from './promoter-model.js';
import workflow, { type Storefront } from './workflow.js';

const cassette = 'crews/shopify-promoter/cassette.json';
rmSync(cassette, { force: true });
registerModel('shopify-promoter', promoterModel());
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:shopify-promoter';
const scratch = mkdtempSync(join(tmpdir(), 'shopify-promoter-author-'));
process.env.SHOPIFY_PROMOTER_OUTBOX = join(scratch, 'outbox');
const store = new FileStore({ root: scratch });
const storefronts = JSON.parse(readFileSync('crews/shopify-promoter/storefronts.json', 'utf8')) as WorkItemInput<Storefront>[];
// The run stops where a person approves each email: every model step is behind it.
const run = await workflow.run(storefronts, { store, model: `replay:${cassette}` });
await store.close();
rmSync(scratch, { recursive: true, force: true });
console.log(`storefronts: ${JSON.stringify(run.counts)}`);
for (const item of run.items) if (item.state !== 'awaiting-review') console.log(`${item.id}: ${item.state} ${item.reason ?? ''}`);
