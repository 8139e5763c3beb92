import type { JsonValue } from '../core/json.js';
import type { CorruptRecordError } from './errors/corrupt-record-error.js';

/** A document as stored: its id, its value and the version the store gave it. */
export interface StoredDocument<T extends JsonValue = JsonValue> {
  id: string;
  /** 1 on creation, +1 on every put. A document that does not exist has version 0. */
  version: number;
  value: T;
}

export interface PutOptions {
  /**
   * Compare-and-set: write only if the document's current version is this one, otherwise throw
   * `VersionConflictError`. `0` means "must not exist yet" (create-only). Omit to write blindly.
   */
  expectedVersion?: number;
  /**
   * The document expires this many milliseconds after the write: from then on it reads as
   * missing (version 0, so a create-only put succeeds again) and the store removes it (Redis at
   * once, the file store when it next lists the collection). A put without it makes the
   * document permanent again.
   */
  ttlMs?: number;
}

export interface AppendOptions {
  /**
   * Idempotency key: the entry is appended only if no entry with this key is among the entries
   * the stream still keeps; otherwise nothing is written and the sequence number of the entry
   * already there is returned. A step that is retried after a crash re-appends its entry with the
   * same key and never doubles it.
   */
  key?: string;
  /**
   * Keep only the newest `keepLast` entries: older entries and their keys are removed.
   * Sequence numbers are never reused. The Redis store trims to exactly this many on every
   * append; the file store rewrites its log in batches, so up to 10 % more may remain.
   */
  keepLast?: number;
}

export interface DeleteOptions {
  /** Delete only at this version, otherwise throw `VersionConflictError`. */
  expectedVersion?: number;
}

export interface UpdateOptions {
  /** How many read-modify-write rounds to try before giving up with `VersionConflictError`. Default 25. */
  maxAttempts?: number;
}

/**
 * Computes a document's next value from its current one (`undefined` when it does not exist).
 * It may run more than once when another writer gets in first, so it must not have side
 * effects, and it must not call `update` on the same document (that would wait on itself).
 */
export type Updater<T extends JsonValue> = (current: T | undefined, version: number) => T | Promise<T>;

export interface ListOptions {
  /** Only ids that start with this. */
  prefix?: string;
  /** At most this many documents. Default 100. */
  limit?: number;
  /** Only ids after this one: pass the previous page's `next`. */
  after?: string;
}

export interface ListPage<T extends JsonValue = JsonValue> {
  /** In id order (byte order of the id; ids are ASCII). */
  items: StoredDocument<T>[];
  /** Set when more documents may follow: pass it as `after` to read the next page. */
  next?: string;
  /**
   * Documents of this page that could not be read (damaged JSON): left out of `items` so one bad
   * document does not hide the others, and reported here so it is not lost without a word.
   */
  corrupt?: CorruptRecordError[];
}

export interface StreamEntry<T extends JsonValue = JsonValue> {
  /**
   * 1, 2, 3 ... per stream, with no gaps and no duplicates, in the order appends were accepted.
   * Trimmed entries (`AppendOptions.keepLast`) keep their numbers: the first one kept may be > 1.
   */
  seq: number;
  entry: T;
}

export interface ReadOptions {
  /** Only entries with a sequence number above this. Default 0 (from the start). */
  after?: number;
  /** At most this many entries. Default 1000. */
  limit?: number;
}

/** One write of a `StateStore.batch`: a document put or a stream append, with the options the single call takes. */
export type BatchWrite =
  | { kind: 'put'; collection: string; id: string; value: JsonValue; options?: PutOptions }
  | { kind: 'append'; stream: string; entry: JsonValue; options?: AppendOptions };

/**
 * Where Troupe keeps state that must outlive a process and be shared between processes: run and
 * work-item state (documents with versions, for compare-and-set) and their append-only
 * transition records (streams). The implementations pass the same contract tests: `SqliteStore`,
 * the embedded default (`.troupe/state.db`), `RedisStore`, and the `FileStore` it replaced. Choose one with
 * `openStateStore()`; code above this layer only sees this interface.
 *
 * Names of collections, documents and streams are 1–100 characters of `A-Z a-z 0-9 _ . - @ + =`,
 * not starting with `.` and without `..` (they become file names and key parts); anything else
 * throws `ConfigurationError`. Values are JSON (`JsonValue`): functions, `undefined`, `NaN`,
 * class instances, cycles and the like throw `NotJsonError` before anything is written.
 * Values read back are what was written, parsed from JSON; the type parameter is not checked,
 * so validate values that came from elsewhere (with zod) where it matters.
 */
export interface StateStore {
  /** The document, or `undefined` when it does not exist. A damaged one throws `CorruptRecordError`. */
  get<T extends JsonValue = JsonValue>(collection: string, id: string): Promise<StoredDocument<T> | undefined>;

  /**
   * The document's version alone, or `undefined` when it does not exist: to tell whether a copy
   * read before is still current without reading and parsing the whole document again (a queued
   * run's record, which lists every item, is checked by every step). Optional: without it,
   * callers read the document (`get`).
   */
  version?(collection: string, id: string): Promise<number | undefined>;

  /** Writes a document (creating it at version 1) and returns it with its new version. */
  put<T extends JsonValue>(collection: string, id: string, value: T, options?: PutOptions): Promise<StoredDocument<T>>;

  /**
   * Read-modify-write: reads the document, computes its next value with `fn`, and writes it with
   * compare-and-set, trying again from the read when another writer got in first.
   */
  update<T extends JsonValue>(collection: string, id: string, fn: Updater<T>, options?: UpdateOptions): Promise<StoredDocument<T>>;

  /**
   * Deletes a document; returns whether it existed. A document created again afterwards starts
   * over at version 1. With `expectedVersion`, a missing document counts as version 0.
   */
  delete(collection: string, id: string, options?: DeleteOptions): Promise<boolean>;

  /** A page of documents in id order; follow `next` for the rest. */
  list<T extends JsonValue = JsonValue>(collection: string, options?: ListOptions): Promise<ListPage<T>>;

  /** Appends an entry to a stream (created on first append) and returns its sequence number. */
  append<T extends JsonValue>(stream: string, entry: T, options?: AppendOptions): Promise<number>;

  /**
   * Entries of a stream in sequence order, from the oldest one still kept (see
   * `AppendOptions.keepLast`); empty for a stream that does not exist.
   */
  read<T extends JsonValue = JsonValue>(stream: string, options?: ReadOptions): Promise<StreamEntry<T>[]>;

  /**
   * Writes several documents and stream entries as one: either every write happens or none does.
   * A put whose `expectedVersion` does not hold fails the whole batch with `VersionConflictError`
   * (nothing written); an append whose key is already there writes nothing and gives the earlier
   * entry's number, as `append` does. Writes apply in order (a later put of the same document
   * expects the version the earlier one gave it). Returns, per write, the document's new version
   * or the entry's sequence number. One step of a workflow (its transitions and its item) is one
   * batch: one SQLite transaction, one Redis script call. Concurrent batches settle on their own:
   * the Redis store sends those issued in the same tick in one script call, each still written
   * all or nothing and answered with its own results or its own error.
   */
  batch(writes: readonly BatchWrite[]): Promise<number[]>;

  /** Where a document lives (a file path, a Redis key), for messages that point at it. */
  where(collection: string, id: string): string;

  /** Releases connections and handles. The store must not be used afterwards. */
  close(): Promise<void>;
}
