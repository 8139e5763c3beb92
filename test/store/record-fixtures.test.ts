import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError } from '../../src/core/errors/configuration-error.js';
import { CorruptRecordError } from '../../src/store/errors/corrupt-record-error.js';
import { FileStore } from '../../src/store/file-store.js';
import { WorkItemStore } from '../../src/work/work-item.js';
import { getReview } from '../../src/workflow/review.js';
import { listRuns, loadItem, loadRun, readTransitions } from '../../src/workflow/run-state.js';
import { handlerRunRecords } from '../../src/coordinator/handler.js';
import { worklistChangeRecords, worklistRecords } from '../../src/coordinator/worklist.js';
import { journalRecords, readJournal } from '../../src/queue/queue-journal.js';
import { defineRecord, type RecordSchema, versionField } from '../../src/store/record-schema.js';
import { conversationRecords, eventRecords, itemDocuments, outcomeRecords } from '../../src/work/work-item.js';
import { evalRecords } from '../../src/workflow/eval/evaluate-workflow.js';
import { reviewRecords } from '../../src/workflow/review.js';
import { leaseRecords } from '../../src/workflow/run-lease.js';
import { itemRecords, runRecords, transitionRecords } from '../../src/workflow/run-state.js';
import { effectRecords } from '../../src/workflow/store-outbox.js';
import { generateRecords } from '../support/generate-records.js';

// Every kind of persisted record, by the name its samples carry in test/fixtures/records.
const kinds: Record<string, RecordSchema<object>> = {
  run: runRecords,
  item: itemRecords,
  transition: transitionRecords,
  review: reviewRecords,
  lease: leaseRecords,
  effect: effectRecords,
  'work-item': itemDocuments,
  conversation: conversationRecords,
  'notification-outcome': outcomeRecords,
  'work-event': eventRecords,
  'eval-result': evalRecords,
  'handler-run': handlerRunRecords,
  worklist: worklistRecords,
  'worklist-change': worklistChangeRecords,
  'queue-journal': journalRecords,
};

const fixtureDir = new URL('../fixtures/records/', import.meta.url);
const fixtures = readdirSync(fixtureDir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, kind: name.slice(0, name.indexOf('.')), value: JSON.parse(readFileSync(new URL(name, fixtureDir), 'utf8')) as unknown }));
const store = () => new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-records-')) });
const at = { collection: 'fixtures', id: 'sample' };

describe('the generator the samples were made with (test/support/generate-records.ts)', () => {
  it('writes one record of every kind with this build, each stamped with its current version and readable', async () => {
    const out = process.env.TROUPE_RECORDS_OUT?.trim();
    if (out) mkdirSync(out, { recursive: true });
    const records = await generateRecords(out || undefined);
    expect(new Set(Object.keys(records))).toEqual(new Set(Object.keys(kinds)));
    for (const [kind, value] of Object.entries(records)) {
      const schema = kinds[kind]!;
      expect((value as Record<string, unknown>)[versionField], kind).toBe(schema.version);
      expect(() => schema.read(value, at), kind).not.toThrow();
    }
  });
});

describe('frozen sample records (test/fixtures/records, never edited)', () => {
  it('has a sample of every kind, and every sample is of a known kind', () => {
    expect(new Set(fixtures.map((fixture) => fixture.kind))).toEqual(new Set(Object.keys(kinds)));
  });

  it.each(fixtures.map((fixture) => [fixture.name, fixture] as const))('%s reads through the current schema', (_, fixture) => {
    const read = kinds[fixture.kind]!.read(fixture.value, at) as Record<string, unknown>;
    // The version field and its older spellings are the helper's business: readers never see them.
    expect(Object.keys(read)).not.toContain(versionField);
    if (fixture.kind === 'work-item') expect(Object.keys(read)).not.toContain('schema');
    if (fixture.kind === 'queue-journal') expect(Object.keys(read)).not.toContain('version');
    // Written again by this build, it reads back the same.
    expect(kinds[fixture.kind]!.read(kinds[fixture.kind]!.write(read), at)).toEqual(read);
  });

  it('reads a work item written with the old `schema` field like one with `schemaVersion`', () => {
    const old = fixtures.find((fixture) => fixture.name === 'work-item.schema-1.json')!;
    const current = fixtures.find((fixture) => fixture.name === 'work-item.schemaVersion-1.json')!;
    expect(itemDocuments.read(old.value, at)).toEqual(itemDocuments.read(current.value, at));
  });

  it('reads a bare-array worklist of older builds as its entries', () => {
    const old = fixtures.find((fixture) => fixture.name === 'worklist.array.json')!;
    expect(worklistRecords.read(old.value, at)).toEqual({ entries: [{ id: 'w1', description: 'Read the diff', priority: 0, status: 'open' }] });
  });

  it('loads samples put in a store through the functions that read them', async () => {
    const states = store();
    const sample = (name: string) => fixtures.find((fixture) => fixture.name === name)!.value as never;
    await states.put('runs', 'run-1', sample('run.schemaVersion-1.json'));
    await states.put('items', 'run-1.a', sample('item.schemaVersion-1.json'));
    const review = sample('review.schemaVersion-1.json') as { id: string };
    await states.put('reviews', review.id, review as never);
    await states.append('transitions.run-1', sample('transition.unversioned.json'));
    await states.append('transitions.run-1', sample('transition.schemaVersion-1.json'));
    await states.put('work.fixture.items', 'spec', sample('work-item.schema-1.json'));

    expect(await loadRun(states, 'run-1')).toMatchObject({ id: 'run-1', workflow: 'fixture', status: 'awaiting-review' });
    expect((await loadItem(states, 'run-1', 'a'))!.value).toMatchObject({ id: 'a', state: 'awaiting-review', stage: 'extracted' });
    expect(await getReview(states, review.id)).toMatchObject({ kind: 'input', task: 'confirm', status: 'pending' });
    expect((await readTransitions(states, 'run-1')).map((transition) => transition.to)).toEqual(['extracted', 'extracted']);
    expect((await new WorkItemStore(states, 'fixture', { now: () => 0 }).get('spec'))!.item).toMatchObject({ content: 'The spec, changed.', version: 1 });
    await states.close();
  });

  it('reads the queue journal samples from their files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-journal-'));
    for (const name of ['queue-journal.version-1.json', 'queue-journal.schemaVersion-1.json']) {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify(fixtures.find((fixture) => fixture.name === name)!.value));
      expect(readJournal(path, 'fixture').jobs.map((job) => job.id)).toEqual(['job-1']);
    }
  });
});

describe('damaged records', () => {
  const run = () => structuredClone(fixtures.find((fixture) => fixture.name === 'run.schemaVersion-1.json')!.value) as Record<string, unknown>;

  const corruptOf = (action: () => unknown): CorruptRecordError => {
    try {
      action();
    } catch (error) {
      expect(error).toBeInstanceOf(CorruptRecordError);
      return error as CorruptRecordError;
    }
    throw new Error('no error');
  };

  it('names the collection, the id, the location and the field, never the value', () => {
    const damaged = { ...run(), workflow: { token: 'sk-live-hunter2' } };
    const error = corruptOf(() => runRecords.read(damaged, { collection: 'runs', id: 'run-1', location: '/state/runs/run-1.json' }));
    expect(error.code).toBe('corrupt_record');
    expect(error.collection).toBe('runs');
    expect(error.id).toBe('run-1');
    expect(error.location).toBe('/state/runs/run-1.json');
    expect(error.message).toMatch(/^The runs record "run-1" at \/state\/runs\/run-1.json is corrupt: it does not have the shape of a run record \(workflow: /);
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses a wrong type, a missing field, a future or missing version, and a non-object', () => {
    const { counts: _, ...withoutCounts } = run();
    expect(corruptOf(() => runRecords.read({ ...run(), startedAt: 'yesterday' }, at)).problem).toMatch(
      /^it does not have the shape of a run record \(startedAt: /,
    );
    expect(corruptOf(() => runRecords.read(withoutCounts, at)).problem).toMatch(/\(counts: /);
    expect(corruptOf(() => runRecords.read({ ...run(), schemaVersion: 2 }, at)).problem).toBe(
      'it was written by a newer Troupe (run schemaVersion 2; this one reads up to 1): upgrade Troupe to read it',
    );
    expect(corruptOf(() => runRecords.read({ ...run(), schemaVersion: '1' }, at)).problem).toBe('its schemaVersion is not a whole number >= 1');
    const { schemaVersion: __, ...unversioned } = run();
    expect(corruptOf(() => runRecords.read(unversioned, at)).problem).toBe('it has no schemaVersion, so it is not a run record');
    expect(corruptOf(() => leaseRecords.read([1, 2], at)).problem).toBe('it is not a lease record (not an object)');
    expect(corruptOf(() => itemDocuments.read({ schema: 7, content: '' }, at)).problem).toMatch(/newer Troupe \(work item schemaVersion 7;/);
  });

  it('fails the reader of a damaged stored record with where it lives; listings set it aside', async () => {
    const states = store();
    await states.put('runs', 'good', run() as never);
    await states.put('runs', 'bad', { ...run(), id: 'bad', status: 'exploded' } as never);
    const error = await loadRun(states, 'bad').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect((error as CorruptRecordError).location).toBe(states.where('runs', 'bad'));
    expect((error as CorruptRecordError).problem).toMatch(/\(status: /);
    const corrupt: CorruptRecordError[] = [];
    expect((await listRuns(states, corrupt)).map((record) => record.id)).toEqual(['run-1']);
    expect(corrupt.map((damaged) => damaged.id)).toEqual(['bad']);
    await expect(listRuns(states)).rejects.toBeInstanceOf(CorruptRecordError);

    await states.append('transitions.r', { at: 1, item: 'a', from: 'received', why: 'x' });
    await expect(readTransitions(states, 'r')).rejects.toThrow(/The transitions.r record "entry 1" is corrupt: .*\(to: /);
    await states.close();
  });

  it('refuses a queue journal of a newer version as a file it cannot read, without overwriting it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'troupe-journal-')), 'journal.json');
    writeFileSync(path, JSON.stringify({ schemaVersion: 2, queue: 'fixture', jobs: [] }));
    expect(() => readJournal(path, 'fixture')).toThrow(ConfigurationError);
    expect(() => readJournal(path, 'fixture')).toThrow(/is not a queue journal this Troupe reads: it was written by a newer Troupe/);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ schemaVersion: 2, queue: 'fixture', jobs: [] });
  });
});

describe('defineRecord', () => {
  const notes = defineRecord<{ text: string; tag?: string; nested?: { a?: number } }>({
    kind: 'note',
    version: 2,
    legacyVersionFields: ['v'],
    schema: z.looseObject({ text: z.string() }),
    migrate: (value, from) => (from === 1 ? { text: String(value.body) } : value),
  });

  it('stamps the version on write, leaving out undefined fields at any depth', () => {
    expect(notes.write({ text: 'hi', tag: undefined as never, nested: { a: undefined as never } })).toEqual({ schemaVersion: 2, text: 'hi', nested: {} });
  });

  it('migrates an older version, whichever spelling its version field has', () => {
    expect(notes.read({ v: 1, body: 'old' }, at)).toEqual({ text: 'old' });
    expect(notes.read({ schemaVersion: 1, body: 'old' }, at)).toEqual({ text: 'old' });
    expect(notes.read({ schemaVersion: 2, text: 'new' }, at)).toEqual({ text: 'new' });
  });
});
