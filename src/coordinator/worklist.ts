import { z } from 'zod';
import { defineRecord } from '../store/record-schema.js';
import type { StateStore } from '../store/state-store.js';
import { defineTool, type Tool } from '../tools/define-tool.js';

export interface WorkEntry {
  id: string;
  description: string;
  /** Lower runs first. */
  priority: number;
  status: 'open' | 'done' | 'dropped';
  result?: string;
}

const workEntry = z.looseObject({ id: z.string(), description: z.string(), priority: z.number(), status: z.enum(['open', 'done', 'dropped']) });

/**
 * A coordinator's worklist as stored, most urgent first. Before every record carried a version it
 * was stored as a bare array of entries.
 */
export const worklistRecords = defineRecord<{ entries: WorkEntry[] }>({
  kind: 'worklist',
  version: 1,
  legacy: (value) => (Array.isArray(value) ? { schemaVersion: 1, entries: value } : value),
  schema: z.looseObject({ entries: z.array(workEntry) }),
});

/** One change to a worklist (a plan or an update), in its stream. */
export const worklistChangeRecords = defineRecord<{ change: 'plan' | 'update' } & Record<string, unknown>>({
  kind: 'worklist change',
  version: 1,
  unversioned: 1,
  schema: z.looseObject({ change: z.enum(['plan', 'update']) }),
});

/**
 * A prioritized worklist an llm coordinator keeps and re-evaluates as results come in. Every
 * change is persisted (the list as a document, each change in a stream), so the plan is workflow
 * state like any other, and the coordinator cannot finish while work is open.
 */
export class Worklist {
  readonly entries = new Map<string, WorkEntry>();

  constructor(
    private readonly store: StateStore | undefined,
    private readonly runId: string,
  ) {}

  open(): WorkEntry[] {
    return this.sorted().filter((entry) => entry.status === 'open');
  }

  sorted(): WorkEntry[] {
    return [...this.entries.values()].sort((a, b) => a.priority - b.priority || a.id.localeCompare(b.id));
  }

  tools(): Tool[] {
    const entry = z.object({ id: z.string().min(1), description: z.string().min(1), priority: z.number().int().min(0).describe('0 is most urgent') });
    return [
      defineTool({
        name: 'plan_work',
        description: 'Adds items to your worklist (or replaces items with the same id). Returns the list, most urgent first.',
        input: z.object({ items: z.array(entry).min(1) }),
        sideEffects: 'none',
        run: async ({ items }) => {
          for (const item of items) this.entries.set(item.id, { ...item, status: 'open' });
          return this.#changed({ change: 'plan', items });
        },
      }),
      defineTool({
        name: 'update_work',
        description: 'Marks an item done (with its result) or dropped, or changes its priority as results come in. Returns the list.',
        input: z.object({
          id: z.string(),
          status: z.enum(['open', 'done', 'dropped']).optional(),
          priority: z.number().int().min(0).optional(),
          result: z.string().optional(),
        }),
        sideEffects: 'none',
        run: async ({ id, status, priority, result }) => {
          const current = this.entries.get(id);
          if (!current) throw new Error(`no work item "${id}" (items: ${[...this.entries.keys()].join(', ') || 'none'})`);
          this.entries.set(id, {
            ...current,
            ...(status ? { status } : {}),
            ...(priority !== undefined ? { priority } : {}),
            ...(result !== undefined ? { result } : {}),
          });
          return this.#changed({ change: 'update', id, ...(status ? { status } : {}), ...(priority !== undefined ? { priority } : {}) });
        },
      }),
    ];
  }

  async #changed(change: { change: 'plan' | 'update' } & Record<string, unknown>): Promise<WorkEntry[]> {
    // The caller sees the list as this change left it, taken before the writes: calls made in one
    // turn run at once, and a list read after awaiting would show the other calls' changes too
    // (so what the model sees would differ with a store and without). The stored list is the latest.
    const list = this.sorted();
    if (this.store) {
      await worklistChangeRecords.append(this.store, `worklist.${this.runId}`, change);
      await worklistRecords.put(this.store, 'worklists', this.runId, { entries: this.sorted() });
    }
    return list;
  }
}
