import { afterEach, describe, expect, it } from 'vitest';
import type { AppendOptions, PutOptions, StateStore, BatchWrite } from '../../src/store/index.js';
import { WorkGraph, type WorkEvent, type WorkGraphDefinition } from '../../src/work/index.js';
import { useRedis } from '../support/redis.js';
import { embeddedSetup, redisSetup, trackingModel, type OpenSetup, type WorkSetup } from './support.js';

const redis = await useRedis();

const chain: WorkGraphDefinition = { name: 'chain', items: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }, { id: 'c', dependsOn: ['b'] }] };

/** A point where the "process" dies: before or after the store call that matches. */
interface Death {
  when: 'before' | 'after';
  matches: (call: { method: 'append' | 'put'; collection: string; value: { type?: string; item?: string; id?: string } }) => boolean;
  died?: boolean;
}

/** The store, except that each death throws once at its point, as a killed process would stop there. */
function dying(store: StateStore, deaths: Death[]): StateStore {
  const wrap =
    (method: 'append' | 'put') =>
    async (...args: unknown[]) => {
      const [collection, second, third] = args as [string, unknown, unknown];
      const value = (method === 'append' ? second : third) as { type?: string; item?: string; id?: string };
      const death = deaths.find((candidate) => !candidate.died && candidate.matches({ method, collection, value }));
      if (death?.when === 'before') {
        death.died = true;
        throw new Error('process died');
      }
      const result =
        method === 'append'
          ? await store.append(collection, second as never, args[2] as AppendOptions | undefined)
          : await store.put(collection, second as string, third as never, args[3] as PutOptions | undefined);
      if (death) {
        death.died = true;
        throw new Error('process died');
      }
      return result;
    };
  // A batch dies before or after itself when one of its writes matches: it is written whole or not at all.
  const wrapBatch = async (writes: readonly BatchWrite[]) => {
    const calls = writes.map((write): Parameters<Death['matches']>[0] =>
      write.kind === 'append'
        ? { method: 'append', collection: write.stream, value: write.entry as { type?: string } }
        : { method: 'put', collection: write.collection, value: write.value as { id?: string } },
    );
    const death = deaths.find((candidate) => !candidate.died && calls.some((call) => candidate.matches(call)));
    if (death?.when === 'before') {
      death.died = true;
      throw new Error('process died');
    }
    const result = await store.batch(writes);
    if (death) {
      death.died = true;
      throw new Error('process died');
    }
    return result;
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'append' || property === 'put') return wrap(property);
      if (property === 'batch') return wrapBatch;
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One line per event that describes a change or an outcome, for counting. */
function described(events: Array<{ entry: WorkEvent }>): string[] {
  return events.flatMap(({ entry }) =>
    entry.type === 'item-change'
      ? [`change ${entry.item} v${entry.version}`]
      : entry.type === 'notification-outcome'
        ? [`outcome ${entry.id} ${entry.outcome}`]
        : [],
  );
}

function eventStreamTests(label: string, open: OpenSetup, enabled = true): void {
  describe.runIf(enabled)(`work events and retention: ${label}`, () => {
    const opened: Array<{ setup: WorkSetup; graph: WorkGraph }> = [];
    afterEach(async () => {
      for (const { setup, graph } of opened.splice(0)) {
        await graph.close({ graceMs: 500 });
        await setup.cleanup();
      }
    });

    function start(definition: WorkGraphDefinition, wrap: (store: StateStore) => StateStore = (store) => store) {
      const setup = open();
      const graph = new WorkGraph(definition, { store: wrap(setup.store), queue: setup.queue, model: trackingModel(), maxJobAttempts: 5 });
      opened.push({ setup, graph });
      return graph;
    }

    it('has exactly one event per applied change and per outcome when jobs die between their steps', async () => {
      const deaths: Death[] = [
        // b's job dies after writing b, before its change event.
        { when: 'before', matches: ({ method, value }) => method === 'append' && value.type === 'item-change' && value.item === 'b' },
        // c's job dies right after appending c's change event, then before appending its outcome event.
        { when: 'after', matches: ({ method, value }) => method === 'append' && value.type === 'item-change' && value.item === 'c' },
        { when: 'before', matches: ({ method, value }) => method === 'append' && value.type === 'notification-outcome' && value.item === 'c' },
        // b's retry dies after appending its outcome event, before recording the outcome.
        { when: 'after', matches: ({ method, value }) => method === 'append' && value.type === 'notification-outcome' && value.item === 'b' },
      ];
      const graph = start(chain, (store) => dying(store, deaths));
      await graph.seed();
      await graph.work({ concurrency: 2 });
      await graph.change('a', { content: 'go', summary: 'a person edited a' });
      await graph.waitUntilQuiet({ timeoutMs: 30_000 });
      expect(deaths.map((death) => death.died)).toEqual([true, true, true, true]);
      expect((await graph.items()).map(({ id, version }) => `${id}@${version}`)).toEqual(['a@2', 'b@2', 'c@2']);
      expect(described(await graph.events()).sort()).toEqual(['change a v2', 'change b v2', 'change c v2', 'outcome b+a+v2 updated', 'outcome c+b+v2 updated']);
      expect((await graph.outcomes()).map((outcome) => outcome.id).sort()).toEqual(['b+a+v2', 'c+b+v2']);
    }, 60_000);

    it("appends a direct change's event when its process died before it, once, when a worker starts", async () => {
      const setup = open();
      const deaths: Death[] = [{ when: 'before', matches: ({ method, value }) => method === 'append' && value.type === 'item-change' && value.item === 'a' }];
      const before = new WorkGraph(chain, { store: dying(setup.store, deaths), queue: setup.queue, model: trackingModel() });
      await before.seed();
      await expect(before.change('a', { content: 'go', summary: 'a person edited a' })).rejects.toThrow('process died');
      const after = new WorkGraph(chain, { store: setup.store, queue: setup.queue, model: trackingModel() });
      opened.push({ setup, graph: after });
      await after.work({ concurrency: 2 });
      await after.waitUntilQuiet({ timeoutMs: 30_000 });
      // A second worker start sweeps again: nothing doubles.
      await after.work({ concurrency: 2 }).catch(() => {});
      await after.waitUntilQuiet({ timeoutMs: 30_000 });
      expect(described(await after.events()).sort()).toEqual(['change a v2', 'change b v2', 'change c v2', 'outcome b+a+v2 updated', 'outcome c+b+v2 updated']);
    }, 60_000);

    it('trims outcomes after retention.outcomesMs and keeps the newest retention.events events', async () => {
      const fan: WorkGraphDefinition = {
        name: 'fan',
        retention: { outcomesMs: 1500, events: 8 },
        items: [{ id: 'hub' }, ...Array.from({ length: 12 }, (_, i) => ({ id: `leaf-${i}`, dependsOn: ['hub'] }))],
      };
      const graph = start(fan);
      await graph.seed();
      await graph.work({ concurrency: 4 });
      await graph.change('hub', { content: 'go', summary: 'go' });
      await graph.waitUntilQuiet({ timeoutMs: 30_000 });
      // 1 change of the hub, 12 of the leaves, 12 outcomes: 25 events, of which about the last 8 are kept.
      const events = await graph.events();
      expect(events.length).toBeGreaterThanOrEqual(8);
      expect(events.length).toBeLessThanOrEqual(9);
      expect(events.at(-1)!.seq).toBe(25);
      expect(events.map((event) => event.seq)).toEqual(Array.from({ length: events.length }, (_, i) => 26 - events.length + i));
      await waitFor(async () => (await graph.outcomes()).length === 0, 30_000, 'the outcomes to expire');
      expect(await graph.store.get(`work.fan.notifications`, 'leaf-0+hub+v2')).toBeUndefined();
      expect((await graph.store.list(`work.fan.notifications`)).items).toEqual([]);
    }, 60_000);

    it('keeps an outcome for retention.outcomesMs: a notification delivered again within it is ignored', async () => {
      const graph = start({ ...chain, retention: { outcomesMs: 10 * 60_000 } });
      await graph.seed();
      await graph.work({ concurrency: 2 });
      await graph.change('a', { content: 'go', summary: 'go' });
      await graph.waitUntilQuiet({ timeoutMs: 30_000 });
      const first = (await graph.outcomes()).find((outcome) => outcome.item === 'b')!;
      const data = { id: first.id, item: 'b', source: 'a', sourceVersion: 2, summary: 'go', content: 'go', depth: 1, origin: first.origin };
      await graph.queue.add('notify', data, { jobId: 'delivered-again' });
      await graph.waitUntilQuiet({ timeoutMs: 30_000 });
      expect((await graph.items()).map(({ id, version }) => `${id}@${version}`)).toEqual(['a@2', 'b@2', 'c@2']);
      expect(await graph.outcomes()).toHaveLength(2);
      expect(described(await graph.events())).toHaveLength(5);
    }, 60_000);
  });
}

eventStreamTests('embedded (FileStore, InProcessQueue)', embeddedSetup);
eventStreamTests('Redis (RedisStore, BullMQ)', redisSetup, redis);
