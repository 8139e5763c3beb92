import type { JsonValue } from '../core/json.js';
import type { ValidationIssue } from '../core/errors/input-validation-error.js';
import type { StateStore } from '../store/state-store.js';
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

export async function loadRun(store: StateStore, runId: string): Promise<RunRecord | undefined> {
  return (await store.get<RunRecord & JsonValue>(collections.runs, runId))?.value as RunRecord | undefined;
}

export async function listItems(store: StateStore, runId: string): Promise<ItemRecord[]> {
  const items: ItemRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.list(collections.items, { prefix: `${runId}.`, limit: 500, ...(after ? { after } : {}) });
    for (const doc of page.items) items.push(doc.value as unknown as ItemRecord);
    if (!page.next) return items;
    after = page.next;
  }
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
