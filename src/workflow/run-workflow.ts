import { AwaitingReviewError } from '../core/errors/awaiting-review-error.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { formatIssues } from '../core/errors/input-validation-error.js';
import { randomIds, systemClock, type Clock, type IdGenerator } from '../core/ids.js';
import type { JsonValue } from '../core/json.js';
import type { ModelClient } from '../model/model-client.js';
import type { TraceSink } from '../observe/trace-event.js';
import type { StateStore } from '../store/state-store.js';
import { openStateStore } from '../store/open-state-store.js';
import type { Approver } from '../tools/approval.js';
import type { Claim } from './claim.js';
import type { Workflow } from './define-workflow.js';
import { getReview, type ReviewRequest } from './review.js';
import { approvalKey, runStep, type ReviewDraft, type StepOutcome } from './run-step.js';
import { collections, finalStates, itemKey, listItems, loadRun, runStateVersion, toJson, transitionsStream, type ItemRecord, type ItemState, type RunGraph, type RunRecord, type RunStatus, type Transition } from './run-state.js';
import { edgeInput, settle } from './item-graph.js';
import { storeOutbox } from './store-outbox.js';
import type { Outbox } from '../tools/outbox.js';

/** An item to process: its input, and an id (default `item-<n>`) that names it in state and reviews. */
export interface WorkItemInput<Input> {
  id?: string;
  input: Input;
}

export interface RunWorkflowOptions {
  /** Where runs, items, transitions and reviews are kept (default: `openStateStore()`, the local store or Redis). */
  store?: StateStore;
  runId?: string;
  /** Used by every model task instead of its own model (tests pass a scripted model). */
  model?: string | ModelClient;
  trace?: TraceSink;
  signal?: AbortSignal;
  clock?: Clock;
  ids?: IdGenerator;
  /**
   * Keep items that wait for review in this process and check for decisions this often, so a
   * decision made from another terminal (`troupe review approve`) lets the run go on. Without it
   * the run returns with status `awaiting-review` and continues with `resumeRun`.
   */
  waitForReviews?: { pollMs?: number };
  /** Called after each task's output is accepted: to record real inputs and outputs as examples, or to watch. */
  onTaskDone?: (event: { item: string; task: string; input: unknown; output: unknown; claim: Claim }) => void | Promise<void>;
}

export interface ItemSummary {
  id: string;
  state: ItemState;
  outputs: Record<string, JsonValue | undefined>;
  reason?: string;
  review?: string;
}

export interface RunSummary {
  runId: string;
  workflow: string;
  status: RunStatus;
  items: ItemSummary[];
  counts: Partial<Record<ItemState, number>>;
}

/**
 * Runs a workflow over items: a known list (batch) or an async iterable whose items arrive while
 * the workflow runs (streaming). Every state change is persisted before the next step, so a run
 * that crashes resumes with `resumeRun` from its last recorded step.
 */
export async function runWorkflow<Input>(workflow: Workflow<Input>, items: Iterable<WorkItemInput<Input>> | AsyncIterable<WorkItemInput<Input>>, options: RunWorkflowOptions = {}): Promise<RunSummary> {
  const engine = new Engine(workflow, options);
  const clock = engine.clock;
  const run: RunRecord = { schemaVersion: runStateVersion, id: engine.runId, workflow: workflow.name, graph: graphOf(workflow), status: 'running', startedAt: clock.now(), updatedAt: clock.now(), counts: {} };
  await engine.store.put(collections.runs, run.id, run as unknown as JsonValue);
  let count = 0;
  const receive = (item: WorkItemInput<Input>) => engine.receive(item.id ?? `item-${++count}`, item.input);
  if (Symbol.iterator in items) {
    // A known list is recorded whole before any work, so a crash loses none of it.
    const received: ItemRecord[] = [];
    for (const item of items) received.push(await receive(item));
    await pool(received, workflow.concurrency, (item) => engine.process(item));
  } else {
    await pool(items, workflow.concurrency, async (item) => engine.process(await receive(item)));
  }
  return engine.finish();
}

/** Continues a run after a crash, a restart or a review decision: final items stay as they are, done steps are not repeated. */
export async function resumeRun<Input>(workflow: Workflow<Input>, runId: string, options: RunWorkflowOptions = {}): Promise<RunSummary> {
  const engine = new Engine(workflow, { ...options, runId });
  const run = await loadRun(engine.store, runId);
  if (!run) throw new ConfigurationError(`no run "${runId}" in the store (troupe runs list shows them)`, { field: 'run' });
  if (run.workflow !== workflow.name) throw new ConfigurationError(`run "${runId}" belongs to workflow "${run.workflow}", not "${workflow.name}"`, { field: 'run' });
  const items = (await listItems(engine.store, runId)).filter((item) => !finalStates.has(item.state));
  await pool(items, workflow.concurrency, async (item) => {
    await engine.recover(item);
    await engine.process(item);
  });
  return engine.finish();
}

class Engine {
  readonly store: StateStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly runId: string;
  readonly outbox: Outbox;

  constructor(
    readonly workflow: Workflow<any>,
    readonly options: RunWorkflowOptions,
  ) {
    this.store = options.store ?? openStateStore();
    this.clock = options.clock ?? systemClock;
    this.ids = options.ids ?? randomIds;
    this.runId = options.runId ?? this.ids('run');
    this.outbox = storeOutbox(this.store);
  }

  async receive(id: string, input: unknown): Promise<ItemRecord> {
    const item: ItemRecord = { schemaVersion: runStateVersion, runId: this.runId, id, input: toJson(input), state: 'received', tasks: {}, loops: {}, approvals: [] };
    for (const name of this.workflow.tasks.keys()) item.tasks[name] = { status: 'pending', attempts: 0 };
    const parsed = this.workflow.input.safeParse(input);
    await this.save(item);
    await this.transition(item, { to: 'received', why: 'received' });
    if (!parsed.success) await this.end(item, 'failed', `the item's input is invalid: ${formatIssues(parsed.error.issues)}`);
    return item;
  }

  /** Steps that were running when the process died run again (done ones never do). */
  async recover(item: ItemRecord): Promise<void> {
    for (const [name, record] of Object.entries(item.tasks)) {
      if (record.status !== 'running') continue;
      record.status = 'pending';
      await this.transition(item, { to: item.state, task: name, policy: 'resume.rerun', why: `"${name}" was interrupted (the run stopped during it) and runs again` });
    }
  }

  async process(item: ItemRecord): Promise<void> {
    for (;;) {
      await this.advance(item);
      const wait = this.options.waitForReviews;
      if (item.state !== 'awaiting-review' || !wait || this.options.signal?.aborted) return;
      await sleep(wait.pollMs ?? 1000, this.options.signal);
    }
  }

  private async advance(item: ItemRecord): Promise<void> {
    if (item.state === 'awaiting-review' && !(await this.applyReview(item))) return;
    while (!finalStates.has(item.state) && item.state !== 'awaiting-review') {
      if (this.options.signal?.aborted) return;
      const { ready, skipped } = settle(this.workflow, item);
      for (const name of skipped) item.tasks[name]!.status = 'skipped';
      if (ready.length === 0) {
        await this.end(item, 'accepted', 'every step is done');
        return;
      }
      const batch = ready.slice(0, this.workflow.branchConcurrency);
      for (const name of batch) item.tasks[name]!.status = 'running';
      await this.save(item); // a crash from here on re-runs these steps; done ones never again
      const inputs = new Map<string, unknown>();
      const outcomes = await Promise.all(batch.map((name) => this.step(item, name, inputs)));
      for (const [index, outcome] of outcomes.entries()) {
        await this.apply(item, batch[index]!, outcome);
        if (outcome.kind === 'done' && this.options.onTaskDone) await this.options.onTaskDone({ item: item.id, task: batch[index]!, input: inputs.get(batch[index]!), output: outcome.output, claim: outcome.claim });
        if (finalStates.has(item.state) || (item.state as ItemState) === 'awaiting-review') break;
      }
      await this.save(item);
    }
  }

  async finish(): Promise<RunSummary> {
    const items = await listItems(this.store, this.runId);
    const counts: Partial<Record<ItemState, number>> = {};
    for (const item of items) counts[item.state] = (counts[item.state] ?? 0) + 1;
    const status: RunStatus = counts['awaiting-review'] ? 'awaiting-review' : items.some((item) => !finalStates.has(item.state)) ? 'running' : counts.failed ? 'failed' : 'done';
    await this.store.update(collections.runs, this.runId, (current) => ({ ...(current as object), status, counts, updatedAt: this.clock.now() }) as JsonValue);
    return {
      runId: this.runId,
      workflow: this.workflow.name,
      status,
      counts,
      items: items.map((item) => ({
        id: item.id,
        state: item.state,
        outputs: Object.fromEntries(Object.entries(item.tasks).filter(([, task]) => task.status === 'done' && task.output !== undefined).map(([name, task]) => [name, task.output])),
        ...(item.reason ? { reason: item.reason } : {}),
        ...(item.review ? { review: item.review } : {}),
      })),
    };
  }

  private step(item: ItemRecord, name: string, inputs: Map<string, unknown>): Promise<StepOutcome> {
    const task = this.workflow.tasks.get(name)!;
    const record = item.tasks[name]!;
    const input = edgeInput(this.workflow, item, name);
    inputs.set(name, input);
    const checked = task.input.safeParse(input);
    if (!checked.success) return Promise.resolve({ kind: 'failed', reason: `the input of "${name}" is invalid: ${formatIssues(checked.error.issues)}` });
    return runStep({
      task,
      input: checked.data,
      record,
      context: {
        runId: this.runId,
        itemId: item.id,
        task: name,
        idempotencyKey: `${this.runId}.${item.id}.${name}`,
        approver: this.approverFor(item),
        outbox: this.outbox,
        ...(this.options.trace ? { trace: this.options.trace } : {}),
        ...(this.options.signal ? { signal: this.options.signal } : {}),
      },
      note: (transition) => this.transition(item, { ...transition, task: name, to: item.state }),
      ...(this.options.model !== undefined ? { defaultModel: this.options.model } : {}),
    });
  }

  private async apply(item: ItemRecord, name: string, outcome: StepOutcome): Promise<void> {
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
        const claim = { value: record.output, status: outcome.claim.status, evidence: outcome.claim.evidence, ...(outcome.claim.model ? { model: outcome.claim.model } : {}) };
        await this.transition(item, { to: task.stage ?? item.state, task: name, why: `"${name}" done: its claim was validated and accepted`, claim });
        await this.followEdges(item, name, outcome.output);
        return;
      }
      case 'review':
        return this.requestReview(item, name, outcome.review);
      case 'rejected':
        record.status = 'done';
        return this.end(item, 'rejected', outcome.reason, name);
      case 'failed':
        record.status = 'failed';
        record.error = outcome.reason;
        return this.end(item, 'failed', outcome.reason, name);
    }
  }

  /** Records the routes taken from a finished task, and sends the item back upstream when a loop edge fires. */
  private async followEdges(item: ItemRecord, name: string, output: unknown): Promise<void> {
    const view = { id: item.id, input: item.input, outputs: outputsOf(item) };
    for (const edge of this.workflow.outgoing(name)) {
      if (edge.when && !edge.when(output, view)) continue;
      if (!edge.loop) {
        if (edge.when) await this.transition(item, { to: item.state === 'received' ? 'routed' : item.state, task: name, route: edge.route ?? `${name}->${edge.to}`, why: `route ${edge.route ?? `${name} → ${edge.to}`} taken` });
        continue;
      }
      const key = `${edge.from}->${edge.to}`;
      const sent = item.loops[key] ?? 0;
      const feedback = edge.loop.feedback(output, view);
      if (sent >= edge.loop.maxAttempts) {
        await this.requestReview(item, name, { kind: 'output', what: `"${name}" sent the item back to "${edge.to}" ${sent} times, the limit; decide what happens`, policy: 'loop.limit', proposal: toJson(output), evidence: [], findings: [feedback] });
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
      await this.transition(item, { to: item.state, task: name, route: 'loop', policy: 'loop.send-back', why: `"${name}" sent the item back to "${edge.to}" (${sent + 1} of ${edge.loop.maxAttempts}): ${feedback}` });
      return;
    }
  }

  private async requestReview(item: ItemRecord, name: string, draft: ReviewDraft): Promise<void> {
    const review: ReviewRequest = { ...draft, schemaVersion: runStateVersion, id: this.ids('review'), runId: this.runId, workflow: this.workflow.name, item: item.id, task: name, status: 'pending', createdAt: this.clock.now() };
    await this.store.put(collections.reviews, review.id, review as unknown as JsonValue, { expectedVersion: 0 });
    item.tasks[name]!.status = 'awaiting-review';
    item.review = review.id;
    await this.transition(item, { to: 'awaiting-review', task: name, policy: draft.policy, review: review.id, why: draft.what });
    await this.save(item);
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
      item.approvals.push({ tool: review.tool!.name, inputKey: review.tool!.inputKey, approved: review.status === 'approved', by: decision.by, ...(decision.note ? { note: decision.note } : {}) });
      record.status = 'pending';
      await this.transition(item, { to: resumeState, task: review.task, review: review.id, why });
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
      await this.transition(item, { to: resumeState, task: review.task, review: review.id, why });
      return true;
    }
    const value = decision.value ?? review.proposal;
    const parsed = task.output.safeParse(value);
    if (!parsed.success) {
      await this.end(item, 'failed', `${why}, but the approved value is not a valid output of "${review.task}": ${formatIssues(parsed.error.issues)}`, review.task);
      return false;
    }
    await this.transition(item, { to: resumeState, task: review.task, review: review.id, why });
    await this.apply(item, review.task, { kind: 'done', output: parsed.data, claim: { value: parsed.data, status: 'proposed', evidence: review.evidence } });
    return true;
  }

  private approverFor(item: ItemRecord): Approver {
    return (request) => {
      const key = approvalKey(request.input);
      const decided = item.approvals.find((approval) => approval.tool === request.tool && approval.inputKey === key);
      if (decided) return { approved: decided.approved, ...(decided.note ? { note: decided.note } : {}), ...(decided.by ? { by: decided.by } : {}) };
      throw new AwaitingReviewError(`tool "${request.tool}" needs approval`, undefined, { details: { request } });
    };
  }

  private async end(item: ItemRecord, state: 'accepted' | 'rejected' | 'failed', why: string, task?: string): Promise<void> {
    if (state !== 'accepted') item.reason = why;
    await this.transition(item, { to: state, why, ...(task ? { task } : {}) });
    await this.save(item);
  }

  private async transition(item: ItemRecord, change: Omit<Transition, 'at' | 'item' | 'from'>): Promise<void> {
    const transition: Transition = { at: this.clock.now(), item: item.id, from: item.state, ...change };
    item.state = change.to;
    if (progressStates.has(change.to)) item.stage = change.to;
    await this.store.append(transitionsStream(this.runId), toJson(transition));
    this.options.trace?.({ type: 'item-transition', at: transition.at, runId: this.runId, workflow: this.workflow.name, item: item.id, from: transition.from, to: transition.to, why: transition.why, ...(transition.task ? { task: transition.task } : {}), ...(transition.policy ? { policy: transition.policy } : {}) });
  }

  private save(item: ItemRecord): Promise<unknown> {
    return this.store.put(collections.items, itemKey(this.runId, item.id), item as unknown as JsonValue);
  }
}

function graphOf(workflow: Workflow<any>): RunGraph {
  return {
    start: workflow.start,
    tasks: [...workflow.tasks.values()].map((task) => ({ name: task.name, kind: task.kind, ...(task.stage ? { stage: task.stage } : {}) })),
    edges: [...workflow.forward, ...workflow.loops].map((edge) => ({ from: edge.from, to: edge.to, ...(edge.route ? { route: edge.route } : {}), ...(edge.loop ? { loop: true } : {}) })),
  };
}

const progressStates: ReadonlySet<ItemState> = new Set(['received', 'routed', 'extracted', 'validated']);

function outputsOf(item: ItemRecord): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item.tasks).filter(([, task]) => task.status === 'done').map(([name, task]) => [name, task.output]));
}

/** The progress stage an item returns to after a review. */
function lastStage(item: ItemRecord): ItemState {
  return item.stage ?? 'received';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/** Runs `work` over items from a list or an async source, at most `limit` at a time. */
async function pool<T>(items: Iterable<T> | AsyncIterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  for await (const item of items as AsyncIterable<T>) {
    const promise: Promise<void> = work(item).finally(() => running.delete(promise));
    running.add(promise);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
}
