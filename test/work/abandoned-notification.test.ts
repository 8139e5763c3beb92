// A notification the queue gives up on because the processes running it died (here: the
// in-process queue's journal shows its last attempt cut short) is never silently lost: a change
// it had applied is finished (dependents notified, outcome "updated"); otherwise its outcome is
// "failed" with the reason. The BullMQ side of `onAbandoned` is tested in test/queue.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessQueue } from '../../src/queue/index.js';
import { readJournal } from '../../src/queue/queue-journal.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { BatchWrite, StateStore } from '../../src/store/index.js';
import { WorkGraph, type WorkGraphDefinition } from '../../src/work/index.js';
import { waitFor } from '../queue/job-queue-contract.js';

const follow: NonNullable<WorkGraphDefinition['items'][number]['react']> = (notification) => ({
  kind: 'update',
  content: `follows ${notification.source} v${notification.sourceVersion}`,
  summary: 'followed',
});
const chain: WorkGraphDefinition = {
  name: 'chain',
  items: [{ id: 'a' }, { id: 'b', dependsOn: ['a'], react: follow }, { id: 'c', dependsOn: ['b'], react: follow }],
};

let dir: string;
const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
  rmSync(dir, { recursive: true, force: true });
});

type Hang = (write: { collection: string; id: string }) => boolean;

/** The store, except that a put (alone or in a batch) that `hang` matches never returns: the process "hangs" there until it is killed. */
function hanging(store: StateStore, matches: Hang, hung: () => void, armed: () => boolean): StateStore {
  const stuck = () => (hung(), new Promise<never>(() => {}));
  const hang: Hang = (write) => armed() && matches(write);
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'batch') {
        return (writes: readonly BatchWrite[]) => (writes.some((write) => write.kind === 'put' && hang(write)) ? stuck() : target.batch(writes));
      }
      if (property === 'put') {
        return (collection: string, id: string, ...rest: unknown[]) =>
          hang({ collection, id }) ? stuck() : (target.put as (...args: unknown[]) => unknown)(collection, id, ...rest);
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Runs the graph until notification b+a+v2 hangs at `hang`, and returns the journal a process
 * killed then leaves, as if that run had been the notification's last attempt.
 */
async function killedDuring(store: StateStore, hang: Hang): Promise<string> {
  const journalPath = join(dir, 'first', 'queue.json');
  const queue = new InProcessQueue({ name: 'work', journalPath });
  let hung = false;
  let armed = false;
  const graph = new WorkGraph(chain, {
    store: hanging(
      store,
      hang,
      () => (hung = true),
      () => armed,
    ),
    queue,
    maxJobAttempts: 3,
  });
  await graph.seed();
  armed = true;
  await graph.work({ concurrency: 2 });
  await graph.change('a', { content: 'go', summary: 'a person edited a' });
  await waitFor(() => hung, 10_000, 'the run to hang');
  const jobs = readJournal(journalPath, 'work').jobs.map((job) => (job.id === 'b+a+v2' ? { ...job, attemptsMade: job.attempts - 1 } : job));
  expect(jobs.map((job) => `${job.id} ${job.state}`)).toEqual(['b+a+v2 active']);
  const next = join(dir, 'next', 'queue.json');
  mkdirSync(join(dir, 'next'));
  writeFileSync(next, JSON.stringify({ schemaVersion: 1, queue: 'work', jobs }));
  await queue.close({ graceMs: 0 });
  return next;
}

async function restart(store: StateStore, journalPath: string): Promise<WorkGraph> {
  const graph = new WorkGraph(chain, { store, queue: new InProcessQueue({ name: 'work', journalPath }), maxJobAttempts: 3 });
  closing.push(() => graph.close({ graceMs: 0 }));
  await graph.work({ concurrency: 2 });
  await graph.waitUntilQuiet({ timeoutMs: 30_000 });
  return graph;
}

describe('a notification the queue gives up on', () => {
  it('whose change was applied is finished: its dependents are notified and its outcome is "updated"', async () => {
    dir = mkdtempSync(join(tmpdir(), 'troupe-abandoned-'));
    const store = new SqliteStore({ path: join(dir, 'state.db') });
    closing.push(() => store.close());
    // b's change is written, then its process hangs in the outcome write and is killed.
    const graph = await restart(store, await killedDuring(store, (write) => write.id === 'b+a+v2'));
    expect((await graph.items()).map(({ id, version }) => `${id}@${version}`)).toEqual(['a@2', 'b@2', 'c@2']);
    expect((await graph.outcomes()).map((outcome) => `${outcome.id} ${outcome.outcome}`).sort()).toEqual(['b+a+v2 updated', 'c+b+v2 updated']);
  });

  it('that changed nothing gets the outcome "failed", naming why, and nothing else changes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'troupe-abandoned-'));
    const store = new SqliteStore({ path: join(dir, 'state.db') });
    closing.push(() => store.close());
    // b's process hangs in its item write and is killed: nothing of b's change is written.
    const graph = await restart(store, await killedDuring(store, (write) => write.collection === 'work.chain.items' && write.id === 'b'));
    expect((await graph.items()).map(({ id, version }) => `${id}@${version}`)).toEqual(['a@2', 'b@1', 'c@1']);
    const [outcome] = await graph.outcomes();
    expect(outcome).toMatchObject({ id: 'b+a+v2', outcome: 'failed', note: 'the queue gave up on it: its process died during its last attempt (3 of 3)' });
  });
});
