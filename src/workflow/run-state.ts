import { z } from 'zod';
import type { JsonValue } from '../core/json.js';
import type { ValidationIssue } from '../core/validation-issue.js';
import { CorruptRecordError } from '../store/errors/corrupt-record-error.js';
import { defineRecord } from '../store/record-schema.js';
import type { StateStore } from '../store/state-store.js';
import type { Evidence } from './claim.js';
import type { Stage } from './workflow-task.js';

/**
 * Version of the persisted run, item, transition and review records (their `schemaVersion`).
 * Samples of every version live in test/fixtures/records and are never edited.
 */
export const runStateVersion = 1;

/**
 * The states the engine itself moves an item through: `received` on arrival, `routed` when a
 * conditional route was taken from there, `awaiting-review` while a person decides; `accepted`,
 * `rejected` and `failed` are final.
 *
 * @inline
 */
export type EngineState = 'received' | 'routed' | 'awaiting-review' | 'accepted' | 'rejected' | 'failed';
export const engineStates: readonly EngineState[] = ['received', 'routed', 'awaiting-review', 'accepted', 'rejected', 'failed'];
/** Where an item is: an engine state or one of the workflow's own stages (a task's `stage`). */
export type ItemState = EngineState | Stage;
export const finalStates: ReadonlySet<ItemState> = new Set<EngineState>(['accepted', 'rejected', 'failed']);
/** The engine's states that are not progress: an item never returns to them after a review. */
export const haltedStates: ReadonlySet<ItemState> = new Set<EngineState>(['awaiting-review', 'accepted', 'rejected', 'failed']);

/**
 * Where a task stands for one item.
 *
 * @inline
 */
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

/**
 * A tool call a person approved or rejected, matched again when the task runs after the review.
 *
 * @inline
 */
export interface ApprovalRecord {
  tool: string;
  inputKey: string;
  approved: boolean;
  note?: string;
  by?: string;
}

export interface ItemRecord {
  runId: string;
  id: string;
  input: JsonValue;
  state: ItemState;
  /** The last progress state reached (received, routed or a workflow stage); where the item returns after a review. */
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
  /**
   * Set when the run's items are queued for workers (`workflow.enqueue`, `troupe run --detach`)
   * instead of run by the process that started it; `model` is the model string every worker uses.
   */
  queued?: { model?: string };
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
  /** The process that made the transition (`host/pid`, or a worker's name): on workers, which one did what. */
  worker?: string;
}

export const collections = { runs: 'runs', items: 'items', reviews: 'reviews' } as const;
export const itemKey = (runId: string, itemId: string) => `${runId}.${itemId}`;
export const transitionsStream = (runId: string) => `transitions.${runId}`;

// The shapes records are checked against when read back: enough to catch a damaged or foreign
// document before the engine trusts it (loose, so fields added later still pass).
const taskStatuses = ['pending', 'running', 'done', 'skipped', 'failed', 'awaiting-review'] as const;

/** A run's item: its state (the engine's or one of the workflow's own stages) and every task's record. */
export const itemRecords = defineRecord<ItemRecord>({
  kind: 'item',
  version: runStateVersion,
  schema: z.looseObject({
    runId: z.string(),
    id: z.string(),
    state: z.string().min(1),
    stage: z.string().min(1).optional(),
    tasks: z.record(z.string(), z.looseObject({ status: z.enum(taskStatuses), attempts: z.number() })),
    loops: z.record(z.string(), z.number()),
    approvals: z.array(z.looseObject({ tool: z.string(), inputKey: z.string(), approved: z.boolean() })),
    review: z.string().optional(),
  }),
});

export const runRecords = defineRecord<RunRecord>({
  kind: 'run',
  version: runStateVersion,
  schema: z.looseObject({
    id: z.string(),
    workflow: z.string(),
    status: z.enum(['running', 'done', 'awaiting-review', 'failed']),
    startedAt: z.number(),
    updatedAt: z.number(),
    counts: z.record(z.string(), z.number()),
    items: z.array(z.string()).optional(),
    source: z.string().optional(),
    queued: z.looseObject({ model: z.string().optional() }).optional(),
  }),
});

/** Transitions carried no version field before it was written on every record: those read as version 1. */
export const transitionRecords = defineRecord<Transition>({
  kind: 'transition',
  version: runStateVersion,
  unversioned: 1,
  schema: z.looseObject({ at: z.number(), item: z.string(), from: z.string(), to: z.string(), why: z.string() }),
});

export async function loadRun(store: StateStore, runId: string): Promise<RunRecord | undefined> {
  return (await runRecords.get(store, collections.runs, runId))?.value;
}

/**
 * Changes a run's record (read-modify-write). A run record that is gone while its run goes on was
 * removed outside Troupe: that is reported as a damaged record instead of writing half a run.
 */
export async function updateRun(store: StateStore, runId: string, change: (run: RunRecord) => Partial<RunRecord>): Promise<RunRecord> {
  return runRecords.update(store, collections.runs, runId, (current) => {
    if (!current)
      throw new CorruptRecordError(collections.runs, runId, 'the run record is missing while its run goes on', store.where(collections.runs, runId));
    return { ...current, ...change(current) };
  });
}

/** Every run; damaged run records go to `corrupt` when it is given (see `RecordSchema.list`). */
export async function listRuns(store: StateStore, corrupt?: CorruptRecordError[]): Promise<RunRecord[]> {
  return (await runRecords.list(store, collections.runs, corrupt ? { corrupt } : {})).map((doc) => doc.value);
}

/** An item with the version it was read at, for compare-and-set writes. */
export async function loadItem(store: StateStore, runId: string, itemId: string): Promise<{ value: ItemRecord; version: number } | undefined> {
  return itemRecords.get(store, collections.items, itemKey(runId, itemId));
}

/** A run's items with their versions; damaged ones go to `corrupt` when it is given (see `RecordSchema.list`). */
export async function readItems(
  store: StateStore,
  runId: string,
  corrupt?: CorruptRecordError[],
): Promise<Array<{ id: string; value: ItemRecord; version: number }>> {
  return itemRecords.list(store, collections.items, { prefix: `${runId}.`, ...(corrupt ? { corrupt } : {}) });
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
    const page = await transitionRecords.readStream(store, transitionsStream(runId), { after, limit: 1000 });
    for (const entry of page) out.push(entry.entry);
    if (page.length < 1000) return out;
    after = page.at(-1)!.seq;
  }
}

/** JSON for persisting: undefined fields dropped, Dates and the like turned into JSON. */
export function toJson(value: unknown): JsonValue {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}
