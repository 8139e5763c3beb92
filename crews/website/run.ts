// Runs the website example: asks the button component's agent for a change and lets it flow to
// the page files, in a fresh embedded store (a temporary TROUPE_HOME). Offline on the recorded
// transcript without ANTHROPIC_API_KEY, live with it.
// Run: npm run build && node dist/crews/website/run.js
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWorkEvent, openWorkGraph, type WorkEvent, type WorkItem } from 'troupe';
import graph, { websiteRequest } from './graph.js';

export { websiteRequest };

export async function runWebsite(home = mkdtempSync(join(tmpdir(), 'website-'))): Promise<{ answer: string; items: WorkItem[]; events: WorkEvent[] }> {
  // Embedded on purpose (no REDIS_URL): one process, and the in-process queue runs one job at a
  // time, so the agents are asked in the same order, and with the same conversations, every run.
  const website = await openWorkGraph(graph(), { env: { TROUPE_HOME: home } });
  try {
    await website.seed();
    await website.work({ concurrency: 1 });
    const answer = await website.chat('button', websiteRequest);
    console.log(`button> ${answer.answer}`);
    await website.waitUntilQuiet({ timeoutMs: 300_000 });
    const events = (await website.events()).map(({ entry }) => entry);
    for (const event of events) console.log(`  ${describeWorkEvent(event)}`);
    const items = await website.items();
    for (const item of items) console.log(`${item.id} v${item.version}: ${item.summary}`);
    return { answer: answer.answer, items, events };
  } finally {
    await website.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runWebsite();
