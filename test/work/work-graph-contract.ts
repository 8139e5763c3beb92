import { afterEach, describe, expect, it } from 'vitest';
import type { AppendOptions, StateStore } from '../../src/store/index.js';
import { WorkGraph, type WorkGraphDefinition } from '../../src/work/index.js';
import { trackingModel, type OpenSetup, type WorkSetup } from './support.js';

const chain: WorkGraphDefinition = { name: 'chain', items: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }, { id: 'c', dependsOn: ['b'] }] };
const diamond: WorkGraphDefinition = {
  name: 'diamond',
  items: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }, { id: 'c', dependsOn: ['a'] }, { id: 'd', dependsOn: ['b', 'c'] }],
};
const fanOut: WorkGraphDefinition = {
  name: 'fan-out',
  items: [{ id: 'hub' }, ...Array.from({ length: 20 }, (_, i) => ({ id: `leaf-${i}`, dependsOn: ['hub'] }))],
};

/** Every dependent's content says which version of each dependency it follows: at quiet, the latest. */
async function expectConsistent(graph: WorkGraph): Promise<void> {
  const versions = new Map((await graph.items()).map((item) => [item.id, item]));
  for (const [id, definition] of graph.spec.items) {
    if (!definition.dependsOn?.length) continue;
    const seen = JSON.parse(versions.get(id)!.content) as Record<string, number>;
    for (const dependency of definition.dependsOn) expect(seen[dependency], `${id} follows ${dependency}`).toBe(versions.get(dependency)!.version);
  }
}

/**
 * The work-graph contract, run on the embedded setup (FileStore, in-process queue) and on Redis
 * (RedisStore, BullMQ): propagation, idempotent retries, chat and quiet detection.
 */
export function workGraphContract(label: string, open: OpenSetup, enabled = true): void {
  describe.runIf(enabled)(`WorkGraph contract: ${label}`, () => {
    const opened: Array<{ setup: WorkSetup; graph: WorkGraph }> = [];
    afterEach(async () => {
      for (const { setup, graph } of opened.splice(0)) {
        await graph.close({ graceMs: 500 });
        await setup.cleanup();
      }
    });

    async function start(definition: WorkGraphDefinition, options: { store?: (store: StateStore) => StateStore; concurrency?: number } = {}) {
      const setup = open();
      const model = trackingModel();
      const store = options.store ? options.store(setup.store) : setup.store;
      const graph = new WorkGraph(definition, { store, queue: setup.queue, model, maxJobAttempts: 3 });
      opened.push({ setup, graph });
      await graph.seed();
      await graph.work({ concurrency: options.concurrency ?? 4 });
      return { graph, model };
    }

    it('propagates a change along a chain, one notification per dependent, until quiet', async () => {
      const { graph, model } = await start(chain);
      const answer = await graph.chat('a', 'Please\nset hello\n');
      expect(answer).toMatchObject({ changed: true, answer: 'set to hello', item: { id: 'a', version: 2, content: 'hello' }, notified: ['b'] });
      await graph.waitUntilQuiet({ timeoutMs: 15_000 });
      expect(await graph.isQuiet()).toBe(true);
      expect((await graph.items()).map(({ id, version }) => `${id}@${version}`)).toEqual(['a@2', 'b@2', 'c@2']);
      await expectConsistent(graph);
      const outcomes = await graph.outcomes();
      expect(outcomes.map(({ id, outcome, depth }) => `${id} ${outcome} ${depth}`).sort()).toEqual(['b+a+v2 updated 1', 'c+b+v2 updated 2']);
      expect(model.callCount).toBe(3);
      const events = (await graph.events()).map(({ entry }) => entry.type);
      expect(events.filter((type) => type === 'item-change')).toHaveLength(3);
      expect(events.filter((type) => type === 'notification-outcome')).toHaveLength(2);
    });

    it('propagates through a diamond: the joining item hears from both sides and ends consistent', async () => {
      const { graph, model } = await start(diamond);
      await graph.chat('a', 'set 1');
      await graph.waitUntilQuiet({ timeoutMs: 15_000 });
      const items = Object.fromEntries((await graph.items()).map((item) => [item.id, item.version]));
      expect(items).toEqual({ a: 2, b: 2, c: 2, d: 3 });
      await expectConsistent(graph);
      expect((await graph.outcomes()).map((outcome) => outcome.id).sort()).toEqual(['b+a+v2', 'c+a+v2', 'd+b+v2', 'd+c+v2']);
      // d's later decisions were made with the earlier ones in its conversation (three turns when the
      // two notifications ran at once and one decision met a newer d and was made again).
      const turns = await graph.conversation('d');
      expect(turns.length).toBeGreaterThanOrEqual(2);
      const lastCall = model.calls.filter((call) => call.system?.includes(`work item "d"`)).at(-1)!;
      expect(lastCall.messages.length).toBeGreaterThan(1);
    });

    it('fans out to every dependent exactly once', async () => {
      const { graph } = await start(fanOut, { concurrency: 8 });
      await graph.change('hub', { content: 'v2', summary: 'edited by hand' });
      await graph.waitUntilQuiet({ timeoutMs: 15_000 });
      const outcomes = await graph.outcomes();
      expect(outcomes).toHaveLength(20);
      expect(new Set(outcomes.map((outcome) => outcome.item)).size).toBe(20);
      expect(outcomes.every((outcome) => outcome.outcome === 'updated' && outcome.version === 2)).toBe(true);
      await expectConsistent(graph);
    });

    it('reports quiet only when no notification is pending, and is quiet again after', async () => {
      const setup = open();
      const graph = new WorkGraph(chain, { store: setup.store, queue: setup.queue, model: trackingModel() });
      opened.push({ setup, graph });
      expect(await graph.isQuiet()).toBe(true);
      await graph.change('a', { content: 'x', summary: 'x' });
      // Nobody works yet: the notification waits.
      expect(await graph.isQuiet()).toBe(false);
      await expect(graph.waitUntilQuiet({ timeoutMs: 200 })).rejects.toMatchObject({ code: 'work_graph_not_quiet' });
      await graph.work();
      await graph.waitUntilQuiet({ timeoutMs: 15_000 });
      expect(await graph.isQuiet()).toBe(true);
      expect((await graph.item('c')).version).toBe(2);
    });

    it('never applies a change twice when a job dies after writing its item, and still notifies onwards', async () => {
      let failed = false;
      // The event append that follows b's write fails once: the job fails after its change was stored.
      const failOnce = (store: StateStore): StateStore =>
        new Proxy(store, {
          get(target, property, receiver) {
            if (property === 'append') {
              return async (stream: string, entry: { type?: string; item?: string }, options?: AppendOptions) => {
                if (!failed && entry.type === 'item-change' && entry.item === 'b') {
                  failed = true;
                  throw new Error('process died');
                }
                return target.append(stream, entry as never, options);
              };
            }
            const value = Reflect.get(target, property, receiver) as unknown;
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        });
      const { graph, model } = await start(chain, { store: failOnce });
      await graph.chat('a', 'set once');
      await graph.waitUntilQuiet({ timeoutMs: 15_000 });
      expect(failed).toBe(true);
      expect((await graph.items()).map(({ id, version }) => `${id}@${version}`)).toEqual(['a@2', 'b@2', 'c@2']);
      const b = (await graph.outcomes()).find((outcome) => outcome.item === 'b')!;
      expect(b).toMatchObject({ outcome: 'updated', version: 2, notified: ['c'] });
      expect(b.note).toMatch(/recovered after a retry/);
      // b's agent was asked once: the retry found the change on the item.
      expect(model.calls.filter((call) => call.system?.includes('work item "b"'))).toHaveLength(1);
      await expectConsistent(graph);
    });

    it('sends the notifications of a direct change whose process died before queuing them, when a worker starts', async () => {
      const setup = open();
      let dropped = false;
      // The first notification never reaches the queue: as if the process died right after writing a.
      const lossy = new Proxy(setup.queue, {
        get(target, property, receiver) {
          if (property === 'add') {
            return async (...args: Parameters<typeof target.add>) => {
              if (!dropped) {
                dropped = true;
                throw new Error('process died');
              }
              return target.add(...args);
            };
          }
          const value = Reflect.get(target, property, receiver) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const before = new WorkGraph(chain, { store: setup.store, queue: lossy, model: trackingModel(), maxJobAttempts: 3 });
      await before.seed();
      await expect(before.change('a', { content: '1', summary: 'set a' })).rejects.toThrow('process died');
      expect((await before.item('a')).version).toBe(2);

      const after = new WorkGraph(chain, { store: setup.store, queue: setup.queue, model: trackingModel(), maxJobAttempts: 3 });
      opened.push({ setup, graph: after });
      await after.work({ concurrency: 2 });
      await after.waitUntilQuiet({ timeoutMs: 15_000 });
      expect((await after.items()).map(({ id, version }) => `${id}@${version}`)).toEqual(['a@2', 'b@2', 'c@2']);
      expect((await after.outcomes()).map((o) => `${o.item}:${o.outcome}`).sort()).toEqual(['b:updated', 'c:updated']);
      await expectConsistent(after);
    });

    it('ignores a notification delivered again, even under another job id', async () => {
      const { graph } = await start(chain);
      await graph.chat('a', 'set 1');
      await graph.waitUntilQuiet({ timeoutMs: 15_000 });
      const [first] = await graph.outcomes();
      const data = {
        id: first!.id,
        item: first!.item,
        source: first!.source,
        sourceVersion: first!.sourceVersion,
        summary: 's',
        content: '1',
        depth: 1,
        origin: first!.origin,
      };
      await graph.queue.add('notify', data, { jobId: first!.id });
      await graph.queue.add('notify', data, { jobId: 'redelivered-1' });
      await graph.waitUntilQuiet({ timeoutMs: 15_000 });
      expect((await graph.items()).map(({ id, version }) => `${id}@${version}`)).toEqual(['a@2', 'b@2', 'c@2']);
      expect(await graph.outcomes()).toHaveLength(2);
    });

    it('lets a person talk to an item: answers are kept, questions change nothing, changes flow', async () => {
      const { graph } = await start(chain);
      const question = await graph.chat('b', 'What do you hold?');
      expect(question).toMatchObject({ changed: false, answer: 'b is fine as it is', notified: [], item: { version: 1 } });
      expect(await graph.isQuiet()).toBe(true);
      const change = await graph.chat('b', 'set {"a":1}');
      expect(change).toMatchObject({ changed: true, item: { version: 2 }, notified: ['c'] });
      await graph.waitUntilQuiet({ timeoutMs: 15_000 });
      expect((await graph.item('c')).version).toBe(2);
      const turns = await graph.conversation('b');
      expect(turns.map((turn) => turn.decision.kind)).toEqual(['no-change', 'update']);
      const chats = (await graph.events()).flatMap(({ entry }) => (entry.type === 'chat' ? [entry] : []));
      expect(chats.map(({ message, answer, changed }) => ({ message, answer, changed }))).toEqual([
        { message: 'What do you hold?', answer: 'b is fine as it is', changed: false },
        { message: 'set {"a":1}', answer: 'set to {"a":1}', changed: true },
      ]);
    });

    it('bounds a cycle by causal depth and by the per-item update budget, and records the stops', async () => {
      const loop = (name: string, limits: WorkGraphDefinition['limits']): WorkGraphDefinition => ({
        name,
        cycles: 'allow',
        ...(limits ? { limits } : {}),
        items: [
          { id: 'a', dependsOn: ['b'] },
          { id: 'b', dependsOn: ['a'] },
        ],
      });
      // The tracking agents always update when told of a newer version, so only a bound ends this.
      const deep = await start(loop('loop-depth', { maxDepth: 4, maxUpdatesPerItem: 10 }));
      await deep.graph.chat('a', 'set {}');
      await deep.graph.waitUntilQuiet({ timeoutMs: 15_000 });
      expect((await deep.graph.items()).map(({ id, version }) => `${id}@${version}`)).toEqual(['a@4', 'b@3']);
      const bounded = (await deep.graph.events()).flatMap(({ entry }) => (entry.type === 'notification-bounded' ? [entry] : []));
      expect(bounded).toMatchObject([{ item: 'b', source: 'a', sourceVersion: 4, depth: 5, bound: 'depth', maxDepth: 4 }]);
      expect((await deep.graph.outcomes()).find((outcome) => outcome.notNotified.length > 0)).toMatchObject({ item: 'a', notNotified: ['b'] });

      const budget = await start(loop('loop-budget', { maxDepth: 50, maxUpdatesPerItem: 2 }));
      await budget.graph.chat('a', 'set {}');
      await budget.graph.waitUntilQuiet({ timeoutMs: 15_000 });
      expect((await budget.graph.items()).map(({ id, version }) => `${id}@${version}`)).toEqual(['a@4', 'b@3']);
      const stopped = (await budget.graph.outcomes()).filter((outcome) => outcome.outcome === 'bounded');
      expect(stopped).toMatchObject([{ item: 'b', bound: 'update-budget', source: 'a', sourceVersion: 4 }]);
    });
  });
}
