import { z } from 'zod';
import type { JsonValue } from '../core/json.js';
import { formatIssues, type ValidationIssue } from '../core/validation-issue.js';
import { CorruptRecordError } from '../store/errors/corrupt-record-error.js';
import type { StateStore, StoredDocument } from '../store/state-store.js';
import type { Evidence } from './claim.js';

/** Version of the persisted run, item, transition and review documents. Old samples live in test/fixtures/workflow. */
export const runStateVersion = 1;

/** Where an item is. `awaiting-review` waits for a person; `accepted`, `rejected` and `failed` are final. */
export type ItemState = 'received' | 'routed' | 'extracted' | 'validated' | 'rejected' | 'awaiting-review' | 'accepted' | 'failed';
export const finalStates: ReadonlySet<ItemState> = new Set(['accepted', 'rejected', 'failed']);

export type TaskStatus = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'awaiting-review';

export interface TaskRecord {
  status: TaskStatus;
  /** Attempts made, across retries, loops and resumes. */
  attempts: number;
  output?: JsonValue;
  evidence?: Evidence[];
  /** Why the task runs (again): feedback from a loop, a checker, validation or a reviewer. */
  feedback?: string;
  previous?: JsonValue;
  error?: string;
  model?: string;
}

/** A tool call a person approved or rejected, matched again when the task runs after the review. */
export interface ApprovalRecord {
  tool: string;
  inputKey: string;
  approved: boolean;
  note?: string;
  by?: string;
}

export interface ItemRecord {
  schemaVersion: typeof runStateVersion;
  runId: string;
  id: string;
  input: JsonValue;
  state: ItemState;
  /** The furthest progress state reached (received, routed, extracted, validated); where the item returns after a review. */
  stage?: ItemState;
  tasks: Record<string, TaskRecord>;
  /** Times each loop edge sent the item back (key `from->to`). */
  loops: Record<string, number>;
  approvals: ApprovalRecord[];
  /** The review the item waits for. */
  review?: string;
  /** Why the item ended rejected or failed. */
  reason?: string;
}

export type RunStatus = 'running' | 'done' | 'awaiting-review' | 'failed';

/** The shape of a run's workflow, kept with the run so it can be drawn without the workflow's code. */
export interface RunGraph {
  start: string;
  tasks: Array<{ name: string; kind: string; stage?: string }>;
  edges: Array<{ from: string; to: string; route?: string; loop?: boolean }>;
}

export interface RunRecord {
  schemaVersion: typeof runStateVersion;
  id: string;
  workflow: string;
  graph?: RunGraph;
  status: RunStatus;
  startedAt: number;
  updatedAt: number;
  counts: Partial<Record<ItemState, number>>;
  /**
   * The ids of the run's items, recorded before their documents: an item whose document goes
   * missing is then reported (the run fails naming it) instead of the run finishing without it.
   */
  items?: string[];
  /** The workflow module's file when it was loaded by path, so `--resume` finds it again. */
  source?: string;
}

/** One recorded decision about an item: which task, which route and why, what the model claimed, what validation said. */
export interface Transition {
  at: number;
  item: string;
  from: ItemState;
  to: ItemState;
  why: string;
  task?: string;
  route?: string;
  /** The policy rule that fired, e.g. `invalid-output.retry`. */
  policy?: string;
  attempt?: number;
  claim?: { value: JsonValue; status: string; evidence: Evidence[]; model?: string };
  validation?: ValidationIssue[];
  review?: string;
}

export const collections = { runs: 'runs', items: 'items', reviews: 'reviews' } as const;
export const itemKey = (runId: string, itemId: string) => `${runId}.${itemId}`;
export const transitionsStream = (runId: string) => `transitions.${runId}`;

// The shapes records are checked against when read back: enough to catch a damaged or foreign
// document before the engine trusts it (loose, so fields added later still pass).
const itemStates = ['received', 'routed', 'extracted', 'validated', 'rejected', 'awaiting-review', 'accepted', 'failed'] as const;
const taskStatuses = ['pending', 'running', 'done', 'skipped', 'failed', 'awaiting-review'] as const;
const itemShape = z.looseObject({
  runId: z.string(),
  id: z.string(),
  state: z.enum(itemStates),
  tasks: z.record(z.string(), z.looseObject({ status: z.enum(taskStatuses), attempts: z.number() })),
  loops: z.record(z.string(), z.number()),
  approvals: z.array(z.looseObject({ tool: z.string(), inputKey: z.string(), approved: z.boolean() })),
  review: z.string().optional(),
});
const runShape = z.looseObject({
  id: z.string(),
  workflow: z.string(),
  status: z.enum(['running', 'done', 'awaiting-review', 'failed']),
  startedAt: z.number(),
  updatedAt: z.number(),
  counts: z.record(z.string(), z.number()),
  items: z.array(z.string()).optional(),
  source: z.string().optional(),
});

/** The value of a stored record, checked against its shape; a mismatch is a `CorruptRecordError` naming where it is. */
export function checkRecord<T>(store: StateStore, collection: string, doc: StoredDocument, shape: z.ZodType): T {
  const checked = shape.safeParse(doc.value);
  if (!checked.success)
    throw new CorruptRecordError(
      collection,
      doc.id,
      `it does not have the shape of a ${collection} record (${formatIssues(checked.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })))})`,
      store.where(collection, doc.id),
    );
  return doc.value as unknown as T;
}

/**
 * Reads every document of a collection (with a prefix), checking each against `shape`. Damaged
 * ones are left out and pushed to `corrupt` when it is given, so one bad record does not hide the
 * others; without it the first one throws (never a silent loss).
 */
export async function readRecords<T>(
  store: StateStore,
  collection: string,
  shape: z.ZodType,
  options: { prefix?: string; corrupt?: CorruptRecordError[] } = {},
): Promise<Array<{ value: T; version: number }>> {
  const out: Array<{ value: T; version: number }> = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.list(collection, { limit: 500, ...(options.prefix ? { prefix: options.prefix } : {}), ...(after ? { after } : {}) });
    const damaged = [...(page.corrupt ?? [])];
    for (const doc of page.items) {
      try {
        out.push({ value: checkRecord<T>(store, collection, doc, shape), version: doc.version });
      } catch (error) {
        if (!(error instanceof CorruptRecordError)) throw error;
        damaged.push(error);
      }
    }
    if (damaged.length && !options.corrupt) throw damaged[0];
    options.corrupt?.push(...damaged);
    if (!page.next) return out;
    after = page.next;
  }
}

export async function loadRun(store: StateStore, runId: string): Promise<RunRecord | undefined> {
  const doc = await store.get(collections.runs, runId);
  return doc && checkRecord<RunRecord>(store, collections.runs, doc, runShape);
}

/** Every run; damaged run records go to `corrupt` when it is given (see `readRecords`). */
export async function listRuns(store: StateStore, corrupt?: CorruptRecordError[]): Promise<RunRecord[]> {
  return (await readRecords<RunRecord>(store, collections.runs, runShape, corrupt ? { corrupt } : {})).map((doc) => doc.value);
}

/** An item with the version it was read at, for compare-and-set writes. */
export async function loadItem(store: StateStore, runId: string, itemId: string): Promise<{ value: ItemRecord; version: number } | undefined> {
  const doc = await store.get(collections.items, itemKey(runId, itemId));
  return doc && { value: checkRecord<ItemRecord>(store, collections.items, doc, itemShape), version: doc.version };
}

/** A run's items with their versions; damaged ones go to `corrupt` when it is given (see `readRecords`). */
export async function readItems(store: StateStore, runId: string, corrupt?: CorruptRecordError[]): Promise<Array<{ value: ItemRecord; version: number }>> {
  return readRecords<ItemRecord>(store, collections.items, itemShape, { prefix: `${runId}.`, ...(corrupt ? { corrupt } : {}) });
}

export async function listItems(store: StateStore, runId: string, corrupt?: CorruptRecordError[]): Promise<ItemRecord[]> {
  return (await readItems(store, runId, corrupt)).map((doc) => doc.value);
}

/** The item id of a run's item document id (`<runId>.<itemId>`). */
export function itemIdOf(runId: string, documentId: string): string {
  return documentId.startsWith(`${runId}.`) ? documentId.slice(runId.length + 1) : documentId;
}

export async function readTransitions(store: StateStore, runId: string): Promise<Transition[]> {
  const out: Transition[] = [];
  let after = 0;
  for (;;) {
    const page = await store.read(transitionsStream(runId), { after, limit: 1000 });
    for (const entry of page) out.push(entry.entry as unknown as Transition);
    if (page.length < 1000) return out;
    after = page.at(-1)!.seq;
  }
}

/** JSON for persisting: undefined fields dropped, Dates and the like turned into JSON. */
export function toJson(value: unknown): JsonValue {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}
