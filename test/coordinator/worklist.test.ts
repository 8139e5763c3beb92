import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ToolContext } from 'troupe';
import { FileStore } from 'troupe/store';
import { manualClock } from 'troupe/testing';
import { Worklist, worklistRecords } from '../../src/coordinator/worklist.js';

describe('Worklist', () => {
  it('answers each of two updates made in one turn with the list as that update left it, and stores the latest', async () => {
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-worklist-')) });
    const worklist = new Worklist(store, 'run_1');
    const [plan, update] = worklist.tools();
    const context = { runId: 'run_1', clock: manualClock() } as unknown as ToolContext;
    await plan!.run(
      {
        items: [
          { id: 'a', description: 'A', priority: 0 },
          { id: 'b', description: 'B', priority: 1 },
        ],
      },
      context,
    );

    // A model's calls of one turn run at once: each answer must not depend on how the store's writes interleave.
    const [first, second] = await Promise.all([update!.run({ id: 'a', status: 'done' }, context), update!.run({ id: 'b', status: 'done' }, context)]);

    expect(first.map((e: { id: string; status: string }) => `${e.id}:${e.status}`)).toEqual(['a:done', 'b:open']);
    expect(second.map((e: { id: string; status: string }) => `${e.id}:${e.status}`)).toEqual(['a:done', 'b:done']);
    expect((await worklistRecords.get(store, 'worklists', 'run_1'))?.value.entries.map((e) => e.status)).toEqual(['done', 'done']);
    await store.close();
  });
});
