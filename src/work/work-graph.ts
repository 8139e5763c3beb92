import { mergeRunOptions, runContext, type RunContext, type RunOptions } from '../agent/run-context.js';
import type { Clock, IdGenerator } from '../core/ids.js';
import type { JsonValue } from '../core/json.js';
import type { ModelClient } from '../model/model-client.js';
import type { JobQueue, QueuedJob } from '../queue/job-queue.js';
import { QueueIdleTimeoutError, UnrecoverableJobError, isUnrecoverable } from '../queue/queue-errors.js';
import type { ReadOptions, StateStore } from '../store/state-store.js';
import { EffectScope } from '../tools/outbox.js';
import { lineDiff } from './line-diff.js';
import { chatPrompt, decide, historyOf, notificationPrompt, taskAgent, type TaskAgent } from './task-agent.js';
import { GraphNotQuietError, UnknownWorkItemError, WorkItemContentionError } from './work-errors.js';
import { defineWorkGraph, isWorkGraphSpec, type WorkGraphDefinition, type WorkGraphSpec } from './work-graph-definition.js';
import {
  WorkItemStore,
  eventRecords,
  outcomeRecords,
  type ConversationTurn,
  type ItemDecision,
  type ItemNotification,
  type NotificationOutcome,
  type WorkEvent,
  type WorkItem,
} from './work-item.js';

/** The graph's store and queue, and its defaults for every agent run (any part of a `RunContext`; `model` replaces every item agent's model). */
export interface WorkGraphOptions extends Omit<RunOptions, 'runId'> {
  store: StateStore;
  /** The graph's own queue (one per graph: its idleness is the graph's quiet). */
  queue: JobQueue;
  /** Runs allowed per notification, the first included (default 5). A retry never applies a change twice. */
  maxJobAttempts?: number | undefined;
}

/** What a person gets back from `chat`: the agent's answer, and the item after it. */
export interface ChatAnswer {
  answer: string;
  changed: boolean;
  item: WorkItem;
  /** Dependents notified of the change (empty when nothing changed). */
  notified: string[];
}

const notifyJob = 'notify';
// Rounds of read → decide → compare-and-set before a job gives up and is retried by the queue.
const maxRounds = 4;

/**
 * Work items, the task agents that own them, and change propagation between them. Items,
 * conversations and outcomes live in the `StateStore`, notifications travel through the
 * `JobQueue`, so any process that opens the same graph on the same store and queue (a
 * `troupe worker`) can serve any item.
 *
 * A change to item X at version v notifies each dependent once: the job id is
 * `<dependent>+<X>+v<v>`, so the queue drops repeats, and the outcome document (create-only)
 * drops repeats the queue has forgotten. A retried job finds its change id recorded on the item,
 * and its agent's decision in the conversation, so it never applies a change twice.
 *
 * Each event is appended under a key naming what it describes (`change:<item>:v<version>`,
 * `bounded:<notification id>`...), so a step that is retried after a crash appends it again
 * without doubling it; an outcome's event is written with its create-only outcome document, in
 * one atomic batch, which keeps it single: every applied change and every outcome has exactly
 * one event.
 */
export class WorkGraph {
  readonly name: string;
  readonly spec: WorkGraphSpec;
  readonly store: StateStore;
  readonly queue: JobQueue;
  readonly #items: WorkItemStore;
  readonly #agents = new Map<string, TaskAgent>();
  readonly #listeners = new Set<(event: WorkEvent) => void>();
  readonly #model: string | ModelClient | undefined;
  readonly #attempts: number;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  /** Every agent run's defaults; the model is not among them: it is each item agent's own, resolved once. */
  readonly #defaults: RunOptions;

  constructor(definition: WorkGraphDefinition | WorkGraphSpec, options: WorkGraphOptions) {
    this.spec = isWorkGraphSpec(definition) ? definition : defineWorkGraph(definition);
    this.name = this.spec.name;
    this.store = options.store;
    this.queue = options.queue;
    this.#model = options.model;
    this.#attempts = options.maxJobAttempts ?? 5;
    ({ clock: this.#clock, ids: this.#ids } = runContext(options));
    this.#defaults = { ...mergeRunOptions(options, {}), model: undefined, runId: undefined };
    this.#items = new WorkItemStore(options.store, this.name, this.#clock);
  }

  /** Creates the items that do not exist yet with their initial content. Safe to call from every process. */
  async seed(): Promise<string[]> {
    const created: string[] = [];
    const ids = [...this.spec.items.keys()];
    for (let start = 0; start < ids.length; start += 64) {
      await Promise.all(
        ids.slice(start, start + 64).map(async (id) => {
          if (await this.#items.create(id, this.spec.items.get(id)!.content ?? '')) created.push(id);
        }),
      );
    }
    return created;
  }

  async item(id: string): Promise<WorkItem> {
    return (await this.#read(id)).item;
  }

  /** Every item, in definition order. */
  async items(): Promise<WorkItem[]> {
    return Promise.all([...this.spec.items.keys()].map((id) => this.item(id)));
  }

  /** The item's conversation: its agent's recent turns, with what each decided. */
  async conversation(id: string): Promise<ConversationTurn[]> {
    this.#known(id);
    return this.#items.turns(id);
  }

  /** The graph's events in order: changes, notification outcomes, bounds, chats. */
  async events(options?: ReadOptions): Promise<Array<{ seq: number; entry: WorkEvent }>> {
    return eventRecords.readStream(this.store, this.#items.eventStream, options);
  }

  /** Every notification's outcome, by notification id. */
  async outcomes(): Promise<NotificationOutcome[]> {
    return (await outcomeRecords.list(this.store, this.#items.outcomesCollection)).map((document) => document.value);
  }

  /** Events made by this process, as they happen (the stream has everyone's). Returns an unsubscribe function. */
  onEvent(listener: (event: WorkEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Changes an item from code (a person's edit, an import), then notifies its dependents. With
   * `expectedVersion` the write is compare-and-set; without, it applies on whatever is there.
   */
  async change(id: string, change: { content: string; summary: string; changeId?: string; expectedVersion?: number }): Promise<WorkItem> {
    const changeId = change.changeId ?? this.#ids('change');
    for (let round = 1; ; round++) {
      const read = await this.#read(id);
      const basis = change.expectedVersion ?? read.item.version;
      const written = await this.#items.write(
        id,
        basis,
        { changeId, content: change.content, summary: change.summary, changedBy: 'code', origin: changeId, countsTowardBudget: false },
        read,
      );
      if (written.applied) {
        await this.#emit({
          type: 'item-change',
          item: id,
          version: written.item.version,
          summary: change.summary,
          changedBy: 'code',
          changeId,
          origin: changeId,
          depth: 0,
          at: this.#clock.now(),
        });
        await this.#notifyDependents(written.item, written.previous.content, { depth: 0, origin: changeId });
        return written.item;
      }
      if (written.reason === 'already-applied') return this.item(id);
      if (change.expectedVersion !== undefined || round >= maxRounds) throw new WorkItemContentionError(this.name, id, round);
    }
  }

  /**
   * A person talks to the item's agent. Its answer and any change are recorded (in its
   * conversation and the event stream) and a change notifies the dependents as usual.
   */
  async chat(id: string, message: string, run: RunOptions = {}): Promise<ChatAnswer> {
    const chatId = this.#ids('chat');
    const agent = this.#agent(id);
    for (let round = 1; round <= maxRounds; round++) {
      const { item } = await this.#read(id);
      const turns = await this.#items.turns(id);
      const { decision, messages } = await decide(
        agent,
        chatPrompt(message, item),
        historyOf(turns, this.spec.conversationTurns),
        this.#run(`chat.${chatId}`, run),
        { store: this.store, name: `${this.spec.name}/${id}` },
      );
      const turn: ConversationTurn = { id: chatId, basisVersion: item.version, messages, decision };
      if (decision.kind === 'no-change') {
        await this.#items.addTurn(id, turn, this.spec.conversationTurns);
        await this.#emit({ type: 'chat', item: id, chatId, message, answer: decision.reason, changed: false, version: item.version, at: this.#clock.now() });
        return { answer: decision.reason, changed: false, item, notified: [] };
      }
      const written = await this.#items.write(id, item.version, {
        changeId: chatId,
        content: decision.content,
        summary: decision.summary,
        changedBy: 'chat',
        origin: chatId,
        countsTowardBudget: false,
      });
      if (!written.applied) continue; // The item changed while the agent thought: ask again with the new content.
      await this.#items.addTurn(id, turn, this.spec.conversationTurns);
      await this.#emit({
        type: 'item-change',
        item: id,
        version: written.item.version,
        summary: decision.summary,
        changedBy: 'chat',
        changeId: chatId,
        origin: chatId,
        depth: 0,
        at: this.#clock.now(),
      });
      const { notified } = await this.#notifyDependents(written.item, written.previous.content, { depth: 0, origin: chatId });
      await this.#emit({
        type: 'chat',
        item: id,
        chatId,
        message,
        answer: decision.summary,
        changed: true,
        version: written.item.version,
        at: this.#clock.now(),
      });
      return { answer: decision.summary, changed: true, item: written.item, notified };
    }
    throw new WorkItemContentionError(this.name, id, maxRounds);
  }

  /** Starts taking notifications from the queue in this process. */
  async work(options: { concurrency?: number } & RunOptions = {}): Promise<void> {
    await this.#resendDirectChanges();
    await this.queue.process((job) => this.#handle(job, options), {
      concurrency: options.concurrency ?? 1,
      // Workers died while running it too often: recorded as failed, so the notification has an outcome a person can see.
      // A change it already applied is finished instead (its dependents notified), as a retry would.
      onAbandoned: async (job, reason) => {
        const notification = parseNotification(job.data);
        if (await this.#items.outcome(notification.id)) return;
        const read = await this.#items.get(notification.item);
        const applied = read?.document.changes.find((entry) => entry.changeId === notification.id);
        if (read && applied) return this.#recovered(notification, read.item, applied.version);
        await this.#record(notification, { outcome: 'failed', note: `the queue gave up on it: ${reason}`, notified: [], notNotified: [] });
      },
    });
  }

  /**
   * A person's (chat) or code's change is written before its event is appended and its
   * notifications are queued, so a process that died in between would leave them missing. Each
   * worker therefore re-sends the notifications of items whose latest change was direct when it
   * starts: the same job ids de-duplicate them, and one already handled is skipped by its
   * recorded outcome. (Changes made by notifications need no sweep: their job is retried.)
   *
   * Only changes younger than half the outcome retention are re-sent: an older one's outcomes may
   * have expired, and its notifications would run again. Its event is appended again (under its
   * key) only within the hour: a key is remembered only while its event is among the kept ones,
   * and an hour is far less than the time the default 10,000 events take to flow on any graph
   * we know of, while a crashed process's change is normally swept by the next worker to start.
   */
  async #resendDirectChanges(): Promise<void> {
    const now = this.#clock.now();
    const ids = [...this.spec.items.keys()];
    for (let start = 0; start < ids.length; start += 64) {
      await Promise.all(
        ids.slice(start, start + 64).map(async (id) => {
          const found = await this.#items.get(id);
          const origin = found?.document.changes.at(-1)?.changeId;
          if (!found || !origin || found.item.version < 2 || (found.item.changedBy !== 'chat' && found.item.changedBy !== 'code')) return;
          const age = now - found.item.updatedAt;
          if (age < 3600_000) {
            const { id: item, version, summary, changedBy } = found.item;
            await this.#emit({ type: 'item-change', item, version, summary, changedBy, changeId: origin, origin, depth: 0, at: found.item.updatedAt });
          }
          if (age < this.spec.retention.outcomesMs / 2) await this.#notifyDependents(found.item, undefined, { depth: 0, origin });
        }),
      );
    }
  }

  /** Whether no notification is waiting, running or scheduled for a retry. */
  async isQuiet(): Promise<boolean> {
    const counts = await this.queue.counts();
    return counts.waiting + counts.active + counts.delayed === 0;
  }

  /**
   * Resolves when the graph is quiet. A job adds its notifications before it completes, so an
   * empty queue means nothing is left to flow. Throws `GraphNotQuietError` after `timeoutMs` (default 30 s).
   */
  async waitUntilQuiet(options: { timeoutMs?: number } = {}): Promise<void> {
    try {
      await this.queue.waitUntilIdle(options);
    } catch (error) {
      if (error instanceof QueueIdleTimeoutError)
        throw new GraphNotQuietError(this.name, options.timeoutMs ?? 30_000, { cause: error, details: error.details });
      throw error;
    }
  }

  /** Closes the queue (running jobs get `graceMs`) and the store. */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    await this.queue.close(options);
    await this.store.close();
  }

  async #handle(job: QueuedJob, run: RunOptions): Promise<void> {
    const notification = parseNotification(job.data);
    try {
      await this.#process(notification, run);
    } catch (error) {
      const last = isUnrecoverable(error) || job.attempt >= this.#attempts;
      if (last) {
        // Failed for good: record it, so the notification has an outcome a person can see.
        await this.#record(notification, { outcome: 'failed', note: (error as Error).message, notified: [], notNotified: [] }).catch(() => {});
      }
      throw error;
    }
  }

  async #process(notification: ItemNotification, run: RunOptions): Promise<void> {
    const id = notification.item;
    const definition = this.spec.items.get(id);
    if (!definition) throw new UnrecoverableJobError(`Work graph "${this.name}" has no item "${id}" (notified by ${notification.source}).`);
    for (let round = 1; round <= maxRounds; round++) {
      // The outcome and the item are read together (one round trip on Redis); the item is read
      // again, alone, only in a later round after a conflicting write.
      const [done, read] = await Promise.all([round === 1 ? this.#items.outcome(notification.id) : undefined, this.#read(id)]);
      // Processed before: a duplicate the queue had forgotten, or a retry after the outcome was kept.
      if (done) return;
      const { item, document } = read;
      const recorded = document.changes.find((entry) => entry.changeId === notification.id);
      if (recorded) return this.#recovered(notification, item, recorded.version);
      const updates = document.origins.find((entry) => entry.origin === notification.origin)?.updates ?? 0;
      if (updates >= this.spec.limits.maxUpdatesPerItem) {
        const note = `"${id}" already took ${updates} updates from this change (limits.maxUpdatesPerItem is ${this.spec.limits.maxUpdatesPerItem})`;
        return void (await this.#record(notification, { outcome: 'bounded', bound: 'update-budget', note, notified: [], notNotified: [] }));
      }
      const decision = await this.#decide(notification, item, run);
      if (decision.kind === 'no-change')
        return void (await this.#record(notification, { outcome: 'no-change', note: decision.reason, notified: [], notNotified: [] }));
      const written = await this.#items.write(
        id,
        item.version,
        {
          changeId: notification.id,
          content: decision.content,
          summary: decision.summary,
          changedBy: 'notification',
          origin: notification.origin,
          countsTowardBudget: true,
        },
        read,
      );
      if (written.applied) {
        await this.#emit({
          type: 'item-change',
          item: id,
          version: written.item.version,
          summary: decision.summary,
          changedBy: 'notification',
          changeId: notification.id,
          origin: notification.origin,
          depth: notification.depth,
          at: this.#clock.now(),
        });
        const sent = await this.#notifyDependents(written.item, written.previous.content, notification);
        return void (await this.#record(notification, { outcome: 'updated', version: written.item.version, note: decision.summary, ...sent }));
      }
      if (written.reason === 'already-applied') return this.#recovered(notification, (await this.#read(id)).item, written.version);
    }
    throw new WorkItemContentionError(this.name, id, maxRounds);
  }

  /**
   * The job's change was applied by an earlier run that died before finishing. Notify the
   * dependents again (their jobs are de-duplicated), unless the item has moved on: then the later
   * change's notifications carry the newer content.
   */
  async #recovered(notification: ItemNotification, item: WorkItem, version: number): Promise<void> {
    // Its event too, in case the earlier run died before appending it (the key keeps it single).
    const summary = item.version === version ? item.summary : 'applied (recovered after a retry)';
    await this.#emit({
      type: 'item-change',
      item: item.id,
      version,
      summary,
      changedBy: 'notification',
      changeId: notification.id,
      origin: notification.origin,
      depth: notification.depth,
      at: this.#clock.now(),
    });
    const sent = item.version === version ? await this.#notifyDependents(item, undefined, notification) : { notified: [], notNotified: [] };
    await this.#record(notification, {
      outcome: 'updated',
      version,
      note: `${item.version === version ? item.summary : 'applied'} (recovered after a retry)`,
      ...sent,
    });
  }

  /** The item's `react` code first; otherwise its agent, whose decision is kept in its conversation so a retry reuses it. */
  async #decide(notification: ItemNotification, item: WorkItem, run: RunOptions): Promise<ItemDecision> {
    const react = this.spec.items.get(item.id)!.react;
    const coded = react ? await react(notification, item) : undefined;
    if (coded) return coded;
    const turns = await this.#items.turns(item.id);
    const earlier = turns.find((turn) => turn.id === notification.id && turn.basisVersion === item.version);
    if (earlier) return earlier.decision;
    const history = historyOf(turns, this.spec.conversationTurns);
    const { decision, messages } = await decide(
      this.#agent(item.id),
      notificationPrompt(notification, item),
      history,
      this.#run(`notification.${notification.id}`, run),
      { store: this.store, name: `${this.spec.name}/${item.id}` },
    );
    const kept = await this.#items.addTurn(item.id, { id: notification.id, basisVersion: item.version, messages, decision }, this.spec.conversationTurns);
    return kept.decision;
  }

  /** Enqueues one notification per dependent (de-duplicated by job id), or records that the depth bound stopped it. */
  async #notifyDependents(
    item: WorkItem,
    previousContent: string | undefined,
    cause: { depth: number; origin: string },
  ): Promise<{ notified: string[]; notNotified: string[] }> {
    const dependents = this.spec.dependents.get(item.id) ?? [];
    if (dependents.length === 0) return { notified: [], notNotified: [] };
    const depth = cause.depth + 1;
    if (depth > this.spec.limits.maxDepth) {
      const at = this.#clock.now();
      for (const dependent of dependents) {
        await this.#emit({
          type: 'notification-bounded',
          item: dependent,
          source: item.id,
          sourceVersion: item.version,
          depth,
          bound: 'depth',
          maxDepth: this.spec.limits.maxDepth,
          origin: cause.origin,
          at,
        });
      }
      return { notified: [], notNotified: [...dependents] };
    }
    const diff = previousContent === undefined ? undefined : lineDiff(previousContent, item.content);
    await Promise.all(
      dependents.map((dependent) => {
        const notification: ItemNotification = {
          id: notificationId(dependent, item.id, item.version),
          item: dependent,
          source: item.id,
          sourceVersion: item.version,
          summary: item.summary,
          content: item.content,
          ...(diff !== undefined ? { diff } : {}),
          depth,
          origin: cause.origin,
        };
        return this.queue.add(notifyJob, notification as unknown as JsonValue, {
          jobId: notification.id,
          attempts: this.#attempts,
          backoff: { type: 'exponential', delayMs: 200 },
        });
      }),
    );
    return { notified: [...dependents], notNotified: [] };
  }

  async #record(
    notification: ItemNotification,
    result: Pick<NotificationOutcome, 'note' | 'notified' | 'notNotified'> & {
      outcome: NotificationOutcome['outcome'];
      version?: number;
      bound?: 'update-budget';
    },
  ): Promise<void> {
    const { id, item, source, sourceVersion, depth, origin } = notification;
    const outcome: NotificationOutcome = { id, item, source, sourceVersion, depth, origin, ...result, at: this.#clock.now() };
    // The event and the document in one atomic write. The document is what a job delivered again
    // checks first: once it exists, the event does too, and a duplicate that gets this far
    // (racing the first delivery) writes neither. So the event needs no idempotency key: the
    // create-only document keeps it single, and Redis does not keep a key per outcome.
    const event: WorkEvent = { type: 'notification-outcome', ...outcome };
    const recorded = await this.#items.recordOutcome(outcome, this.spec.retention.outcomesMs, { entry: event, keepLast: this.spec.retention.events });
    if (recorded) this.#tell(event);
  }

  async #emit(event: WorkEvent): Promise<void> {
    await this.#items.append(event, eventKey(event), this.spec.retention.events);
    this.#tell(event);
  }

  /** Passes an event this process made to the `onEvent` listeners. */
  #tell(event: WorkEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not change what happens to the item.
      }
    }
  }

  /** Reads an item, creating it from its definition first if the graph was never seeded. */
  async #read(id: string) {
    const definition = this.#known(id);
    const found = await this.#items.get(id);
    if (found) return found;
    await this.#items.create(id, definition.content ?? '');
    return (await this.#items.get(id))!;
  }

  #known(id: string) {
    const definition = this.spec.items.get(id);
    if (!definition) throw new UnknownWorkItemError(this.name, id, [...this.spec.items.keys()]);
    return definition;
  }

  #agent(id: string): TaskAgent {
    let agent = this.#agents.get(id);
    if (!agent) {
      const definition = this.#known(id);
      agent = taskAgent(this.name, definition, definition.dependsOn ?? [], this.#model ?? definition.model ?? this.spec.definition.model);
      this.#agents.set(id, agent);
    }
    return agent;
  }

  /**
   * An agent run's context: the graph's defaults with the caller's parts over them. Its side-effecting tool calls are recorded under `scope` (the notification,
   * or the chat): a redelivered job, or a round asked again after a conflicting write, repeats the
   * calls of the same notification, which are then answered from the record instead of acting
   * twice, and each call's `context.idempotencyKey` is the same on every delivery.
   */
  #run(scope: string, run: RunOptions): RunContext {
    const effects = new EffectScope(this.#items.outbox(this.spec.retention.outcomesMs), `work.${this.name}.${scope}`);
    return runContext(mergeRunOptions(this.#defaults, { ...run, effects }));
  }
}

/** `<dependent>+<source>+v<version>`: a valid job id (no ':', never all digits) and a valid store name. */
export function notificationId(dependent: string, source: string, version: number): string {
  return `${dependent}+${source}+v${version}`;
}

/** What an event describes, once: the key that keeps a re-appended event single. */
function eventKey(event: WorkEvent): string {
  switch (event.type) {
    case 'item-change':
      return `change:${event.item}:v${event.version}`;
    case 'notification-outcome':
      // Not used by #record (the outcome document keeps its event single); kept for completeness.
      return `outcome:${event.id}`;
    case 'notification-bounded':
      return `bounded:${notificationId(event.item, event.source, event.sourceVersion)}`;
    case 'chat':
      return `chat:${event.chatId}`;
  }
}

function parseNotification(data: JsonValue): ItemNotification {
  const value = data as Partial<ItemNotification> | null;
  if (
    !value ||
    typeof value !== 'object' ||
    typeof value.id !== 'string' ||
    typeof value.item !== 'string' ||
    typeof value.source !== 'string' ||
    typeof value.depth !== 'number' ||
    typeof value.origin !== 'string'
  ) {
    throw new UnrecoverableJobError(`A work-graph job holds no notification: ${JSON.stringify(data).slice(0, 200)}`);
  }
  return value as ItemNotification;
}
