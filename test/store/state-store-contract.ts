import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors/configuration-error.js';
import type { JsonValue } from '../../src/core/json.js';
import { NotJsonError, VersionConflictError, type StateStore } from '../../src/store/index.js';

/** A fresh, empty store for one test, and a second handle on the same state, as another process would open it. */
export interface OpenedStore {
  store: StateStore;
  /** Another store instance on the same state: its in-process queues are its own, so writes really race. */
  sibling(): StateStore;
  cleanup(): Promise<void>;
}

/**
 * The behaviour every StateStore must have (STYLE.md point 3), registered as `describe` blocks.
 * `enabled: false` registers them skipped (Redis absent outside CI).
 */
export function stateStoreContract(name: string, open: () => Promise<OpenedStore>, enabled = true): void {
  describe.runIf(enabled)(`${name} (StateStore contract)`, () => {
    let opened: OpenedStore;
    let store: StateStore;
    const siblings: StateStore[] = [];
    const sibling = () => {
      const other = opened.sibling();
      siblings.push(other);
      return other;
    };

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });

    afterEach(async () => {
      await Promise.all(siblings.splice(0).map((other) => other.close()));
      await store.close();
      await opened.cleanup();
    });

    describe('documents', () => {
      it('creates, reads, replaces and deletes, counting versions from 1', async () => {
        expect(await store.get('runs', 'run_1')).toBeUndefined();
        expect(await store.put('runs', 'run_1', { status: 'running' })).toEqual({ id: 'run_1', version: 1, value: { status: 'running' } });
        expect(await store.get('runs', 'run_1')).toEqual({ id: 'run_1', version: 1, value: { status: 'running' } });
        expect((await store.put('runs', 'run_1', { status: 'done' })).version).toBe(2);
        expect(await store.get('runs', 'run_1')).toEqual({ id: 'run_1', version: 2, value: { status: 'done' } });
        expect(await store.delete('runs', 'run_1')).toBe(true);
        expect(await store.get('runs', 'run_1')).toBeUndefined();
        expect(await store.delete('runs', 'run_1')).toBe(false);
        expect((await store.put('runs', 'run_1', 'again')).version).toBe(1);
      });

      it("tells a document's version without reading it, where the store can", async () => {
        if (!store.version) return;
        expect(await store.version('runs', 'run_v')).toBeUndefined();
        await store.put('runs', 'run_v', { items: ['a', 'b'] });
        expect(await store.version('runs', 'run_v')).toBe(1);
        await store.put('runs', 'run_v', { items: ['a', 'b', 'c'] });
        expect(await store.version('runs', 'run_v')).toBe(2);
        expect(await store.version('runs', 'RUN_V')).toBeUndefined();
        await store.put('runs', 'run_short', { status: 'x' }, { ttlMs: 1 });
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(await store.version('runs', 'run_short')).toBeUndefined();
        await store.delete('runs', 'run_v');
        expect(await store.version('runs', 'run_v')).toBeUndefined();
      });

      it('round-trips any JSON value, and keeps collections and ids apart (case included)', async () => {
        const values: JsonValue[] = [
          null,
          0,
          -1.5,
          1e300,
          true,
          '',
          'line\nbreak "quoted" \u00e9\u{1F600}',
          [],
          [1, [2, { a: null }]],
          { nested: { deep: [true, 'x'] } },
        ];
        for (const [index, value] of values.entries()) await store.put('values', `v${index}`, value);
        for (const [index, value] of values.entries()) expect((await store.get('values', `v${index}`))?.value).toEqual(value);
        await store.put('cases', 'Ab', 'upper');
        await store.put('cases', 'ab', 'lower');
        await store.put('other', 'ab', 'other collection');
        expect((await store.get('cases', 'Ab'))?.value).toBe('upper');
        expect((await store.get('cases', 'ab'))?.value).toBe('lower');
        expect((await store.get('other', 'ab'))?.value).toBe('other collection');
      });

      it('refuses a put at the wrong version with a typed error naming both versions', async () => {
        await store.put('runs', 'run_1', 1);
        await store.put('runs', 'run_1', 2);
        const error = await store.put('runs', 'run_1', 3, { expectedVersion: 1 }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(VersionConflictError);
        expect(error).toMatchObject({ code: 'store_version_conflict', collection: 'runs', id: 'run_1', expectedVersion: 1, actualVersion: 2 });
        expect((error as Error).message).toMatch(/"runs\/run_1".*expected version 1.*found version 2/);
        expect(await store.get('runs', 'run_1')).toMatchObject({ version: 2, value: 2 });
        expect((await store.put('runs', 'run_1', 3, { expectedVersion: 2 })).version).toBe(3);
      });

      it('treats expectedVersion 0 as "must not exist": exactly one of racing creators wins', async () => {
        const other = sibling();
        const attempts = Array.from({ length: 8 }, (_, index) => (index % 2 ? other : store).put('locks', 'owner', { index }, { expectedVersion: 0 }));
        const results = await Promise.allSettled(attempts);
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        for (const result of results)
          if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'store_version_conflict', expectedVersion: 0, actualVersion: 1 });
        const error = await store.put('locks', 'owner', {}, { expectedVersion: 0 }).catch((caught: unknown) => caught);
        expect((error as Error).message).toMatch(/expected it not to exist, but found version 1/);
      });

      it('deletes at an expected version only', async () => {
        await store.put('runs', 'run_1', 'x');
        await expect(store.delete('runs', 'run_1', { expectedVersion: 2 })).rejects.toMatchObject({ expectedVersion: 2, actualVersion: 1 });
        await expect(store.delete('runs', 'missing', { expectedVersion: 1 })).rejects.toThrow(/it does not exist/);
        expect(await store.delete('runs', 'missing', { expectedVersion: 0 })).toBe(false);
        expect(await store.delete('runs', 'run_1', { expectedVersion: 1 })).toBe(true);
      });
    });

    describe('update', () => {
      it('passes the current value (undefined when missing) and its version, and writes the result', async () => {
        const seen: unknown[] = [];
        await store.update<number>('counters', 'c', (current, version) => {
          seen.push([current, version]);
          return (current ?? 10) + 1;
        });
        await store.update<number>('counters', 'c', (current, version) => {
          seen.push([current, version]);
          return (current ?? 10) + 1;
        });
        expect(seen).toEqual([
          [undefined, 0],
          [11, 1],
        ]);
        expect(await store.get('counters', 'c')).toEqual({ id: 'c', version: 2, value: 12 });
      });

      it('ends with the exact total when many updates of one counter race, from two store instances', async () => {
        const other = sibling();
        const increments = Array.from({ length: 40 }, (_, index) =>
          (index % 2 ? other : store).update<number>('counters', 'shared', async (current) => {
            await new Promise((resolve) => setImmediate(resolve));
            return (current ?? 0) + 1;
          }),
        );
        await Promise.all(increments);
        expect(await store.get('counters', 'shared')).toEqual({ id: 'shared', version: 40, value: 40 });
      });

      it("gives up after maxAttempts with a conflict that says so, and passes on the updater's own errors", async () => {
        const other = sibling();
        let calls = 0;
        const error = await store
          .update<number>(
            'counters',
            'busy',
            async (current) => {
              calls++;
              await other.put('counters', 'busy', 1000 + calls); // someone always gets in first
              return (current ?? 0) + 1;
            },
            { maxAttempts: 3 },
          )
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(VersionConflictError);
        expect((error as Error).message).toMatch(/gave up after 3 attempts/);
        expect(calls).toBe(3);
        await expect(store.update('counters', 'c', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
        expect(await store.get('counters', 'c')).toBeUndefined();
      });
    });

    describe('list', () => {
      const ids = ['b', 'a-2', 'A', 'a.1', 'a_3', 'c', 'a', 'B9', 'a-10'];
      const byteOrder = [...ids].sort((x, y) => (Buffer.from(x) < Buffer.from(y) ? -1 : 1));

      beforeEach(async () => {
        for (const id of ids) await store.put('items', id, { id });
        await store.put('elsewhere', 'zzz', 1);
      });

      it('lists documents in id order, with their versions', async () => {
        const page = await store.list('items');
        expect(page.items.map((item) => item.id)).toEqual(byteOrder);
        expect(page.next).toBeUndefined();
        expect(page.items[0]).toEqual({ id: 'A', version: 1, value: { id: 'A' } });
        expect(await store.list('nothing-here')).toEqual({ items: [] });
      });

      it('pages with limit and the cursor it returns, without repeats or gaps', async () => {
        const seen: string[] = [];
        let after: string | undefined;
        let pages = 0;
        do {
          const page = await store.list('items', after === undefined ? { limit: 2 } : { limit: 2, after });
          expect(page.items.length).toBeLessThanOrEqual(2);
          seen.push(...page.items.map((item) => item.id));
          after = page.next;
          pages++;
        } while (after !== undefined);
        expect(seen).toEqual(byteOrder);
        expect(pages).toBe(5);
      });

      it('filters by prefix, also together with a cursor, and leaves out deleted documents', async () => {
        expect((await store.list('items', { prefix: 'a' })).items.map((item) => item.id)).toEqual(['a', 'a-10', 'a-2', 'a.1', 'a_3']);
        expect((await store.list('items', { prefix: 'a-' })).items.map((item) => item.id)).toEqual(['a-10', 'a-2']);
        const first = await store.list('items', { prefix: 'a', limit: 2 });
        expect(first).toMatchObject({ next: 'a-10' });
        expect((await store.list('items', { prefix: 'a', after: 'a-10' })).items.map((item) => item.id)).toEqual(['a-2', 'a.1', 'a_3']);
        expect((await store.list('items', { prefix: 'zz' })).items).toEqual([]);
        await store.delete('items', 'a-2');
        expect((await store.list('items', { prefix: 'a-' })).items.map((item) => item.id)).toEqual(['a-10']);
      });
    });

    describe('streams', () => {
      it('numbers entries 1, 2, 3 per stream and reads them back with after and limit', async () => {
        expect(await store.append('run_1.transitions', { to: 'started' })).toBe(1);
        expect(await store.append('run_1.transitions', { to: 'waiting', note: 'line\nbreak' })).toBe(2);
        expect(await store.append('run_2.transitions', 'other stream')).toBe(1);
        expect(await store.append('run_1.transitions', null)).toBe(3);
        expect(await store.read('run_1.transitions')).toEqual([
          { seq: 1, entry: { to: 'started' } },
          { seq: 2, entry: { to: 'waiting', note: 'line\nbreak' } },
          { seq: 3, entry: null },
        ]);
        expect(await store.read('run_1.transitions', { after: 1, limit: 1 })).toEqual([{ seq: 2, entry: { to: 'waiting', note: 'line\nbreak' } }]);
        expect(await store.read('run_1.transitions', { after: 3 })).toEqual([]);
        expect(await store.read('run_1.transitions', { after: 10 })).toEqual([]);
        expect(await store.read('never-written')).toEqual([]);
      });

      it('hands out sequence numbers without gaps or duplicates when appends race, from two store instances', async () => {
        const other = sibling();
        const count = 60;
        const seqs = await Promise.all(Array.from({ length: count }, (_, index) => (index % 2 ? other : store).append('events', { index })));
        expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, index) => index + 1));
        const entries = await store.read<{ index: number }>('events', { limit: 1000 });
        expect(entries.map((entry) => entry.seq)).toEqual(Array.from({ length: count }, (_, index) => index + 1));
        expect(new Set(entries.map((entry) => entry.entry.index)).size).toBe(count);
        // Each append's returned number is the position its own entry was read back at.
        for (const [index, seq] of seqs.entries()) expect(entries[seq - 1]?.entry.index).toBe(index);
      });
    });

    describe('batch', () => {
      it('writes puts and appends as one, in order, returning each version and sequence number', async () => {
        await store.put('runs', 'run_1', 'before');
        const results = await store.batch([
          { kind: 'append', stream: 'run_1.transitions', entry: { to: 'started' } },
          { kind: 'put', collection: 'runs', id: 'run_1', value: { status: 'running' }, options: { expectedVersion: 1 } },
          { kind: 'put', collection: 'items', id: 'run_1.a', value: 'new', options: { expectedVersion: 0 } },
          // The same document again: its compare-and-set sees the version the earlier put gave it.
          { kind: 'put', collection: 'runs', id: 'run_1', value: { status: 'done' }, options: { expectedVersion: 2 } },
          { kind: 'append', stream: 'run_1.transitions', entry: { to: 'done' } },
        ]);
        expect(results).toEqual([1, 2, 1, 3, 2]);
        expect(await store.get('runs', 'run_1')).toEqual({ id: 'run_1', version: 3, value: { status: 'done' } });
        expect(await store.get('items', 'run_1.a')).toMatchObject({ version: 1, value: 'new' });
        expect((await store.read('run_1.transitions')).map((entry) => entry.entry)).toEqual([{ to: 'started' }, { to: 'done' }]);
        expect(await store.batch([])).toEqual([]);
      });

      it('writes nothing at all when one compare-and-set fails, and says which document', async () => {
        await store.put('runs', 'run_1', 'one');
        await store.put('runs', 'run_1', 'two');
        const error = await store
          .batch([
            { kind: 'append', stream: 'log', entry: 'never' },
            { kind: 'put', collection: 'items', id: 'fresh', value: 'never' },
            { kind: 'put', collection: 'runs', id: 'run_1', value: 'stale', options: { expectedVersion: 1 } },
          ])
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(VersionConflictError);
        expect(error).toMatchObject({ collection: 'runs', id: 'run_1', expectedVersion: 1, actualVersion: 2 });
        expect(await store.read('log')).toEqual([]);
        expect(await store.get('items', 'fresh')).toBeUndefined();
        expect(await store.get('runs', 'run_1')).toMatchObject({ version: 2, value: 'two' });
        // A later append numbers from 1: the refused batch took no sequence number.
        expect(await store.append('log', 'first')).toBe(1);
      });

      it('writes nothing when one value is not JSON', async () => {
        const error = await store
          .batch([
            { kind: 'put', collection: 'items', id: 'a', value: 'fine' },
            { kind: 'append', stream: 'log', entry: { bad: undefined } as unknown as JsonValue },
          ])
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(NotJsonError);
        expect(await store.get('items', 'a')).toBeUndefined();
        expect(await store.read('log')).toEqual([]);
      });

      it('keeps keyed appends idempotent inside a batch', async () => {
        expect(await store.append('keyed', 'first', { key: 'k' })).toBe(1);
        const results = await store.batch([
          { kind: 'append', stream: 'keyed', entry: 'again', options: { key: 'k' } },
          { kind: 'append', stream: 'keyed', entry: 'second', options: { key: 'l' } },
          { kind: 'put', collection: 'items', id: 'a', value: 1 },
        ]);
        expect(results).toEqual([1, 2, 1]);
        expect((await store.read('keyed')).map((entry) => entry.entry)).toEqual(['first', 'second']);
      });

      it('lets exactly one of racing batches that create the same document win, from two store instances', async () => {
        const other = sibling();
        const attempts = Array.from({ length: 8 }, (_, index) =>
          (index % 2 ? other : store).batch([
            { kind: 'append', stream: 'claims', entry: { index } },
            { kind: 'put', collection: 'locks', id: 'owner', value: { index }, options: { expectedVersion: 0 } },
          ]),
        );
        const results = await Promise.allSettled(attempts);
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(VersionConflictError);
        const owner = (await store.get<{ index: number }>('locks', 'owner'))!.value.index;
        // Only the winner's entry was appended.
        expect((await store.read<{ index: number }>('claims')).map((entry) => entry.entry.index)).toEqual([owner]);
      });
    });

    describe('idempotent appends and retention', () => {
      it("appends an entry with a key once: a repeat returns the first one's number, also from another instance", async () => {
        const other = sibling();
        expect(await store.append('keyed', { n: 1 }, { key: 'a' })).toBe(1);
        expect(await store.append('keyed', { n: 2 })).toBe(2);
        expect(await other.append('keyed', { n: 3 }, { key: 'a' })).toBe(1);
        expect(await store.append('keyed', { n: 4 }, { key: 'b' })).toBe(3);
        // Racing repeats of one key, from both instances: one entry.
        const raced = await Promise.all(Array.from({ length: 20 }, (_, index) => (index % 2 ? other : store).append('keyed', { n: 5 + index }, { key: 'c' })));
        expect(new Set(raced).size).toBe(1);
        expect(raced[0]).toBe(4);
        const numbers = (await store.read<{ n: number }>('keyed')).map((entry) => entry.entry.n);
        expect(numbers).toHaveLength(4);
        expect(numbers.slice(0, 3)).toEqual([1, 2, 4]);
      });

      it('keeps the newest keepLast entries (up to 10 % more) with their numbers, and forgets the keys of trimmed ones', async () => {
        const other = sibling();
        for (let n = 1; n <= 50; n++) await (n % 2 ? store : other).append('kept', { n }, { key: `k${n}`, keepLast: 10 });
        const entries = await store.read<{ n: number }>('kept');
        expect(entries.length).toBeGreaterThanOrEqual(10);
        expect(entries.length).toBeLessThanOrEqual(11);
        expect(entries.at(-1)).toEqual({ seq: 50, entry: { n: 50 } });
        expect(entries.map((entry) => entry.seq)).toEqual(entries.map((entry) => entry.entry.n));
        expect(entries.map((entry) => entry.seq)).toEqual(Array.from({ length: entries.length }, (_, index) => 51 - entries.length + index));
        // Reading after a trimmed number starts at the first kept entry; after and limit still count by number.
        expect((await store.read('kept', { after: 3 })).map((entry) => entry.seq)).toEqual(entries.map((entry) => entry.seq));
        expect(await store.read<{ n: number }>('kept', { after: 48, limit: 1 })).toEqual([{ seq: 49, entry: { n: 49 } }]);
        // A kept key still de-duplicates; a trimmed one does not, and numbers go on from 50.
        expect(await other.append('kept', { n: 0 }, { key: 'k50', keepLast: 10 })).toBe(50);
        expect(await store.append('kept', { n: 51 }, { key: 'k1', keepLast: 10 })).toBe(51);
        expect((await store.read('kept')).at(-1)).toEqual({ seq: 51, entry: { n: 51 } });
      });

      it('lets a document with ttlMs expire: it reads as missing, leaves the list, and can be created again', async () => {
        const written = Date.now();
        await store.put('outcomes', 'old', { n: 1 }, { expectedVersion: 0, ttlMs: 1000 });
        await store.put('outcomes', 'kept', { n: 2 }, { expectedVersion: 0 });
        await store.put('outcomes', 'renewed', { n: 3 }, { ttlMs: 1000 });
        await store.put('outcomes', 'renewed', { n: 4 });
        const early = await store.get('outcomes', 'old');
        // Before its time it reads as written; a loaded machine may already be past it (no race on the clock).
        if (Date.now() - written < 900) expect(early?.value).toEqual({ n: 1 });
        const deadline = Date.now() + 20_000;
        while ((await store.get('outcomes', 'old')) !== undefined) {
          if (Date.now() > deadline) throw new Error('the document did not expire');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect((await store.list('outcomes')).items.map((document) => document.id)).toEqual(['kept', 'renewed']);
        expect((await store.get('outcomes', 'renewed'))?.value).toEqual({ n: 4 });
        expect((await store.put('outcomes', 'old', { n: 5 }, { expectedVersion: 0 })).version).toBe(1);
      });
    });

    describe('batch (as a notification records its outcome)', () => {
      it("applies puts and appends in order and returns each one's version or sequence number", async () => {
        await store.append('log', { n: 0 }, { key: 'seen' });
        const results = await store.batch([
          { kind: 'put', collection: 'docs', id: 'a', value: { n: 1 }, options: { expectedVersion: 0 } },
          { kind: 'append', stream: 'log', entry: { n: 1 }, options: { key: 'new' } },
          { kind: 'put', collection: 'docs', id: 'a', value: { n: 2 }, options: { expectedVersion: 1 } },
          // A kept key: nothing written, the earlier number given, the batch not failed.
          { kind: 'append', stream: 'log', entry: { n: 2 }, options: { key: 'seen' } },
          { kind: 'put', collection: 'docs', id: 'b', value: 'b', options: { ttlMs: 60_000 } },
        ]);
        expect(results).toEqual([1, 2, 2, 1, 1]);
        expect(await store.get('docs', 'a')).toEqual({ id: 'a', version: 2, value: { n: 2 } });
        expect((await store.read('log')).map((entry) => entry.entry)).toEqual([{ n: 0 }, { n: 1 }]);
        expect(await store.batch([])).toEqual([]);
      });

      it('writes nothing of a batch whose put is at the wrong version, and says which put', async () => {
        await store.put('docs', 'a', 'first');
        const batch = store.batch([
          { kind: 'append', stream: 'log', entry: 'never', options: { key: 'k' } },
          { kind: 'put', collection: 'docs', id: 'b', value: 'never' },
          { kind: 'put', collection: 'docs', id: 'a', value: 'never', options: { expectedVersion: 0 } },
        ]);
        await expect(batch).rejects.toBeInstanceOf(VersionConflictError);
        await expect(batch).rejects.toMatchObject({ collection: 'docs', id: 'a', expectedVersion: 0, actualVersion: 1 });
        expect(await store.read('log')).toEqual([]);
        expect(await store.get('docs', 'b')).toBeUndefined();
        expect((await store.get('docs', 'a'))?.value).toBe('first');
      });

      it('records an outcome once when the same batch is delivered again, also racing from another instance', async () => {
        // An outcome document (create-only) and its event (keyed): what a notification records when it ends.
        const record = (target: StateStore, note: string) =>
          target.batch([
            { kind: 'append', stream: 'events', entry: { note }, options: { key: 'outcome:n1', keepLast: 100 } },
            { kind: 'put', collection: 'outcomes', id: 'n1', value: { note }, options: { expectedVersion: 0, ttlMs: 60_000 } },
          ]);
        const other = sibling();
        const settled = await Promise.allSettled(Array.from({ length: 10 }, (_, index) => record(index % 2 ? other : store, `delivery ${index}`)));
        expect(settled.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        for (const result of settled) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(VersionConflictError);
        const events = await store.read<{ note: string }>('events');
        expect(events).toHaveLength(1);
        // Atomic: the event and the document come from the same delivery.
        expect((await store.get<{ note: string }>('outcomes', 'n1'))?.value.note).toBe(events[0]!.entry.note);
        await expect(record(store, 'again')).rejects.toBeInstanceOf(VersionConflictError);
        expect(await store.read('events')).toHaveLength(1);
      });

      it('settles batches issued together one by one: each its own results or its own conflict, none held back by another', async () => {
        await store.put('outcomes', 'taken', 'earlier');
        // What concurrent notifications do when they end in the same tick (the Redis store sends
        // them in one script call): create-only outcomes with unkeyed events, one of them a repeat.
        const record = (id: string) =>
          store.batch([
            { kind: 'append', stream: 'events', entry: { id }, options: { keepLast: 100 } },
            { kind: 'put', collection: 'outcomes', id, value: { id }, options: { expectedVersion: 0, ttlMs: 60_000 } },
          ]);
        const settled = await Promise.allSettled([record('n1'), record('taken'), record('n2'), record('n1'), store.batch([]), record('n3')]);
        expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ collection: 'outcomes', id: 'taken', actualVersion: 1 });
        expect((settled[3] as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
        expect((settled[4] as PromiseFulfilledResult<number[]>).value).toEqual([]);
        // One event per recorded outcome, each at the number its own batch was given (concurrent
        // calls: the store may apply them in any order).
        const events = await store.read<{ id: string }>('events');
        expect(events.map((entry) => entry.entry.id).sort()).toEqual(['n1', 'n2', 'n3']);
        for (const index of [0, 2, 5]) {
          const [seq, version] = (settled[index] as PromiseFulfilledResult<number[]>).value;
          expect(version).toBe(1);
          expect(events.find((entry) => entry.seq === seq)?.entry.id).toBe(['n1', '', 'n2', '', '', 'n3'][index]);
        }
        expect((await store.get('outcomes', 'taken'))?.value).toBe('earlier');
      });

      it('validates every write before writing any', async () => {
        const bad = store.batch([
          { kind: 'append', stream: 'log', entry: 'fine' },
          { kind: 'put', collection: 'docs', id: 'a', value: { n: Number.NaN } },
        ]);
        await expect(bad).rejects.toBeInstanceOf(NotJsonError);
        await expect(store.batch([{ kind: 'append', stream: 'bad name', entry: 1 }])).rejects.toBeInstanceOf(ConfigurationError);
        expect(await store.read('log')).toEqual([]);
      });
    });

    describe('validation', () => {
      const badNames = ['', 'a/b', 'a\\b', '..', '../etc', 'a..b', '.hidden', 'a:b', 'a b', 'caf\u00e9', 'x'.repeat(101)];

      it.each(badNames)('refuses the name %j with a ConfigurationError that names it', async (bad) => {
        const shown = JSON.stringify(bad);
        for (const attempt of [
          () => store.get(bad, 'ok'),
          () => store.put('ok', bad, 1),
          () => store.delete('ok', bad),
          () => store.list(bad),
          () => store.append(bad, 1),
          () => store.read(bad),
        ]) {
          const error = await attempt().catch((caught: unknown) => caught);
          expect(error).toBeInstanceOf(ConfigurationError);
          expect((error as Error).message).toContain(shown);
        }
      });

      it('accepts the longest and the odd-but-allowed names', async () => {
        for (const id of ['x'.repeat(100), 'run_1', 'A-1001', 'a.b.c', 'user@example.com', 'k=v+w', '-dash', '_under'])
          expect((await store.put('names', id, id)).version).toBe(1);
      });

      it('refuses values that are not JSON, saying where, and writes nothing', async () => {
        class Point {
          x = 1;
        }
        const cycle: Record<string, unknown> = {};
        cycle.self = cycle;
        const cases: [unknown, RegExp][] = [
          [undefined, /at \$, undefined is not a JSON value/],
          [{ a: { b: undefined } }, /at \$\.a\.b/],
          [[1, () => 2], /at \$\[1\], a function/],
          [Number.NaN, /NaN is not a finite number/],
          [{ big: 10n }, /at \$\.big, a bigint/],
          [{ when: new Date(0) }, /at \$\.when, a Date instance/],
          [new Map(), /a Map instance/],
          [new Point(), /a Point instance/],
          [cycle, /at \$\.self, .*cycle/],
        ];
        for (const [value, message] of cases) {
          const error = await store.put('bad', 'doc', value as JsonValue).catch((caught: unknown) => caught);
          expect(error).toBeInstanceOf(NotJsonError);
          expect((error as Error).message).toMatch(/"bad\/doc" is not JSON/);
          expect((error as Error).message).toMatch(message);
          await expect(store.append('bad-stream', value as JsonValue)).rejects.toBeInstanceOf(NotJsonError);
        }
        await expect(store.update('bad', 'doc', () => Infinity)).rejects.toThrow(/Infinity is not a finite number/);
        expect(await store.get('bad', 'doc')).toBeUndefined();
        expect(await store.read('bad-stream')).toEqual([]);
      });

      it('refuses bad limits and versions', async () => {
        await expect(store.list('items', { limit: 0 })).rejects.toBeInstanceOf(ConfigurationError);
        await expect(store.read('events', { limit: 1.5 })).rejects.toBeInstanceOf(ConfigurationError);
        await expect(store.read('events', { after: -1 })).rejects.toBeInstanceOf(ConfigurationError);
        await expect(store.put('items', 'a', 1, { expectedVersion: -1 })).rejects.toBeInstanceOf(ConfigurationError);
      });
    });
  });
}
