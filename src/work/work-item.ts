import { z } from 'zod';
import type { Clock } from '../core/ids.js';
import type { Message } from '../model/model-client.js';
import { VersionConflictError } from '../store/errors/version-conflict-error.js';
import { defineRecord } from '../store/record-schema.js';
import type { StateStore } from '../store/state-store.js';
import type { Outbox } from '../tools/outbox.js';
import { storeOutbox } from '../workflow/store-outbox.js';

/**
 * The persisted format of the work records (items, conversations, outcomes, events: their
 * `schemaVersion`); bump it when a shape changes (STYLE.md point 9). Samples of every version
 * live in test/fixtures/records and are never edited.
 */
export const workItemSchemaVersion = 1;

/** A work item as read: its content at a version. `version` is the store's document version. */
export interface WorkItem {
  id: string;
  version: number;
  content: string;
  /** What the last change did, in words. */
  summary: string;
  changedBy: ChangeSource;
  updatedAt: number;
}

export type ChangeSource = 'seed' | 'chat' | 'notification' | 'code';

/** What a dependent's agent is told: item `source` changed to `sourceVersion`. Travels as job data. */
export interface ItemNotification {
  /** `<item>+<source>+v<version>`: the job id, so the same change notifies an item once. */
  id: string;
  item: string;
  source: string;
  sourceVersion: number;
  summary: string;
  content: string;
  /** Line diff from the source's previous version; absent when too large to compute. */
  diff?: string;
  /** Causal depth: a change made by a person or code is 0, a change made because of it 1, ... */
  depth: number;
  /** The id of the person's (or code's) change this notification descends from. */
  origin: string;
}

/** What an item's agent (or its `react` code) decided. */
export type ItemDecision = { kind: 'update'; content: string; summary: string } | { kind: 'no-change'; reason: string };

/** One agent run on an item, kept in its conversation: what it was asked and what it decided. */
export interface ConversationTurn {
  /** The notification id, or the chat id. */
  id: string;
  /** The item version the agent saw; a decision only applies to it. */
  basisVersion: number;
  messages: Message[];
  decision: ItemDecision;
}

export interface ItemDocument {
  content: string;
  summary: string;
  changedBy: ChangeSource;
  updatedAt: number;
  /** Recent change ids with the version each produced: a retried job finds its change here and does not apply it again. */
  changes: Array<{ changeId: string; version: number }>;
  /** Updates taken per origin (recent origins only), for `maxUpdatesPerItem`. */
  origins: Array<{ origin: string; updates: number }>;
}

const changeSources = ['seed', 'chat', 'notification', 'code'] as const;

/** Item documents named their version `schema` before every record used `schemaVersion`: read as it. */
export const itemDocuments = defineRecord<ItemDocument>({
  kind: 'work item',
  version: workItemSchemaVersion,
  legacyVersionFields: ['schema'],
  schema: z.looseObject({
    content: z.string(),
    summary: z.string(),
    changedBy: z.enum(changeSources),
    updatedAt: z.number(),
    changes: z.array(z.looseObject({ changeId: z.string(), version: z.number() })),
    origins: z.array(z.looseObject({ origin: z.string(), updates: z.number() })),
  }),
});

/** An item's conversation. Conversations, outcomes and events carried no version field before: those read as version 1. */
export const conversationRecords = defineRecord<{ turns: ConversationTurn[] }>({
  kind: 'conversation',
  version: workItemSchemaVersion,
  unversioned: 1,
  schema: z.looseObject({
    turns: z.array(
      z.looseObject({
        id: z.string(),
        basisVersion: z.number(),
        messages: z.array(z.looseObject({ role: z.string() })),
        decision: z.looseObject({ kind: z.enum(['update', 'no-change']) }),
      }),
    ),
  }),
});

export const outcomeRecords = defineRecord<NotificationOutcome>({
  kind: 'notification outcome',
  version: workItemSchemaVersion,
  unversioned: 1,
  schema: z.looseObject({
    id: z.string(),
    item: z.string(),
    source: z.string(),
    sourceVersion: z.number(),
    depth: z.number(),
    origin: z.string(),
    outcome: z.enum(['updated', 'no-change', 'bounded', 'failed']),
    version: z.number().optional(),
    note: z.string(),
    notified: z.array(z.string()),
    notNotified: z.array(z.string()),
    at: z.number(),
  }),
});

export const eventRecords = defineRecord<WorkEvent>({
  kind: 'work event',
  version: workItemSchemaVersion,
  unversioned: 1,
  schema: z.looseObject({
    type: z.enum(['item-change', 'notification-outcome', 'notification-bounded', 'chat']),
    item: z.string(),
    at: z.number(),
  }),
});

const keptChanges = 64;
const keptOrigins = 32;

export type WriteResult =
  | { applied: true; item: WorkItem; previous: WorkItem }
  | { applied: false; reason: 'already-applied'; version: number }
  | { applied: false; reason: 'conflict'; actualVersion: number };

/**
 * The store side of a graph: items, conversations and notification outcomes as documents, and
 * one event stream. Every write that a retried job may repeat is idempotent: item writes carry a
 * change id, conversation turns an id, outcomes are create-only.
 */
export class WorkItemStore {
  readonly itemsCollection: string;
  readonly conversationsCollection: string;
  readonly outcomesCollection: string;
  readonly effectsCollection: string;
  readonly eventStream: string;

  constructor(
    readonly store: StateStore,
    graph: string,
    private readonly clock: Clock,
  ) {
    this.itemsCollection = `work.${graph}.items`;
    this.conversationsCollection = `work.${graph}.conversations`;
    this.outcomesCollection = `work.${graph}.notifications`;
    this.effectsCollection = `work.${graph}.effects`;
    this.eventStream = `work.${graph}.events`;
  }

  async get(id: string): Promise<{ item: WorkItem; document: ItemDocument } | undefined> {
    const stored = await itemDocuments.get(this.store, this.itemsCollection, id);
    if (!stored) return undefined;
    return { item: toItem(id, stored.version, stored.value), document: stored.value };
  }

  /** Creates the item unless it exists; returns whether it was created. Safe to run from every process. */
  async create(id: string, content: string): Promise<boolean> {
    const document: ItemDocument = {
      content,
      summary: 'created',
      changedBy: 'seed',
      updatedAt: this.clock.now(),
      changes: [],
      origins: [],
    };
    try {
      await itemDocuments.put(this.store, this.itemsCollection, id, document, { expectedVersion: 0 });
      return true;
    } catch (error) {
      if (error instanceof VersionConflictError) return false;
      throw error;
    }
  }

  /**
   * Writes new content if the item is still at `basisVersion` (compare-and-set) and `changeId`
   * was not applied before. A change id already recorded returns the version it produced.
   */
  async write(
    id: string,
    basisVersion: number,
    change: { changeId: string; content: string; summary: string; changedBy: ChangeSource; origin: string; countsTowardBudget: boolean },
    /** The item as the caller just read it, to save reading it again; the compare-and-set still guards the write. */
    read?: { item: WorkItem; document: ItemDocument },
  ): Promise<WriteResult> {
    const current = read && read.item.version === basisVersion ? read : await this.get(id);
    const currentVersion = current?.item.version ?? 0;
    const recorded = current?.document.changes.find((entry) => entry.changeId === change.changeId);
    if (recorded) return { applied: false, reason: 'already-applied', version: recorded.version };
    if (!current || currentVersion !== basisVersion) return { applied: false, reason: 'conflict', actualVersion: currentVersion };
    const version = currentVersion + 1;
    const origins = current.document.origins.filter((entry) => entry.origin !== change.origin);
    const updates = (current.document.origins.find((entry) => entry.origin === change.origin)?.updates ?? 0) + (change.countsTowardBudget ? 1 : 0);
    const document: ItemDocument = {
      content: change.content,
      summary: change.summary,
      changedBy: change.changedBy,
      updatedAt: this.clock.now(),
      changes: [...current.document.changes, { changeId: change.changeId, version }].slice(-keptChanges),
      origins: [...origins, { origin: change.origin, updates }].slice(-keptOrigins),
    };
    try {
      const stored = await itemDocuments.put(this.store, this.itemsCollection, id, document, { expectedVersion: currentVersion });
      return { applied: true, item: toItem(id, stored, document), previous: current.item };
    } catch (error) {
      if (error instanceof VersionConflictError) return { applied: false, reason: 'conflict', actualVersion: error.actualVersion ?? currentVersion + 1 };
      throw error;
    }
  }

  async turns(id: string): Promise<ConversationTurn[]> {
    return (await conversationRecords.get(this.store, this.conversationsCollection, id))?.value.turns ?? [];
  }

  /**
   * Adds a turn unless one with the same id and basis is there already (a retried job's earlier
   * run), and returns the turn that is kept: a retry applies the first run's decision.
   */
  async addTurn(id: string, turn: ConversationTurn, keep: number): Promise<ConversationTurn> {
    let kept = turn;
    await conversationRecords.update(this.store, this.conversationsCollection, id, (current) => {
      const turns = current?.turns ?? [];
      const earlier = turns.find((entry) => entry.id === turn.id && entry.basisVersion === turn.basisVersion);
      kept = earlier ?? turn;
      return { turns: (earlier ? turns : [...turns, turn]).slice(-Math.max(keep, 1)) };
    });
    return kept;
  }

  /**
   * Records a notification's outcome once, kept for `ttlMs`, together with its event (keeping
   * the newest `keepLast`; appended under `key` if one is given): one `batch`, so both or
   * neither are written, in one round trip. False when the outcome was recorded before (a job
   * delivered again): then nothing is written, so the event needs no key to stay single.
   */
  async recordOutcome(outcome: NotificationOutcome, ttlMs: number, event: { entry: WorkEvent; key?: string; keepLast: number }): Promise<boolean> {
    try {
      await this.store.batch([
        {
          kind: 'append',
          stream: this.eventStream,
          entry: eventRecords.write(event.entry),
          options: { ...(event.key ? { key: event.key } : {}), keepLast: event.keepLast },
        },
        { kind: 'put', collection: this.outcomesCollection, id: outcome.id, value: outcomeRecords.write(outcome), options: { expectedVersion: 0, ttlMs } },
      ]);
      return true;
    } catch (error) {
      if (error instanceof VersionConflictError) return false;
      throw error;
    }
  }

  /**
   * Where the agents' side-effecting tool calls are recorded (see `Outbox`), each record kept for
   * `ttlMs`: as long as the outcomes, since a record must outlive every redelivery of its job too.
   */
  outbox(ttlMs: number): Outbox {
    return storeOutbox(this.store, this.effectsCollection, { ttlMs });
  }

  async outcome(id: string): Promise<NotificationOutcome | undefined> {
    return (await outcomeRecords.get(this.store, this.outcomesCollection, id))?.value;
  }

  /**
   * Appends an event once per key (a retried step appends it again without doubling it), keeping
   * the newest `keepLast` events.
   */
  async append(event: WorkEvent, key: string, keepLast: number): Promise<void> {
    await eventRecords.append(this.store, this.eventStream, event, { key, keepLast });
  }
}

/** What became of one notification. Kept as a document per notification id, and as an event. */
export interface NotificationOutcome {
  id: string;
  item: string;
  source: string;
  sourceVersion: number;
  depth: number;
  origin: string;
  /** `failed`: the job failed for good (its last attempt, or an error that retrying cannot fix). */
  outcome: 'updated' | 'no-change' | 'bounded' | 'failed';
  /** The item's version after an update. */
  version?: number;
  /** The update's summary, or why nothing changed. */
  note: string;
  /** Which bound stopped it: the item's update budget for this origin. */
  bound?: 'update-budget';
  /** Dependents notified of the update, and those a depth bound kept from being notified. */
  notified: string[];
  notNotified: string[];
  at: number;
}

/** The graph's event stream, for people and the dashboard: what flowed where. */
export type WorkEvent =
  | {
      type: 'item-change';
      item: string;
      version: number;
      summary: string;
      changedBy: ChangeSource;
      changeId: string;
      origin: string;
      depth: number;
      at: number;
    }
  | ({ type: 'notification-outcome' } & NotificationOutcome)
  | {
      type: 'notification-bounded';
      item: string;
      source: string;
      sourceVersion: number;
      depth: number;
      bound: 'depth';
      maxDepth: number;
      origin: string;
      at: number;
    }
  | { type: 'chat'; item: string; chatId: string; message: string; answer: string; changed: boolean; version: number; at: number };

function toItem(id: string, version: number, document: ItemDocument): WorkItem {
  return { id, version, content: document.content, summary: document.summary, changedBy: document.changedBy, updatedAt: document.updatedAt };
}
