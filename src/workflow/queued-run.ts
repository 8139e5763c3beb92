import { z } from 'zod';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { formatIssues } from '../core/validation-issue.js';
import { UnrecoverableJobError } from '../queue/queue-errors.js';
import type { JobQueue, QueuedJob } from '../queue/job-queue.js';
import { defaultModel } from '../model/default-model.js';
import { openStateStore } from '../store/open-state-store.js';
import type { StateStore } from '../store/state-store.js';
import { Engine, recordRun, type RunWorkflowOptions, type WorkItemInput } from './run-workflow.js';
import { collections, finalStates, itemKey, loadRun, readItems, runRecords, type ItemRecord, type RunRecord } from './run-state.js';
import type { WorkflowGraph } from './workflow-graph.js';

// A queued run: the process that starts it records the run and its items and queues one job per
// item; `troupe worker` processes (any number, on any machine that reaches the store and queue)
// take the jobs. A job runs one batch of its item's ready steps under the item's lease, then
// queues the item's next step, so one item's steps may be made by different workers. Exactly once
// in effect holds as for a run in one process: each step's outcome is recorded when it ends,
// steps that were running when a worker died run again (their side effects keyed by the step's
// idempotency key and the outbox), and item writes are compare-and-set.

/** The queue of queued runs' item steps, shared by every workflow on a backend: a job names its run. */
export const workflowRunsQueue = 'workflow-runs';

const itemJob = z.object({ runId: z.string().min(1), item: z.string().min(1), version: z.number().int().nonnegative() });
type ItemJob = z.infer<typeof itemJob>;

// A job fails only when the engine itself did (the store unreachable, the lease lost): a task that
// fails is an outcome, recorded on its item. Such a job is tried again, the step left where it was.
const jobAttempts = 5;
const jobBackoff = { type: 'exponential', delayMs: 1000 } as const;

export interface StartRunOptions extends RunWorkflowOptions {
  /** Where the item steps go: the `workflowRunsQueue` of the backend the workers serve. */
  queue: JobQueue;
}

/** What `workflow.enqueue` returns: the run's id, to follow it (`troupe runs show <id> --wait`). */
export interface StartedRun {
  runId: string;
  /** Items queued for workers (items whose input is invalid end failed at once and are not queued). */
  queued: number;
}

/**
 * Starts a run whose items workers process (`serveWorkflowRuns`, `troupe worker`): records the
 * run and its items, queues their first steps and returns. The model, when given, must be a model
 * string (`provider:model`, `replay:<cassette>`): workers resolve it themselves.
 */
export async function startRun<Input>(
  workflow: WorkflowGraph<Input>,
  items: Iterable<WorkItemInput<Input>> | AsyncIterable<WorkItemInput<Input>>,
  options: StartRunOptions,
): Promise<StartedRun> {
  if (options.model !== undefined && typeof options.model !== 'string')
    throw new ConfigurationError(`a queued run takes its model as a string (e.g. "${defaultModel}"): each worker resolves it`, {
      field: 'model',
    });
  const engine = new Engine(workflow, { ...options, store: options.store ?? (await openStateStore()) });
  if (await engine.store.get(collections.runs, engine.runId))
    throw new ConfigurationError(`run "${engine.runId}" already exists; pick a new run id`, { field: 'runId' });
  return engine.holding(async () => {
    const { known, add } = await recordRun(engine, workflow, items, {
      ...(options.source ? { source: options.source } : {}),
      queued: typeof options.model === 'string' ? { model: options.model } : {},
    });
    let queued = 0;
    const queueFirstStep = async (item: ItemRecord) => {
      if (finalStates.has(item.state)) {
        await noteEnded(engine.store, engine.runId, item.id, engine.versionOf(item.id));
        return;
      }
      await queueStep(options.queue, { runId: engine.runId, item: item.id, version: engine.versionOf(item.id) });
      queued++;
    };
    if (known) for (const item of await engine.receiveAll(known)) await queueFirstStep(item);
    else
      for await (const item of items as AsyncIterable<WorkItemInput<Input>>) {
        const { id, input } = await add(item);
        await queueFirstStep(await engine.receive(id, input));
      }
    await engine.finish({ queued: true });
    return { runId: engine.runId, queued };
  });
}

/**
 * Queues again the next step of every item of a queued run that is not final: after a review
 * decision, or when the process that started the run died before it queued every item. Steps
 * already queued are not doubled (a job's id names the item's version). Returns how many were queued.
 */
export async function requeueRun(store: StateStore, queue: JobQueue, runId: string): Promise<number> {
  const run = await loadRun(store, runId);
  if (!run) throw new ConfigurationError(`no run "${runId}" in the store (troupe runs list shows them)`, { field: 'run' });
  if (!run.queued)
    throw new ConfigurationError(`run "${runId}" runs in one process, not on workers: continue it with troupe run --resume ${runId}`, { field: 'run' });
  let count = 0;
  for (const { value: item, version } of await readItems(store, runId)) {
    if (finalStates.has(item.state)) continue;
    await queueStep(queue, { runId, item: item.id, version });
    count++;
  }
  return count;
}

export interface ServeWorkflowRunsOptions extends Omit<RunWorkflowOptions, 'runId' | 'waitForReviews' | 'waitForLease'> {
  /** The workflow of a run: looked up by the run's workflow name or its `source` file. */
  workflow: (run: RunRecord) => WorkflowGraph<unknown> | Promise<WorkflowGraph<unknown>>;
  store: StateStore;
  /** Item steps run at once by this process (default 1). */
  concurrency?: number;
  /**
   * Runs of one step's job before its item is failed with the error (default and at most 5).
   * A job fails only when the engine itself does (the store unreachable, a callback throwing);
   * a task that fails is its item's outcome at once.
   */
  maxJobAttempts?: number;
}

/**
 * Takes queued runs' item steps from `queue` until the queue is closed. Each job holds its item's
 * lease (waiting while another process holds it), recovers steps a dead worker left running, runs
 * one batch of ready steps, and queues the next; when the item ends or waits for review, the
 * run's status is brought up to date.
 */
export async function serveWorkflowRuns(queue: JobQueue, options: ServeWorkflowRunsOptions): Promise<void> {
  const { workflow: workflowOf, concurrency = 1, maxJobAttempts = jobAttempts, ...runOptions } = options;
  const lastAttempt = Math.min(maxJobAttempts, jobAttempts);
  const settle = coalescing((engine: Engine) => engine.finish({ queued: true }).then(() => undefined));
  const engineFor = (workflow: WorkflowGraph<unknown>, run: RunRecord, item: string) => {
    const model = runOptions.model ?? run.queued?.model;
    return new Engine(workflow, {
      ...runOptions,
      ...(model !== undefined ? { model } : {}),
      runId: run.id,
      leaseKey: itemKey(run.id, item),
      waitForLease: { pollMs: 250 },
    });
  };
  // Every job checks its run's record (it may have been deleted, or have items added), but reads
  // and checks it whole only when its version changed: a run record lists every item id, so
  // reading it for each step of each item would cost time in the square of the run's size.
  const checked = new Map<string, { version: number; run: RunRecord }>();
  const readRun = async (runId: string): Promise<RunRecord | undefined> => {
    const known = checked.get(runId);
    if (known && options.store.version) {
      const version = await options.store.version(collections.runs, runId);
      if (version === undefined) return undefined;
      if (version === known.version) return known.run;
    }
    const doc = await options.store.get(collections.runs, runId);
    if (!doc) return undefined;
    if (known?.version === doc.version) return known.run;
    const run = runRecords.read(doc.value, { collection: collections.runs, id: runId, location: options.store.where(collections.runs, runId) });
    checked.delete(runId);
    checked.set(runId, { version: doc.version, run });
    if (checked.size > 16) checked.delete(checked.keys().next().value!);
    return run;
  };
  await queue.process(
    async (job) => {
      const parsed = itemJob.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableJobError(`job ${job.id} is not a workflow item step: ${formatIssues(parsed.error.issues)}`);
      const { runId, item } = parsed.data;
      const run = await readRun(runId);
      if (!run) return; // the run was deleted: nothing is left to do
      const workflow = await workflowOf(run);
      try {
        await step(engineFor(workflow, run, item), run, item);
      } catch (error) {
        if (job.attempt < lastAttempt) throw error;
        await giveUp(job, `a worker gave up on its step after ${job.attempt} attempts: ${(error as Error).message}`);
      }
    },
    // Workers died while running the step too often: the queue gives up without a run that fails.
    { concurrency, onAbandoned: (job, reason) => giveUp(job, `the queue gave up on its step: ${reason}`) },
  );

  /** Given up for good: the item fails with the reason, so the run ends instead of waiting forever. */
  async function giveUp(job: QueuedJob, why: string): Promise<void> {
    const parsed = itemJob.safeParse(job.data);
    if (!parsed.success) return;
    const { runId, item } = parsed.data;
    const run = await readRun(runId);
    if (!run) return;
    const engine = engineFor(await workflowOf(run), run, item);
    await engine.holding(async () => {
      const record = await engine.loadOne(item);
      if (record) await engine.abandon(record, why);
    });
    await settleIfAllEnded(engine, run, item);
  }

  /** One job's work: the item's ready steps, once, under its lease; then its next step queued, or the run's status brought up to date. */
  async function step(engine: Engine, run: RunRecord, item: string): Promise<void> {
    const next = await engine.holding(async () => {
      // The item's first write below (its steps marked running) is also the fence: one write, not two.
      const record = await engine.loadOne(item, { fenceWithFirstSave: true });
      if (!record || finalStates.has(record.state)) return undefined;
      await engine.recover(record);
      await engine.advance(record, 1);
      await engine.fence(record);
      const goesOn = !finalStates.has(record.state) && record.state !== 'awaiting-review';
      return goesOn ? { runId: run.id, item, version: engine.versionOf(item) } : undefined;
    });
    if (next) await queueStep(queue, next);
    else await settleIfAllEnded(engine, run, item);
  }

  /**
   * Brings the run's status up to date once every item has ended (or waits for review) at least
   * once: that reads all its items, so it is not done while others are still being worked on.
   */
  async function settleIfAllEnded(engine: Engine, run: RunRecord, item: string): Promise<void> {
    const ended = await noteEnded(engine.store, run.id, item, engine.versionOf(item));
    if (ended >= (run.items?.length ?? 0)) await settle(run.id, engine);
  }
}

/**
 * Counts an item's end (final, waiting for review, or its document lost: version 0) in the run's
 * `ended` stream, keyed by item and version: a redelivered job counts nothing twice, an item that
 * ends again after a review counts again. Returns the entry's number, which reaches the number of
 * items once every item has ended at least once.
 */
function noteEnded(store: StateStore, runId: string, item: string, version: number): Promise<number> {
  return store.append(`ended.${runId}`, { item, version }, { key: `${item}@${version}` });
}

function queueStep(queue: JobQueue, job: ItemJob): Promise<unknown> {
  return queue.add('item-step', job, { jobId: `${job.runId}.${job.item}.v${job.version}`, attempts: jobAttempts, backoff: jobBackoff });
}

/**
 * Runs `work` for a key at most once at a time: a call made while it runs waits for one more run
 * that starts after it asked (shared by every such call). Bringing a run's status up to date reads
 * all its items; when many end at once, this keeps that to a few reads instead of one per item.
 */
function coalescing<A>(work: (argument: A) => Promise<void>): (key: string, argument: A) => Promise<void> {
  const running = new Map<string, Promise<void>>();
  const waiting = new Map<string, Promise<void>>();
  const start = (key: string, argument: A): Promise<void> => {
    const run: Promise<void> = work(argument).finally(() => {
      if (running.get(key) === run) running.delete(key);
    });
    running.set(key, run);
    return run;
  };
  return (key, argument) => {
    const queued = waiting.get(key);
    if (queued) return queued;
    const current = running.get(key);
    if (!current) return start(key, argument);
    const after = current
      .catch(() => {})
      .then(() => {
        waiting.delete(key);
        return start(key, argument);
      });
    waiting.set(key, after);
    return after;
  };
}
