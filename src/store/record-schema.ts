import type { z } from 'zod';
import { formatIssues } from '../core/validation-issue.js';
import type { JsonValue } from '../core/json.js';
import { CorruptRecordError } from './errors/corrupt-record-error.js';
import type { AppendOptions, PutOptions, ReadOptions, StateStore, UpdateOptions } from './state-store.js';

/**
 * The one name of the format version every persisted record carries. Not `version`: documents
 * already have a store version (`StoredDocument.version`), and work records use `version` for an
 * item's version, so the format's own number needs a name nobody else uses.
 */
export const versionField = 'schemaVersion';

/** Where a record was read from, for the error that names it. */
export interface RecordLocation {
  collection: string;
  id: string;
  /** The file path or Redis key, when known. */
  location?: string | undefined;
}

export interface RecordDefinition {
  /** What the record is, in words: `run`, `work item`, `lease`. */
  kind: string;
  /** The version this build writes; it reads this one and, through `migrate`, older ones. */
  version: number;
  /**
   * The record's shape, without the version field. Loose objects are the rule (`z.looseObject`):
   * the schema checks what the code relies on, and fields added later by a newer minor change pass.
   */
  schema: z.ZodType;
  /** Names the version field had before it was `schemaVersion` (`schema`, `version`): read as it. */
  legacyVersionFields?: readonly string[];
  /** The version of records written before they carried any version field (usually 1). */
  unversioned?: number;
  /** Reshapes a value of a format from before records were objects with a version (an array, say); other values pass as they are. */
  legacy?: (value: unknown) => unknown;
  /** Turns a record of an older version (without its version field) into the shape of `version`. */
  migrate?: (value: Record<string, unknown>, fromVersion: number) => Record<string, unknown>;
}

/**
 * A kind of persisted record: how it is checked when read back, and stamped with its format
 * version when written. Stored values are never trusted as typed: a record edited or damaged
 * outside Troupe, or written by a newer build, fails here with a `CorruptRecordError` naming the
 * collection, the id, where it lives and the path of the field that is wrong (never its value,
 * which may be a secret), instead of failing later somewhere far from the cause.
 */
export class RecordSchema<T extends object> {
  readonly kind: string;
  readonly version: number;
  readonly #definition: RecordDefinition;

  constructor(definition: RecordDefinition) {
    this.#definition = definition;
    this.kind = definition.kind;
    this.version = definition.version;
  }

  /** The stored value checked, migrated to the current version and without its version field. */
  read(stored: unknown, where: RecordLocation): T {
    const corrupt = (problem: string) => new CorruptRecordError(where.collection, where.id, problem, where.location);
    const value = this.#definition.legacy ? this.#definition.legacy(stored) : stored;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw corrupt(`it is not a ${this.kind} record (not an object)`);
    const { [versionField]: current, ...rest } = value as Record<string, unknown>;
    let found = current;
    for (const field of this.#definition.legacyVersionFields ?? []) {
      if (found === undefined && rest[field] !== undefined) found = rest[field];
      delete rest[field];
    }
    found ??= this.#definition.unversioned;
    if (found === undefined) throw corrupt(`it has no ${versionField}, so it is not a ${this.kind} record`);
    if (typeof found !== 'number' || !Number.isSafeInteger(found) || found < 1) throw corrupt(`its ${versionField} is not a whole number >= 1`);
    if (found > this.version)
      throw corrupt(
        `it was written by a newer Troupe (${this.kind} ${versionField} ${found}; this one reads up to ${this.version}): upgrade Troupe to read it`,
      );
    let migrated = rest;
    if (found < this.version) {
      if (!this.#definition.migrate) throw corrupt(`${this.kind} ${versionField} ${found} cannot be read by this Troupe (it reads ${this.version})`);
      migrated = this.#definition.migrate(rest, found);
    }
    const checked = this.#definition.schema.safeParse(migrated);
    if (!checked.success) {
      const issues = checked.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message }));
      throw corrupt(`it does not have the shape of a ${this.kind} record (${formatIssues(issues)})`);
    }
    // The schema checked the fields the code relies on; the rest is the record as written.
    return checked.data as T;
  }

  /**
   * The value to store: the record stamped with this build's version. Properties that are
   * `undefined` are left out at any depth (optional fields set from optional values), as JSON
   * would; anything else that is not JSON still fails in the store with `NotJsonError`.
   */
  write(value: T): JsonValue {
    const out: Record<string, unknown> = { [versionField]: this.version };
    // A for-in over own keys, not Object.entries: no array of pairs per record written.
    for (const key in value) {
      if (!Object.hasOwn(value, key) || key === versionField) continue;
      const inner = (value as Record<string, unknown>)[key];
      if (inner !== undefined) out[key] = withoutUndefined(inner);
    }
    // Records are plain data by construction; the store checks that every value is JSON before writing it.
    return out as JsonValue;
  }

  /** A document read and checked, with the store version for compare-and-set; `undefined` when missing. */
  async get(store: StateStore, collection: string, id: string): Promise<{ value: T; version: number } | undefined> {
    const doc = await store.get(collection, id);
    return doc && { value: this.read(doc.value, { collection, id, location: store.where(collection, id) }), version: doc.version };
  }

  /** Writes a document and returns its new store version. */
  async put(store: StateStore, collection: string, id: string, value: T, options?: PutOptions): Promise<number> {
    return (await store.put(collection, id, this.write(value), options)).version;
  }

  /** Read-modify-write through `StateStore.update`, the current value checked before `fn` sees it; returns what was written. */
  async update(store: StateStore, collection: string, id: string, fn: (current: T | undefined) => T, options?: UpdateOptions): Promise<T> {
    const location = { collection, id, location: store.where(collection, id) };
    let written: T | undefined;
    await store.update(
      collection,
      id,
      (current) => {
        written = fn(current === undefined ? undefined : this.read(current, location));
        return this.write(written);
      },
      options,
    );
    return written!;
  }

  /**
   * Every document of a collection (with a prefix), each checked. Damaged ones are left out and
   * pushed to `corrupt` when it is given, so one bad record does not hide the others; without it
   * the first one throws (never a silent loss).
   */
  async list(
    store: StateStore,
    collection: string,
    options: { prefix?: string; corrupt?: CorruptRecordError[] } = {},
  ): Promise<Array<{ id: string; value: T; version: number }>> {
    const out: Array<{ id: string; value: T; version: number }> = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.list(collection, { limit: 500, ...(options.prefix ? { prefix: options.prefix } : {}), ...(after ? { after } : {}) });
      const damaged = [...(page.corrupt ?? [])];
      for (const doc of page.items) {
        try {
          out.push({ id: doc.id, value: this.read(doc.value, { collection, id: doc.id, location: store.where(collection, doc.id) }), version: doc.version });
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

  /** Appends the record to a stream; returns its sequence number. */
  append(store: StateStore, stream: string, value: T, options?: AppendOptions): Promise<number> {
    return store.append(stream, this.write(value), options);
  }

  /** Entries of a stream, each checked; a damaged one names the stream and its sequence number. */
  async readStream(store: StateStore, stream: string, options?: ReadOptions): Promise<Array<{ seq: number; entry: T }>> {
    const entries = await store.read(stream, options);
    return entries.map(({ seq, entry }) => ({ seq, entry: this.read(entry, { collection: stream, id: `entry ${seq}` }) }));
  }
}

/** The value without `undefined` properties; the same object when it has none (no copy of a clean record). */
function withoutUndefined(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const inner = withoutUndefined(value[index]);
      if (inner !== value[index]) (out ??= value.slice())[index] = inner;
    }
    return out ?? value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  let out: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const inner = record[key];
    if (inner === undefined) {
      out ??= { ...record };
      delete out[key];
      continue;
    }
    const cleaned = withoutUndefined(inner);
    if (cleaned !== inner) (out ??= { ...record })[key] = cleaned;
  }
  return out ?? value;
}

/** Defines a kind of persisted record; see `RecordSchema`. */
export function defineRecord<T extends object>(definition: RecordDefinition): RecordSchema<T> {
  return new RecordSchema<T>(definition);
}
