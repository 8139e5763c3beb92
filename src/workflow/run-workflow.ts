import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { deriveRunContext, runContext, type RunContext, type RunOptions } from '../agent/run-context.js';
import { AwaitingReviewError } from '../core/errors/awaiting-review-error.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { formatIssues } from '../core/validation-issue.js';
import type { Clock, IdGenerator } from '../core/ids.js';
import type { JsonValue } from '../core/json.js';
import type { BatchWrite, StateStore } from '../store/state-store.js';
import { openStateStore } from '../store/open-state-store.js';
import { CorruptRecordError } from '../store/errors/corrupt-record-error.js';
import { VersionConflictError } from '../store/errors/version-conflict-error.js';
import type { Approver } from '../tools/approval.js';
import type { Claim } from './claim.js';
import type { WorkflowGraph } from './workflow-graph.js';
import { getReview, reviewRecords, type ReviewRequest } from './review.js';
import { approvalKey, runStep, type ReviewDraft, type StepOutcome } from './run-step.js';
import { RunLease, type RunLeaseHeldError } from './run-lease.js';
import {
  collections,
  finalStates,
  haltedStates,
  itemIdOf,
  itemRecords,
  itemKey,
  readItems,
  loadItem,
  loadRun,
  runRecords,
  toJson,
  transitionRecords,
  transitionsStream,
  updateRun,
  type ItemRecord,
  type ItemState,
  type RunGraph,
  type RunRecord,
  type RunStatus,
  type Transition,
} from './run-state.js';
import { edgeInput, settle, view as itemView } from './item-graph.js';
import { storeOutbox } from './store-outbox.js';
import type { Outbox } from '../tools/outbox.js';

/** An item to process: its input, and an id (default `item-<n>`) that names it in state and reviews. */
export interface WorkItemInput<Input> {
  id?: string;
  input: Input;
}

/**
 * The run's context (any part of it; see `RunContext`: `model` is used by every model task instead
 * of its own, tests pass a scripted model) and what only a workflow run takes. Every step's
 * context derives from the run's.
 */
export interface RunWorkflowOptions extends RunOptions {
  /** Where runs, items, transitions and reviews are kept (default: `openStateStore()`, the local store or Redis). */
  store?: StateStore;
  /**
   * Keep items that wait for review in this process and check for decisions this often, so a
   * decision made from another terminal (`troupe review approve`) lets the run go on. Without it
   * the run returns with status `awaiting-review` and continues with `resumeRun`.
   */
  waitForReviews?: { pollMs?: number };
  /**
   * When another process holds the run's lease (it runs, resumes or waits in the run), wait for it
   * instead of failing with `RunLeaseHeldError`; `onWait` is told who holds it.
   */
  waitForLease?: { pollMs?: number; onWait?: (held: RunLeaseHeldError) => void };
  /** How long the run's lease lasts without renewal (default 30 s); a holder that dies frees the run after it. */
  leaseTtlMs?: number;
  /** The workflow module's file when it was loaded by path: kept in the run record so a resume finds it. */
  source?: string;
  /** Who makes this run's transitions, recorded on each (default `host/pid` of this process). */
  worker?: string;
  /** Called after each task's output is accepted: to record real inputs and outputs as examples, or to watch. */
  onTaskDone?: (event: { item: string; task: string; input: unknown; output: unknown; claim: Claim }) => void | Promise<void>;
}

/**
 * One item of a run's result. Like `AgentRunResult` on `status`, checking `state` narrows it: a
 * failed or rejected item says why, an item awaiting review names its review.
 */
/** An item at the end of a run: its state, each finished task's output, and why it failed, was rejected or waits. */
export interface ItemSummary {
  id: string;
  state: ItemState;
  outputs: Record<string, JsonValue | undefined>;
  /** Why a failed or rejected item ended so (always set for those). */
  reason?: string;
  /** The pending review of an item awaiting review (always set for those). */
  review?: string;
}

/** @inline */
interface RunSummaryBase {
  runId: string;
  workflow: string;
  items: ItemSummary[];
  counts: Partial<Record<ItemState, number>>;
}

/**
 * How a run ended, narrowed on `status` like an agent's or a crew's result: a run waiting for
 * review lists the pending review ids, a failed run each failed item with its reason.
 */
export type RunSummary = RunSummaryBase &
  (
    | { status: 'done' }
    | { status: 'awaiting-review'; reviews: string[] }
    | { status: 'failed'; failures: Array<{ id: string; reason: string }> }
    | { status: 'running' }
  );

// How many items of a known list are received at once (see Engine.receiveAll).
const receiveChunk = 1000;

// Reported in place of an item whose document is missing or damaged: the run fails naming it.
const lostItemState = 'failed' as const;

/**
 * Runs a workflow over items: a known list (batch) or an async iterable whose items arrive while
 * the workflow runs (streaming). Every state change is persisted before the next step, so a run
 * that crashes resumes with `resumeRun` from its last recorded step.
 */
export async function runWorkflow<Input>(
  workflow: WorkflowGraph<Input>,
  items: Iterable<WorkItemInput<Input>> | AsyncIterable<WorkItemInput<Input>>,
  options: RunWorkflowOptions = {},
): Promise<RunSummary> {
  const engine = new Engine(workflow, { ...options, store: options.store ?? (await openStateStore()) });
  if (await engine.store.get(collections.runs, engine.runId))
    throw new ConfigurationError(
      `run "${engine.runId}" already exists; continue it with resumeRun (troupe run --resume ${engine.runId}) or pick a new run id`,
      { field: 'runId' },
    );
  return engine.holding(async () => {
    const { known, add } = await recordRun(engine, workflow, items, options.source ? { source: options.source } : {});
    if (known) {
      // A known list is recorded whole before any work, so a crash loses none of it.
      const received = await engine.receiveAll(known);
      await pool(received, workflow.concurrency, (item) => engine.process(item), engine.stop);
    } else {
      await pool(
        items as AsyncIterable<WorkItemInput<Input>>,
        workflow.concurrency,
        async (item) => {
          const { id, input } = await add(item);
          await engine.process(await engine.receive(id, input));
        },
        engine.stop,
      );
    }
    return engine.finish();
  });
}

/**
 * Writes the record of a new run and names its items (`item-<n>` when they have no id). A known
 * list's ids go into the run record before any item document, so an item whose document is lost
 * later is reported, never silently missing from a "done" run; `add` names a streamed item and
 * adds its id to the record before the item is received.
 */
export async function recordRun<Input>(
  engine: Engine,
  workflow: WorkflowGraph<Input>,
  items: Iterable<WorkItemInput<Input>> | AsyncIterable<WorkItemInput<Input>>,
  extra: Pick<RunRecord, 'source' | 'queued'>,
): Promise<{ known: Array<{ id: string; input: Input }> | undefined; add(item: WorkItemInput<Input>): Promise<{ id: string; input: Input }> }> {
  let count = 0;
  const named = (item: WorkItemInput<Input>) => ({ id: item.id ?? `item-${++count}`, input: item.input });
  const known = Symbol.iterator in items ? [...(items as Iterable<WorkItemInput<Input>>)].map(named) : undefined;
  const now = engine.clock.now();
  const run: RunRecord = {
    id: engine.runId,
    workflow: workflow.name,
    graph: graphOf(workflow),
    status: 'running',
    startedAt: now,
    updatedAt: now,
    counts: {},
    items: known?.map((item) => item.id) ?? [],
    ...extra,
  };
  await runRecords.put(engine.store, collections.runs, run.id, run, { expectedVersion: 0 });
  const add = async (item: WorkItemInput<Input>) => {
    const next = named(item);
    await updateRun(engine.store, engine.runId, (current) => ({ items: [...(current.items ?? []), next.id] }));
    return next;
  };
  return { known, add };
}

/**
 * Continues a run after a crash, a restart or a review decision: final items stay as they are,
 * done steps are not repeated. Only one process continues a run at a time: while another holds
 * its lease this throws `RunLeaseHeldError` (or waits, with `waitForLease`).
 */
export async function resumeRun<Input>(workflow: WorkflowGraph<Input>, runId: string, options: RunWorkflowOptions = {}): Promise<RunSummary> {
  const engine = new Engine(workflow, { ...options, runId, store: options.store ?? (await openStateStore()) });
  const run = await loadRun(engine.store, runId);
  if (!run) throw new ConfigurationError(`no run "${runId}" in the store (troupe runs list shows them)`, { field: 'run' });
  if (run.workflow !== workflow.name)
    throw new ConfigurationError(`run "${runId}" belongs to workflow "${run.workflow}", not "${workflow.name}"`, { field: 'run' });
  if (run.queued)
    throw new ConfigurationError(
      `run "${runId}" runs on workers (it was started with workflow.enqueue or troupe run --detach): queue its items again with requeueRun (troupe run --resume ${runId} does)`,
      { field: 'run' },
    );
  return engine.holding(async () => {
    const items = (await engine.load()).filter((item) => !finalStates.has(item.state));
    await pool(
      items,
      workflow.concurrency,
      async (item) => {
        await engine.recover(item);
        await engine.process(item);
      },
      engine.stop,
    );
    return engine.finish();
  });
}

/** What the engine is built with: a run's options, its opened store, and the lease it holds (the run's, or one item's on a worker). */
export interface EngineOptions extends RunWorkflowOptions {
  store: StateStore;
  /** The lease document to hold: the run id by default; an item's key when a worker continues one item. */
  leaseKey?: string;
}

/** This process as it signs transitions when no worker name is given. */
const thisProcess = `${hostname()}/${process.pid}`;

/** Runs a workflow's items and records every step; shared by in-process runs and queued runs on workers (queued-run.ts). */
export class Engine {
  readonly store: StateStore;
  /** The run's context; each step's derives from it. */
  readonly run: RunContext;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly runId: string;
  readonly outbox: Outbox;
  readonly lease: RunLease;
  /** Stops the work when the caller aborts, the lease is lost, or the run fails (`stop`). */
  readonly signal: AbortSignal;
  readonly #stopping = new AbortController();
  /** The version of each item document this process last wrote or read: item writes are compare-and-set on it (fencing). */
  readonly #versions = new Map<string, number>();
  /** Items whose documents are damaged: reported by `finish` instead of being dropped. */
  readonly #corrupt = new Map<string, CorruptRecordError>();
  /** Each item's transitions not yet in the store: `save` writes them with the item, in one batch. */
  readonly #unsaved = new Map<string, Transition[]>();
  /** Items read without their fencing write (`loadOne` with `fenceWithFirstSave`): their next `save` fences. */
  readonly #unfenced = new Set<string>();

  readonly worker: string;

  constructor(
    readonly workflow: WorkflowGraph<any>,
    // The store comes opened (`openStateStore` is async: it loads the Redis store only when chosen).
    readonly options: EngineOptions,
  ) {
    // Transitions quote what models proposed (a review's "call send_email with {...}"): the context's trace scrubs secrets.
    this.run = runContext(options);
    ({ clock: this.clock, ids: this.ids, runId: this.runId } = this.run);
    this.store = options.store;
    this.outbox = storeOutbox(this.store);
    this.worker = options.worker ?? thisProcess;
    this.lease = new RunLease(this.store, this.runId, {
      clock: this.clock,
      ...(options.leaseTtlMs ? { ttlMs: options.leaseTtlMs } : {}),
      ...(options.leaseKey ? { key: options.leaseKey } : {}),
    });
    this.signal = AbortSignal.any([...(this.run.signal ? [this.run.signal] : []), this.lease.signal, this.#stopping.signal]);
    // Every step in flight listens to this one signal (its model calls, retries, tools): up to `concurrency` × branches at once, by design.
    setMaxListeners(0, this.signal);
  }

  /**
   * The run failed (one item's work threw: the store is unreachable, say): every other step of it
   * is told to stop, so the process ends instead of lingering with steps that may still act after
   * it reported the run stopped and gave up its lease. What they leave unfinished a resume reruns.
   */
  readonly stop = (reason: unknown): void => {
    if (!this.#stopping.signal.aborted) this.#stopping.abort(reason);
  };
  /** Runs `work` holding the run's lease; a lost lease ends it with `RunLeaseLostError`. */
  async holding<T>(work: () => Promise<T>): Promise<T> {
    const wait = this.options.waitForLease;
    await this.lease.acquire({ ...(wait ? { wait } : {}), ...(this.run.signal ? { signal: this.run.signal } : {}) });
    try {
      const result = await work();
      this.lease.check();
      return result;
    } catch (error) {
      // A step stopped by the lost lease reports that, not its own abort.
      if (this.lease.signal.aborted) throw this.lease.signal.reason;
      throw error;
    } finally {
      await this.lease.release();
    }
  }

  /**
   * Reads the run's items for a resume. Each non-final item is written back at once with
   * compare-and-set: that fences off a process that held the lease before (its next write of the
   * item fails). Damaged documents are kept aside and reported by `finish`.
   */
  async load(): Promise<ItemRecord[]> {
    const corrupt: CorruptRecordError[] = [];
    const docs = await readItems(this.store, this.runId, corrupt);
    for (const error of corrupt) this.#corrupt.set(itemIdOf(this.runId, error.id), error);
    const items: ItemRecord[] = [];
    for (const { value, version } of docs) {
      this.#versions.set(value.id, version);
      if (!finalStates.has(value.state)) await this.save(value);
      items.push(value);
    }
    return items;
  }

  /**
   * Reads one item for a worker's step, writing it back at once when it is not final (fencing, as
   * `load` does). Undefined when its document is missing or damaged: `finish` reports it.
   *
   * With `fenceWithFirstSave`, an item that does not wait for review is not written back here:
   * the caller's next write of it, compare-and-set on the version read here like this one, is the
   * fence (a worker's `advance` writes the item before any step runs; `fence` writes it when
   * nothing else did). An item waiting for review is fenced at once, as applying a decision may
   * record a new review before the item's first write.
   */
  async loadOne(itemId: string, options: { fenceWithFirstSave?: boolean } = {}): Promise<ItemRecord | undefined> {
    const corrupt: CorruptRecordError[] = [];
    const doc = await loadItem(this.store, this.runId, itemId).catch((error: unknown) => {
      if (!(error instanceof CorruptRecordError)) throw error;
      corrupt.push(error);
      return undefined;
    });
    for (const error of corrupt) this.#corrupt.set(itemId, error);
    if (!doc) return undefined;
    this.#versions.set(itemId, doc.version);
    if (!finalStates.has(doc.value.state)) {
      if (options.fenceWithFirstSave && doc.value.state !== 'awaiting-review') this.#unfenced.add(itemId);
      else await this.save(doc.value);
    }
    return doc.value;
  }

  /** Writes the item back if it was read with `fenceWithFirstSave` and not written since: the fence, late but before this process acts on it. */
  async fence(item: ItemRecord): Promise<void> {
    if (this.#unfenced.has(item.id)) await this.save(item);
  }

  /** The version of an item's document as this process last wrote or read it. */
  versionOf(itemId: string): number {
    return this.#versions.get(itemId) ?? 0;
  }

  async receive(id: string, input: unknown): Promise<ItemRecord> {
    const item: ItemRecord = {
      runId: this.runId,
      id,
      input: toJson(input),
      state: 'received',
      tasks: {},
      loops: {},
      approvals: [],
    };
    for (const name of this.workflow.tasks.keys()) item.tasks[name] = { status: 'pending', attempts: 0 };
    const parsed = this.workflow.input.safeParse(input);
    this.transition(item, { to: 'received', why: 'received' });
    await this.save(item);
    if (!parsed.success) await this.end(item, 'failed', `the item's input is invalid: ${formatIssues(parsed.error.issues)}`);
    return item;
  }

  /**
   * Receives a known list of items many at a time, so their writes share commits (one SQLite
   * transaction, one Redis pipeline per turn) instead of costing one round trip each. Returns
   * them in the list's order once every one is recorded; the first failure is thrown after the
   * others have ended, so nothing is still writing when the caller gives up the run.
   */
  async receiveAll(items: ReadonlyArray<{ id: string; input: unknown }>): Promise<ItemRecord[]> {
    const received: ItemRecord[] = [];
    for (let start = 0; start < items.length; start += receiveChunk) {
      const outcomes = await Promise.allSettled(items.slice(start, start + receiveChunk).map((item) => this.receive(item.id, item.input)));
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') throw outcome.reason;
        received.push(outcome.value);
      }
    }
    return received;
  }

  /** Steps that were running when the process died run again (done ones never do). */
  async recover(item: ItemRecord): Promise<void> {
    let interrupted = false;
    for (const [name, record] of Object.entries(item.tasks)) {
      if (record.status !== 'running') continue;
      record.status = 'pending';
      interrupted = true;
      this.transition(item, {
        to: item.state,
        task: name,
        policy: 'resume.rerun',
        why: `"${name}" was interrupted (the run stopped during it) and runs again`,
      });
    }
    if (interrupted) await this.save(item);
  }

  async process(item: ItemRecord): Promise<void> {
    for (;;) {
      await this.advance(item);
      const wait = this.options.waitForReviews;
      if (item.state !== 'awaiting-review' || !wait || this.signal.aborted) return;
      await sleep(wait.pollMs ?? 1000, this.signal);
    }
  }

  /** Runs the item's ready steps, batch after batch, until it ends or waits (or for `rounds` batches: a worker's one step). */
  async advance(item: ItemRecord, rounds = Number.POSITIVE_INFINITY): Promise<void> {
    if (item.state === 'awaiting-review' && !(await this.applyReview(item))) return;
    if (rounds < 1 || this.signal.aborted) return;
    let batch = this.#next(item);
    if (batch === undefined) return;
    await this.save(item); // a crash from here on re-runs these steps; done ones never again
    for (let round = 1; batch.length > 0; round++) {
      const inputs = new Map<string, unknown>();
      // Each step's outcome is recorded the moment that step ends, not when the whole batch does:
      // a crash while a slow branch runs must not run the finished ones again. Outcomes of one
      // item are applied one at a time, so concurrent branches never write over each other. The
      // step that ends last writes its outcome together with the next batch's start (its steps
      // marked running, or the item's end when none is left): one write, not two.
      let applying: Promise<void> = Promise.resolve();
      let left = batch.length;
      let next: string[] = [];
      const goesOn = round < rounds;
      await Promise.all(
        batch.map((name) =>
          this.step(item, name, inputs).then((outcome) => {
            const last = --left === 0;
            // A step cut short because the run is stopping did not fail on its own: it stays
            // "running" in the store, and a resume reruns it (saying it was interrupted).
            if (this.#stopping.signal.aborted && outcome.kind !== 'done') return;
            return (applying = applying.then(async () => {
              const started = await this.record(item, name, outcome, inputs.get(name), last && goesOn);
              if (started) next = started;
            }));
          }),
        ),
      );
      batch = next;
    }
  }

  /**
   * Starts the item's next batch in memory (not saved): its ready steps marked running, or the
   * item ended accepted when none is left. Undefined when the item is final or waits for review.
   */
  #next(item: ItemRecord): string[] | undefined {
    if (finalStates.has(item.state) || item.state === 'awaiting-review') return undefined;
    const { ready, skipped } = settle(this.workflow, item);
    for (const name of skipped) item.tasks[name]!.status = 'skipped';
    if (ready.length === 0) {
      this.#ended(item, 'accepted', 'every step is done');
      return [];
    }
    const batch = ready.slice(0, this.workflow.branchConcurrency);
    for (const name of batch) item.tasks[name]!.status = 'running';
    return batch;
  }

  /**
   * Applies one step's outcome to its item and saves the item; with `startNext` (the last step of
   * its batch to end), the next batch starts in the same write and its steps are returned.
   */
  private async record(item: ItemRecord, name: string, outcome: StepOutcome, input: unknown, startNext = false): Promise<string[] | undefined> {
    const record = item.tasks[name]!;
    if (finalStates.has(item.state)) {
      // Another branch ended the item meanwhile: keep what this step produced, change nothing else.
      if (outcome.kind === 'done') Object.assign(record, { status: 'done', output: toJson(outcome.output) });
      else record.status = 'pending';
    } else if (item.state === 'awaiting-review' && outcome.kind === 'review') {
      // One review at a time per item: this step asks again once the pending one is decided.
      record.status = 'pending';
    } else {
      await this.apply(item, name, outcome);
    }
    const next = startNext && !this.signal.aborted ? this.#next(item) : undefined;
    await this.save(item);
    if (outcome.kind === 'done' && this.options.onTaskDone)
      await this.options.onTaskDone({ item: item.id, task: name, input, output: outcome.output, claim: outcome.claim });
    return next;
  }

  /**
   * Reads the items back and records the run's status. An item the run record lists but whose
   * document is missing or damaged counts as failed, named with why: the run never ends "done"
   * without one of its items.
   */
  async finish(options: { queued?: boolean } = {}): Promise<RunSummary> {
    // The run record is read before the items and written with compare-and-set on that read: when
    // workers end items at once, a write from an older view of the items fails and is redone.
    for (;;) {
      const runDoc = await runRecords.get(this.store, collections.runs, this.runId);
      if (!runDoc)
        throw new CorruptRecordError(
          collections.runs,
          this.runId,
          'the run record is missing while its run goes on',
          this.store.where(collections.runs, this.runId),
        );
      const summary = await this.summarize(runDoc.value, options);
      this.lease.check();
      try {
        await runRecords.put(
          this.store,
          collections.runs,
          this.runId,
          { ...runDoc.value, status: summary.status, counts: summary.counts, updatedAt: this.clock.now() },
          { expectedVersion: runDoc.version },
        );
        return summary;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
      }
    }
  }

  /**
   * The run as its items say now. A queued run is "running" while any item is still to be worked
   * on, even when another already waits for review; a run in one process ends its work first.
   */
  private async summarize(run: RunRecord, options: { queued?: boolean }): Promise<RunSummary> {
    const corrupt: CorruptRecordError[] = [];
    const items: ItemSummary[] = (await readItems(this.store, this.runId, corrupt)).map(({ value: item }) =>
      // An item is failed or rejected only through end(), which records why, and awaits review only with its review recorded.
      ({
        id: item.id,
        state: item.state,
        outputs: Object.fromEntries(
          Object.entries(item.tasks)
            .filter(([, task]) => task.status === 'done' && task.output !== undefined)
            .map(([name, task]) => [name, task.output]),
        ),
        ...(item.reason ? { reason: item.reason } : {}),
        ...(item.review ? { review: item.review } : {}),
      }),
    );
    for (const error of corrupt) this.#corrupt.set(itemIdOf(this.runId, error.id), error);
    for (const [id, error] of this.#corrupt)
      if (!items.some((item) => item.id === id)) items.push({ id, state: lostItemState, outputs: {}, reason: error.message });
    const known = new Set(items.map((item) => item.id));
    for (const id of run.items ?? []) {
      if (!known.has(id))
        items.push({
          id,
          state: lostItemState,
          outputs: {},
          reason: `the document of item "${id}" is missing from the store (${this.store.where(collections.items, itemKey(this.runId, id))}); its state is lost`,
        });
    }
    const counts: Partial<Record<ItemState, number>> = {};
    for (const item of items) counts[item.state] = (counts[item.state] ?? 0) + 1;
    const inProgress = items.some((item) => !finalStates.has(item.state) && item.state !== 'awaiting-review');
    const status: RunStatus =
      options.queued && inProgress ? 'running' : counts['awaiting-review'] ? 'awaiting-review' : inProgress ? 'running' : counts.failed ? 'failed' : 'done';
    const base = { runId: this.runId, workflow: this.workflow.name, counts, items };
    if (status === 'awaiting-review')
      return { ...base, status, reviews: items.flatMap((item) => (item.state === 'awaiting-review' && item.review ? [item.review] : [])) };
    if (status === 'failed')
      return {
        ...base,
        status,
        failures: items.flatMap((item) => (item.state === 'failed' ? [{ id: item.id, reason: item.reason ?? 'no reason recorded' }] : [])),
      };
    return { ...base, status };
  }

  private step(item: ItemRecord, name: string, inputs: Map<string, unknown>): Promise<StepOutcome> {
    const task = this.workflow.tasks.get(name)!;
    const record = item.tasks[name]!;
    const input = edgeInput(this.workflow, item, name);
    inputs.set(name, input);
    const checked = task.input.safeParse(input);
    if (!checked.success) return Promise.resolve({ kind: 'failed', reason: `the input of "${name}" is invalid: ${formatIssues(checked.error.issues)}` });
    const approver = this.approverFor(item);
    return runStep({
      task,
      input: checked.data,
      record,
      context: {
        ...deriveRunContext(this.run, { signal: this.signal, approver }),
        approver,
        itemId: item.id,
        task: name,
        idempotencyKey: `${this.runId}.${item.id}.${name}`,
        outbox: this.outbox,
      },
      // A note made during the step (a retry, an escalation) is written at once, not with the step's end.
      note: async (transition) => {
        this.transition(item, { ...transition, task: name, to: item.state });
        await this.store.batch(this.#takeUnsaved(item));
      },
    });
  }

  /** Applies a step's outcome to the item in memory; the caller saves it (a loop's review saves on its own). `pastLoopLimit`: the review that approved going on past a loop's limit, so its loops are not taken. */
  private async apply(item: ItemRecord, name: string, outcome: StepOutcome, pastLoopLimit?: string): Promise<void> {
    const task = this.workflow.tasks.get(name)!;
    const record = item.tasks[name]!;
    switch (outcome.kind) {
      case 'done': {
        record.status = 'done';
        record.output = toJson(outcome.output);
        record.evidence = outcome.claim.evidence;
        if (outcome.claim.model) record.model = outcome.claim.model;
        delete record.feedback;
        delete record.previous;
        const claim = {
          value: record.output,
          status: outcome.claim.status,
          evidence: outcome.claim.evidence,
          ...(outcome.claim.model ? { model: outcome.claim.model } : {}),
        };
        // While another branch waits for review the item stays there; the review's answer moves it on.
        const to = item.state === 'awaiting-review' ? item.state : (task.stage ?? item.state);
        this.transition(item, { to, task: name, why: `"${name}" done: its claim was validated and accepted`, claim });
        await this.followEdges(item, name, outcome.output, pastLoopLimit);
        return;
      }
      case 'review':
        return this.requestReview(item, name, outcome.review, false);
      case 'rejected':
        record.status = 'done';
        return this.#ended(item, 'rejected', outcome.reason, name);
      case 'failed':
        record.status = 'failed';
        record.error = outcome.reason;
        return this.#ended(item, 'failed', outcome.reason, name);
    }
  }

  /** Records the routes taken from a finished task, and sends the item back upstream when a loop edge fires. */
  private async followEdges(item: ItemRecord, name: string, output: unknown, pastLoopLimit?: string): Promise<void> {
    const view = itemView(item);
    for (const edge of this.workflow.outgoing(name)) {
      if (edge.when && !edge.when(output, view)) continue;
      if (edge.loop && pastLoopLimit) {
        const why = `the loop "${edge.from}" → "${edge.to}" is not taken again: review ${pastLoopLimit} approved going on past its limit`;
        this.transition(item, { to: item.state, task: name, route: 'loop', policy: 'loop.limit', why });
        continue;
      }
      if (!edge.loop) {
        if (edge.when)
          this.transition(item, {
            to: item.state === 'received' ? 'routed' : item.state,
            task: name,
            route: edge.route ?? `${name}->${edge.to}`,
            why: `route ${edge.route ?? `${name} → ${edge.to}`} taken`,
          });
        continue;
      }
      const key = `${edge.from}->${edge.to}`;
      const sent = item.loops[key] ?? 0;
      const feedback = edge.loop.feedback(output, view);
      if (sent >= edge.loop.maxAttempts) {
        await this.requestReview(item, name, {
          kind: 'output',
          what: `"${name}" sent the item back to "${edge.to}" ${sent} times, the limit; decide what happens`,
          policy: 'loop.limit',
          proposal: toJson(output),
          evidence: [],
          findings: [feedback],
        });
        return;
      }
      item.loops[key] = sent + 1;
      for (const downstream of this.workflow.downstream(edge.to)) {
        const record = item.tasks[downstream]!;
        if (record.status === 'done' && record.output !== undefined) record.previous = record.output;
        record.status = 'pending';
        delete record.output;
      }
      item.tasks[edge.to]!.feedback = feedback;
      this.transition(item, {
        to: item.state,
        task: name,
        route: 'loop',
        policy: 'loop.send-back',
        why: `"${name}" sent the item back to "${edge.to}" (${sent + 1} of ${edge.loop.maxAttempts}): ${feedback}`,
      });
      return;
    }
  }

  /** Records a review and puts the item in wait for it; saves the item unless the caller does (`save` false). */
  private async requestReview(item: ItemRecord, name: string, draft: ReviewDraft, save = true): Promise<void> {
    this.lease.check();
    const review: ReviewRequest = {
      ...draft,
      id: this.ids('review'),
      runId: this.runId,
      workflow: this.workflow.name,
      item: item.id,
      task: name,
      status: 'pending',
      createdAt: this.clock.now(),
    };
    await reviewRecords.put(this.store, collections.reviews, review.id, review, { expectedVersion: 0 });
    item.tasks[name]!.status = 'awaiting-review';
    item.review = review.id;
    this.transition(item, { to: 'awaiting-review', task: name, policy: draft.policy, review: review.id, why: draft.what });
    if (save) await this.save(item);
  }

  /** Applies a decided review to its item; false while the review is still pending. */
  private async applyReview(item: ItemRecord): Promise<boolean> {
    const review = await getReview(this.store, item.review!);
    if (review.status === 'pending') return false;
    const task = this.workflow.tasks.get(review.task)!;
    const record = item.tasks[review.task]!;
    const decision = review.decision!;
    const why = `review ${review.id} ${review.status} by ${decision.by}${decision.note ? `: ${decision.note}` : ''}`;
    delete item.review;
    const resumeState = lastStage(item);
    if (review.kind === 'approval') {
      item.approvals.push({
        tool: review.tool!.name,
        inputKey: review.tool!.inputKey,
        approved: review.status === 'approved',
        by: decision.by,
        ...(decision.note ? { note: decision.note } : {}),
      });
      record.status = 'pending';
      this.transition(item, { to: resumeState, task: review.task, review: review.id, why });
      return true;
    }
    if (review.status === 'rejected') {
      if (review.kind === 'input') {
        await this.end(item, 'rejected', why, review.task);
        return false;
      }
      // The note goes back into the workflow: the task runs again with it.
      record.status = 'pending';
      record.feedback = `A reviewer rejected the previous output${decision.note ? `: ${decision.note}` : '.'}`;
      if (review.proposal !== undefined) record.previous = review.proposal;
      this.transition(item, { to: resumeState, task: review.task, review: review.id, why });
      return true;
    }
    const value = decision.value ?? review.proposal;
    const parsed = task.output.safeParse(value);
    if (!parsed.success) {
      await this.end(
        item,
        'failed',
        `${why}, but the approved value is not a valid output of "${review.task}": ${formatIssues(parsed.error.issues)}`,
        review.task,
      );
      return false;
    }
    this.transition(item, { to: resumeState, task: review.task, review: review.id, why });
    // Approving a loop's limit lets the item go on: the loop is not taken again, or it would only come back here.
    const pastLoopLimit = review.policy === 'loop.limit' ? review.id : undefined;
    await this.apply(
      item,
      review.task,
      { kind: 'done', output: parsed.data, claim: { value: parsed.data, status: 'proposed', evidence: review.evidence } },
      pastLoopLimit,
    );
    return true;
  }

  private approverFor(item: ItemRecord): Approver {
    return (request) => {
      const key = approvalKey(request.input);
      const decided = item.approvals.find((approval) => approval.tool === request.tool && approval.inputKey === key);
      if (decided) return { approved: decided.approved, ...(decided.note ? { note: decided.note } : {}), ...(decided.by ? { by: decided.by } : {}) };
      throw new AwaitingReviewError(`tool "${request.tool}" needs approval`, undefined, { approval: request });
    };
  }

  /** Ends an item as failed for a reason outside its tasks (a worker gave up on its step): recorded like any failure. */
  async abandon(item: ItemRecord, why: string): Promise<void> {
    if (!finalStates.has(item.state)) await this.end(item, 'failed', why);
  }

  private async end(item: ItemRecord, state: 'accepted' | 'rejected' | 'failed', why: string, task?: string): Promise<void> {
    this.#ended(item, state, why, task);
    await this.save(item);
  }

  /** Ends the item in memory; the next `save` writes it. */
  #ended(item: ItemRecord, state: 'accepted' | 'rejected' | 'failed', why: string, task?: string): void {
    if (state !== 'accepted') item.reason = why;
    this.transition(item, { to: state, why, ...(task ? { task } : {}) });
  }

  private transition(item: ItemRecord, change: Omit<Transition, 'at' | 'item' | 'from'>): void {
    this.lease.check(); // a process that lost the run records nothing more about it
    const transition: Transition = { at: this.clock.now(), item: item.id, from: item.state, ...change, worker: this.worker };
    item.state = change.to;
    if (!haltedStates.has(change.to)) item.stage = change.to;
    // Written by the next `save` of the item, in the same batch: a step's record is one commit.
    const unsaved = this.#unsaved.get(item.id);
    if (unsaved) unsaved.push(transition);
    else this.#unsaved.set(item.id, [transition]);
    this.run.trace?.({
      type: 'item-transition',
      at: transition.at,
      runId: this.runId,
      workflow: this.workflow.name,
      item: item.id,
      from: transition.from,
      to: transition.to,
      why: transition.why,
      ...(transition.task ? { task: transition.task } : {}),
      ...(transition.policy ? { policy: transition.policy } : {}),
    });
  }

  /**
   * Writes the item with compare-and-set on the version this process last saw. A conflict means
   * another process wrote it: this one lost the run (fencing), so it stops instead of overwriting.
   */
  private async save(item: ItemRecord): Promise<void> {
    this.lease.check();
    const expectedVersion = this.#versions.get(item.id) ?? 0;
    try {
      // The item's transitions since its last save, and the item: all written or none.
      const writes: BatchWrite[] = [
        ...this.#takeUnsaved(item),
        { kind: 'put', collection: collections.items, id: itemKey(this.runId, item.id), value: itemRecords.write(item), options: { expectedVersion } },
      ];
      this.#versions.set(item.id, (await this.store.batch(writes)).at(-1)!);
      this.#unfenced.delete(item.id);
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      if (expectedVersion === 0)
        throw new ConfigurationError(
          `run "${this.runId}" already has an item "${item.id}"; item ids must be unique in a run`,
          { field: 'items' },
          { cause: error },
        );
      this.lease.lose(`another process wrote item "${item.id}" (version ${error.actualVersion}, this process expected ${expectedVersion})`, error);
    }
  }

  /** The appends of the item's transitions not yet written; taken, so each is written once. */
  #takeUnsaved(item: ItemRecord): BatchWrite[] {
    const unsaved = this.#unsaved.get(item.id) ?? [];
    this.#unsaved.delete(item.id);
    const stream = transitionsStream(this.runId);
    return unsaved.map((transition) => ({ kind: 'append', stream, entry: transitionRecords.write(transition) }));
  }
}

export function graphOf(workflow: WorkflowGraph<any>): RunGraph {
  return {
    start: workflow.start,
    tasks: [...workflow.tasks.values()].map((task) => ({ name: task.name, kind: task.kind, ...(task.stage ? { stage: task.stage } : {}) })),
    edges: [...workflow.forward, ...workflow.loops].map((edge) => ({
      from: edge.from,
      to: edge.to,
      ...(edge.route ? { route: edge.route } : {}),
      ...(edge.loop ? { loop: true } : {}),
    })),
  };
}

/** The progress stage an item returns to after a review. */
function lastStage(item: ItemRecord): ItemState {
  return item.stage ?? 'received';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // The listener goes when the time is up: a run polling for reviews for hours must not pile them up on its signal.
    const onAbort = () => (clearTimeout(timer), resolve());
    const timer = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `work` over items from a list or an async source, at most `limit` at a time. The first
 * failure calls `stop`, takes no more items, and is thrown once every work already started has
 * ended: the caller (which then gives up the run's lease) never returns while work still runs.
 */
async function pool<T>(items: Iterable<T> | AsyncIterable<T>, limit: number, work: (item: T) => Promise<void>, stop: (reason: unknown) => void): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    if (failure) return;
    failure = { error };
    stop(error);
  };
  try {
    for await (const item of items as AsyncIterable<T>) {
      if (failure) break;
      const promise: Promise<void> = work(item)
        .catch(fail)
        .finally(() => running.delete(promise));
      running.add(promise);
      if (running.size >= limit) await Promise.race(running);
    }
  } catch (error) {
    fail(error); // the item source itself failed
  }
  await Promise.all(running);
  if (failure) throw failure.error;
}
