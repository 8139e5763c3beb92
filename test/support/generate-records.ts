// Writes one record of every persisted kind with this build of Troupe and returns each stored
// value by kind: how the samples in test/fixtures/records were made. test/store/record-fixtures
// runs it on every test run (so it cannot go stale) and checks that each record reads back; to
// make the samples of a new format version, run
//   TROUPE_RECORDS_OUT=/tmp/records npx vitest run test/store/record-fixtures.test.ts
// and copy the new files into test/fixtures/records by hand, named <kind>.<version field>-<version>.json.
// Never edit or regenerate the files that are there: every later version of Troupe must still read them.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { Handler } from '../../src/coordinator/handler.js';
import { defineConfiguration } from '../../src/coordinator/configuration.js';
import { Worklist } from '../../src/coordinator/worklist.js';
import type { JsonValue } from '../../src/core/json.js';
import { InProcessQueue } from '../../src/queue/in-process-queue.js';
import { FileStore } from '../../src/store/file-store.js';
import { WorkItemStore } from '../../src/work/work-item.js';
import { codeTask } from '../../src/workflow/tasks/code-task.js';
import { humanTask } from '../../src/workflow/tasks/human-task.js';
import { defineWorkflow } from '../../src/workflow/define-workflow.js';
import { evaluateWorkflow } from '../../src/workflow/eval/evaluate-workflow.js';
import { runWorkflow } from '../../src/workflow/run-workflow.js';
import { storeOutbox } from '../../src/workflow/store-outbox.js';

/** One stored value of every kind, by the kind name the samples carry; written as `<kind>.json` under `out` when it is given. */
export async function generateRecords(out?: string): Promise<Record<string, JsonValue>> {
  const root = mkdtempSync(join(tmpdir(), 'troupe-recgen-'));
  const store = new FileStore({ root });
  let now = Date.UTC(2026, 0, 1);
  const clock = { now: () => (now += 1000) };
  let n = 0;
  const ids = (prefix = 'id') => `${prefix}-${++n}`;
  const records: Record<string, JsonValue> = {};
  const save = (kind: string, value: unknown) => {
    records[kind] = value as JsonValue;
    if (out) writeFileSync(join(out, `${kind}.json`), `${JSON.stringify(value, null, 2)}\n`);
  };
  const get = async (collection: string, id: string) => (await store.get(collection, id))?.value;

  const text = z.object({ text: z.string() });
  const workflow = defineWorkflow({
    name: 'fixture',
    input: text,
    tasks: [
      codeTask({ name: 'split', stage: 'extracted', input: text, output: z.array(z.string()), run: ({ text }) => text.split(' ') }),
      humanTask({ name: 'confirm', input: z.array(z.string()), output: z.array(z.string()), question: (words) => `Are ${words.length} words right?` }),
    ],
  });
  const summary = await runWorkflow(workflow, [{ id: 'a', input: { text: 'one two' } }], { store, runId: 'run-1', clock, ids });
  save('run', await get('runs', 'run-1'));
  save('item', await get('items', 'run-1.a'));
  save('review', await get('reviews', summary.items[0]!.review!));
  save('transition', (await store.read('transitions.run-1'))[1]!.entry);
  save('lease', await get('leases', 'run-1'));
  await storeOutbox(store).record('effect-1', { tool: 'send_email', output: 'sent', at: clock.now() });
  save('effect', await get('effects', 'effect-1'));

  const items = new WorkItemStore(store, 'fixture', clock);
  await items.create('spec', 'The spec.');
  await items.write('spec', 1, {
    changeId: 'c1',
    content: 'The spec, changed.',
    summary: 'changed',
    changedBy: 'chat',
    origin: 'c1',
    countsTowardBudget: false,
  });
  save('work-item', await get('work.fixture.items', 'spec'));
  await items.addTurn(
    'spec',
    {
      id: 'chat-1',
      basisVersion: 1,
      messages: [{ role: 'user', content: 'Change it.' }],
      decision: { kind: 'update', content: 'The spec, changed.', summary: 'changed' },
    },
    20,
  );
  save('conversation', await get('work.fixture.conversations', 'spec'));
  const outcome = {
    id: 'tests+spec+v2',
    item: 'tests',
    source: 'spec',
    sourceVersion: 2,
    depth: 1,
    origin: 'c1',
    outcome: 'no-change' as const,
    note: 'nothing to do',
    notified: [],
    notNotified: [],
    at: clock.now(),
  };
  await items.recordOutcome(outcome, 60_000, { entry: { type: 'notification-outcome', ...outcome }, key: `outcome:${outcome.id}`, keepLast: 100 });
  save('notification-outcome', await get('work.fixture.notifications', outcome.id));
  await items.append(
    { type: 'item-change', item: 'spec', version: 2, summary: 'changed', changedBy: 'chat', changeId: 'c1', origin: 'c1', depth: 0, at: clock.now() },
    'c1',
    100,
  );
  save('work-event', (await store.read('work.fixture.events')).find((event) => (event.entry as { type?: string }).type === 'item-change')!.entry);

  const worklist = new Worklist(store, 'handler-1');
  const [plan] = worklist.tools();
  await plan!.run({ items: [{ id: 'w1', description: 'Read the diff', priority: 0 }] }, {} as never);
  save('worklist', await get('worklists', 'handler-1'));
  save('worklist-change', (await store.read('worklist.handler-1'))[0]!.entry);

  const configuration = defineConfiguration({ name: 'a', trigger: { kind: 'event', match: { 'data.type': 'message' } }, prompt: 'x' });
  const handler = new Handler({ configurations: [configuration], tools: [], store, clock, ids });
  const none = await handler.handle({ kind: 'schedule', id: 's1', source: 'nightly', data: {}, receivedAt: clock.now() });
  save('handler-run', await get('handler-runs', none.runId));

  const golden = {
    version: 1,
    examples: [{ name: 'one', input: { text: 'one two' }, expect: { state: 'awaiting-review', outputs: { split: ['one', 'two'] } } }],
  };
  await evaluateWorkflow(workflow, { golden, store, clock } as never);
  save('eval-result', await get('evals', 'fixture'));

  const journalPath = join(root, 'journal.json');
  const queue = new InProcessQueue({ name: 'fixture', journalPath });
  await queue.add('notify', { item: 'spec' }, { jobId: 'job-1', delayMs: 60_000 });
  save('queue-journal', JSON.parse(readFileSync(journalPath, 'utf8')));
  await queue.close();
  await store.close();
  return records;
}
