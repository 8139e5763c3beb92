import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { JsonValue } from '../core/json.js';
import { embeddedStorePaths } from './backend.js';
import { CorruptRecordError } from './errors/corrupt-record-error.js';
import { StoreCorruptError } from './errors/store-corrupt-error.js';
import { VersionConflictError } from './errors/version-conflict-error.js';
import { KeyedMutex } from './keyed-mutex.js';
import {
  checkAppend,
  checkPut,
  parseJsonText,
  toJsonText,
  validateEntryKey,
  validateName,
  validatePositiveLimit,
  validateVersion,
} from './store-validation.js';
import type {
  AppendOptions,
  BatchWrite,
  DeleteOptions,
  ListOptions,
  ListPage,
  PutOptions,
  ReadOptions,
  StateStore,
  StoredDocument,
  StreamEntry,
  UpdateOptions,
  Updater,
} from './state-store.js';
import { updateWithRetry } from './update-with-retry.js';

/** The SQLite drivers this store runs on: both have better-sqlite3's synchronous API. */
export type SqliteDriver = 'libsql' | 'better-sqlite3';

export interface SqliteStoreOptions {
  /** The database file. Default `${TROUPE_HOME ?? '.troupe'}/state.db`. */
  path?: string;
  /** Default `libsql` (its binary ships in a registry package); `better-sqlite3` if installed. */
  driver?: SqliteDriver;
  /** How long a write waits for another process's transaction before failing. Default 10 s. */
  busyTimeoutMs?: number;
}

/** The part of the drivers' API this store uses. */
interface Database {
  exec(sql: string): unknown;
  prepare(sql: string): Statement;
  close(): void;
}

interface Statement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/**
 * The most writes one commit gathers (see `#write`): many items in flight at once commit in
 * groups as their writes arrive, so the first ones go on while later ones are still computed.
 */
const writesPerCommit = 100;

/** Persisted formats carry a version (STYLE.md point 9): the schema's, in `PRAGMA user_version`. */
const schemaVersion = 1;

const schema = `
  CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    expires_at INTEGER,
    value TEXT NOT NULL,
    PRIMARY KEY (collection, id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS streams (
    stream TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS entries (
    stream TEXT NOT NULL,
    seq INTEGER NOT NULL,
    key TEXT,
    entry TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX IF NOT EXISTS entries_by_key ON entries (stream, key) WHERE key IS NOT NULL;
  PRAGMA user_version = ${schemaVersion};
`;

interface DocumentRow {
  version: number;
  expires_at: number | null;
  value: string;
}

/**
 * The embedded store on SQLite: one database file, in WAL mode, safe for several processes at
 * once (a run in one terminal, a review approved from another) — SQLite's own locks order the
 * writers, and a writer waits up to `busyTimeoutMs` for another's transaction.
 *
 * Every write (and every `batch` of writes) is atomic, and the writes that arrive in one turn of
 * the event loop are committed together, up to 100 at a time (`#write` groups them), so a run's
 * many concurrent items cost a few commits, not one each.
 * `synchronous = NORMAL`: a commit is durable against a crash of the process at once, and
 * against a power cut from the next WAL checkpoint on; a power cut can lose the last commits
 * before it, never corrupt the database or half-apply one.
 *
 * Documents live in one table keyed by (collection, id) with their version for compare-and-set;
 * a stream's entries live in another keyed by (stream, seq), with a unique index on their
 * idempotency keys. The driver is loaded on first use, so importing Troupe loads no native code.
 */
export class SqliteStore implements StateStore {
  readonly path: string;
  readonly #driver: SqliteDriver;
  readonly #busyTimeoutMs: number;
  readonly #mutex = new KeyedMutex();
  #database: Database | undefined;
  #statements = new Map<string, Statement>();
  #pending: Array<{ work: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }> = [];
  /**
   * Inside a write transaction: the last sequence number of each stream appended to, read from
   * the `streams` table once (under the transaction's write lock, so no other process moves it
   * meanwhile) and written back once before the commit, instead of a read-and-increment per append.
   */
  #sequences = new Map<string, number>();
  /** The sequence numbers as they were before the current write, to put back when its savepoint is rolled back. */
  #sequencesBefore = new Map<string, number | undefined>();
  #closed = false;

  constructor(options: SqliteStoreOptions = {}) {
    this.path = options.path ?? embeddedStorePaths().database;
    this.#driver = options.driver ?? 'libsql';
    this.#busyTimeoutMs = validatePositiveLimit('busyTimeoutMs', options.busyTimeoutMs, 10_000);
  }

  async get<T extends JsonValue = JsonValue>(collection: string, id: string): Promise<StoredDocument<T> | undefined> {
    validateName('collection', collection);
    validateName('id', id);
    const row = this.#live(this.#statement('SELECT version, expires_at, value FROM documents WHERE collection = ? AND id = ?').get(collection, id));
    return row && { id, version: row.version, value: this.#parseValue<T>(row, collection, id) };
  }

  async version(collection: string, id: string): Promise<number | undefined> {
    validateName('collection', collection);
    validateName('id', id);
    return this.#live<Omit<DocumentRow, 'value'>>(
      this.#statement('SELECT version, expires_at FROM documents WHERE collection = ? AND id = ?').get(collection, id),
    )?.version;
  }

  where(collection: string, id: string): string {
    return `${this.path} (documents ${collection}/${id})`;
  }

  async put<T extends JsonValue>(collection: string, id: string, value: T, options: PutOptions = {}): Promise<StoredDocument<T>> {
    validateName('collection', collection);
    validateName('id', id);
    const { text, ttlMs } = checkPut(collection, id, value, options);
    return this.#write(() => ({ id, version: this.#putNow(collection, id, text, options.expectedVersion, ttlMs), value }));
  }

  async batch(writes: readonly BatchWrite[]): Promise<number[]> {
    // Every write is checked before any is queued: a bad one (not JSON, a bad name) fails the batch with nothing written.
    const steps = writes.map((write): (() => number) => {
      if (write.kind === 'put') {
        const { collection, id, value, options = {} } = write;
        validateName('collection', collection);
        validateName('id', id);
        const { text, ttlMs } = checkPut(collection, id, value, options);
        return () => this.#putNow(collection, id, text, options.expectedVersion, ttlMs);
      }
      const { stream, entry, options = {} } = write;
      validateName('stream', stream);
      const { text, key, keepLast } = checkAppend(stream, entry, options);
      return () => this.#appendNow(stream, text, key, keepLast);
    });
    // One savepoint for the whole batch (see #flush): a conflict in any put rolls back all of it.
    return this.#write(() => steps.map((step) => step()));
  }

  update<T extends JsonValue>(collection: string, id: string, fn: Updater<T>, options?: UpdateOptions): Promise<StoredDocument<T>> {
    // `fn` may be async, and no transaction may stay open across an await: compare-and-set instead.
    return updateWithRetry(this, this.#mutex, collection, id, fn, options);
  }

  async delete(collection: string, id: string, options: DeleteOptions = {}): Promise<boolean> {
    validateName('collection', collection);
    validateName('id', id);
    validateVersion('expectedVersion', options.expectedVersion);
    return this.#write(() => {
      const version = this.#currentVersion(collection, id);
      if (options.expectedVersion !== undefined && options.expectedVersion !== version)
        throw new VersionConflictError(collection, id, options.expectedVersion, version);
      if (version === 0) return false;
      this.#statement('DELETE FROM documents WHERE collection = ? AND id = ?').run(collection, id);
      return true;
    });
  }

  async list<T extends JsonValue = JsonValue>(collection: string, options: ListOptions = {}): Promise<ListPage<T>> {
    validateName('collection', collection);
    const limit = validatePositiveLimit('limit', options.limit, 100);
    const { prefix = '', after } = options;
    // Ids are ASCII, so byte order (SQLite's BINARY collation) is the contract's id order.
    const rows = this.#statement(
      'SELECT id, version, expires_at, value FROM documents WHERE collection = ? AND id > ? AND substr(id, 1, ?) = ? ORDER BY id LIMIT ?',
    ).all(collection, after ?? '', prefix.length, prefix, limit + 1) as Array<DocumentRow & { id: string }>;
    const considered = rows.slice(0, limit);
    const items: StoredDocument<T>[] = [];
    const corrupt: CorruptRecordError[] = [];
    const expired: string[] = [];
    for (const row of considered) {
      if (!this.#live(row)) {
        expired.push(row.id);
        continue;
      }
      try {
        items.push({ id: row.id, version: row.version, value: this.#parseValue<T>(row, collection, row.id) });
      } catch (error) {
        if (!(error instanceof CorruptRecordError)) throw error;
        corrupt.push(error);
      }
    }
    if (expired.length > 0) {
      const now = Date.now();
      await this.#write(() => {
        const remove = this.#statement('DELETE FROM documents WHERE collection = ? AND id = ? AND expires_at IS NOT NULL AND expires_at <= ?');
        for (const id of expired) remove.run(collection, id, now);
      });
    }
    const last = considered.at(-1);
    return { items, ...(rows.length > limit && last !== undefined ? { next: last.id } : {}), ...(corrupt.length ? { corrupt } : {}) };
  }

  async append<T extends JsonValue>(stream: string, entry: T, options: AppendOptions = {}): Promise<number> {
    validateName('stream', stream);
    const { text, key, keepLast } = checkAppend(stream, entry, options);
    return this.#write(() => this.#appendNow(stream, text, key, keepLast));
  }

  async read<T extends JsonValue = JsonValue>(stream: string, options: ReadOptions = {}): Promise<StreamEntry<T>[]> {
    validateName('stream', stream);
    const limit = validatePositiveLimit('limit', options.limit, 1000);
    const after = options.after ?? 0;
    validateVersion('after', after);
    const rows = this.#statement('SELECT seq, entry FROM entries WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?').all(stream, after, limit) as Array<{
      seq: number;
      entry: string;
    }>;
    return rows.map((row) => ({
      seq: row.seq,
      entry: parseJsonText<T>(row.entry, (problem) => new StoreCorruptError(`${this.path} (stream ${stream} entry ${row.seq})`, problem)),
    }));
  }

  /**
   * Writes a document with the version and expiry it had elsewhere, replacing what is here (for
   * `importFileStore`: versions carry over, so a compare-and-set taken before the move still holds).
   */
  async importDocument(collection: string, id: string, document: { version: number; value: JsonValue; expiresAt?: number }): Promise<void> {
    validateName('collection', collection);
    validateName('id', id);
    const text = toJsonText(`The value of "${collection}/${id}"`, document.value);
    await this.#write(() => {
      this.#statement(
        'INSERT INTO documents (collection, id, version, expires_at, value) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (collection, id) DO UPDATE SET version = excluded.version, expires_at = excluded.expires_at, value = excluded.value',
      ).run(collection, id, document.version, document.expiresAt ?? null, text);
    });
  }

  /**
   * Replaces a stream with these entries, keeping their sequence numbers and keys, and the
   * stream's last number (for `importFileStore`: a reader's `after` stays meaningful).
   */
  async importStream(stream: string, entries: ReadonlyArray<{ seq: number; key?: string; entry: JsonValue }>, lastSeq: number): Promise<void> {
    validateName('stream', stream);
    const rows = entries.map((item) => ({
      seq: item.seq,
      key: validateEntryKey(item.key) ?? null,
      text: toJsonText(`An entry of stream "${stream}"`, item.entry),
    }));
    await this.#write(() => {
      // The stream's number is set here, not by the appends of this transaction before it.
      this.#setSequence(stream, undefined);
      this.#statement('DELETE FROM entries WHERE stream = ?').run(stream);
      const insert = this.#statement('INSERT INTO entries (stream, seq, key, entry) VALUES (?, ?, ?, ?)');
      for (const row of rows) insert.run(stream, row.seq, row.key, row.text);
      this.#statement('INSERT INTO streams (stream, seq) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq').run(stream, lastSeq);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Writes queued in this turn still commit.
    this.#flush();
    this.#statements.clear();
    this.#database?.close();
    this.#database = undefined;
  }

  /**
   * Queues a write: every write queued in one turn of the event loop commits in one transaction
   * (one WAL append and, at most, one fsync for all of them). The commit waits for the turn's
   * end (`setImmediate`), not for the microtask queue to reach it: concurrent items continue one
   * after another in one turn's microtasks, so waiting for the turn gathers all their next writes
   * (16 items at once: about 5 writes per commit instead of 2). Up to `writesPerCommit`: the
   * write that reaches it commits the group at once, so with 1,000 items in flight the first
   * items' next steps start while the others' writes are still being computed, instead of all
   * waiting for one commit at the turn's end (bench:load: 0.1–0.2 s less wall, a few % more CPU).
   * Each write's own errors reject only its own promise: it runs under a savepoint that is rolled
   * back alone.
   */
  #write<R>(work: () => R): Promise<R> {
    if (this.#closed) return Promise.reject(new ConfigurationError('The SQLite store is closed.', { field: 'store' }));
    return new Promise<R>((resolve, reject) => {
      if (this.#pending.length === 0) setImmediate(() => this.#flush());
      this.#pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // Only once the database is open: the turn's flush opens it.
      if (this.#pending.length >= writesPerCommit && this.#database) this.#flush();
    });
  }

  #flush(): void {
    const batch = this.#pending.splice(0);
    if (batch.length === 0) return;
    const database = this.#open();
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      // IMMEDIATE takes the write lock at once, so two processes never deadlock upgrading a read lock.
      database.exec('BEGIN IMMEDIATE');
      this.#sequences.clear();
      for (const item of batch) {
        database.exec('SAVEPOINT one_write');
        this.#sequencesBefore.clear();
        try {
          outcomes.push({ ok: true, value: item.work() });
          database.exec('RELEASE one_write');
        } catch (error) {
          database.exec('ROLLBACK TO one_write');
          database.exec('RELEASE one_write');
          for (const [stream, seq] of this.#sequencesBefore) {
            if (seq === undefined) this.#sequences.delete(stream);
            else this.#sequences.set(stream, seq);
          }
          outcomes.push({ ok: false, error });
        }
      }
      const setSequence = this.#statement('INSERT INTO streams (stream, seq) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq');
      for (const [stream, seq] of this.#sequences) setSequence.run(stream, seq);
      this.#sequences.clear();
      database.exec('COMMIT');
    } catch (error) {
      this.#sequences.clear();
      try {
        database.exec('ROLLBACK');
      } catch {
        // No transaction was open (BEGIN itself failed).
      }
      for (const item of batch) item.reject(error);
      return;
    }
    for (const [index, item] of batch.entries()) {
      const outcome = outcomes[index]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    }
  }

  /**
   * Writes a document inside the open transaction; returns its new version. One statement, its
   * compare-and-set in its WHERE clause (an expired document counts as version 0); only a refused
   * write reads the version, for the error. A write at an expected version knows its new version
   * (the expected one + 1, or 1 for a creation) from the count of changed rows, without RETURNING.
   */
  #putNow(collection: string, id: string, text: string, expectedVersion: number | undefined, ttl: number | undefined): number {
    const now = Date.now();
    const expiresAt = ttl === undefined ? null : now + ttl;
    if (expectedVersion === undefined) {
      const written = this.#statement(
        'INSERT INTO documents (collection, id, version, expires_at, value) VALUES (?, ?, 1, ?, ?) ' +
          'ON CONFLICT (collection, id) DO UPDATE SET version = CASE WHEN documents.expires_at IS NOT NULL AND documents.expires_at <= ? THEN 1 ' +
          'ELSE documents.version + 1 END, expires_at = excluded.expires_at, value = excluded.value RETURNING version',
      ).get(collection, id, expiresAt, text, now) as { version: number };
      return written.version;
    }
    const { changes } =
      expectedVersion === 0
        ? this.#statement(
            'INSERT INTO documents (collection, id, version, expires_at, value) VALUES (?, ?, 1, ?, ?) ' +
              'ON CONFLICT (collection, id) DO UPDATE SET version = 1, expires_at = excluded.expires_at, value = excluded.value ' +
              'WHERE documents.expires_at IS NOT NULL AND documents.expires_at <= ?',
          ).run(collection, id, expiresAt, text, now)
        : this.#statement(
            'UPDATE documents SET version = version + 1, expires_at = ?, value = ? ' +
              'WHERE collection = ? AND id = ? AND version = ? AND (expires_at IS NULL OR expires_at > ?)',
          ).run(expiresAt, text, collection, id, expectedVersion, now);
    if (changes !== 1) throw new VersionConflictError(collection, id, expectedVersion, this.#currentVersion(collection, id));
    return expectedVersion + 1;
  }

  /** Appends an entry inside the open transaction; returns its sequence number (the earlier entry's for a key already there). */
  #appendNow(stream: string, text: string, key: string | undefined, keepLast: number | undefined): number {
    if (key !== undefined) {
      const earlier = this.#statement('SELECT seq FROM entries WHERE stream = ? AND key = ?').get(stream, key) as { seq: number } | undefined;
      if (earlier) return earlier.seq;
    }
    const seq = this.#lastSequence(stream) + 1;
    this.#statement('INSERT INTO entries (stream, seq, key, entry) VALUES (?, ?, ?, ?)').run(stream, seq, key ?? null, text);
    this.#setSequence(stream, seq);
    if (keepLast !== undefined) this.#statement('DELETE FROM entries WHERE stream = ? AND seq <= ?').run(stream, seq - keepLast);
    return seq;
  }

  /** A stream's last sequence number inside the open transaction (see `#sequences`). */
  #lastSequence(stream: string): number {
    const known = this.#sequences.get(stream);
    if (known !== undefined) return known;
    const row = this.#statement('SELECT seq FROM streams WHERE stream = ?').get(stream) as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  #setSequence(stream: string, seq: number | undefined): void {
    if (!this.#sequencesBefore.has(stream)) this.#sequencesBefore.set(stream, this.#sequences.get(stream));
    if (seq === undefined) this.#sequences.delete(stream);
    else this.#sequences.set(stream, seq);
  }

  #currentVersion(collection: string, id: string): number {
    // Not the value: a compare-and-set needs only the version, and a large value costs a copy into JS.
    const row = this.#live<Omit<DocumentRow, 'value'>>(
      this.#statement('SELECT version, expires_at FROM documents WHERE collection = ? AND id = ?').get(collection, id),
    );
    return row?.version ?? 0;
  }

  /** The row unless it is missing or has expired. */
  #live<R extends Pick<DocumentRow, 'expires_at'> = DocumentRow>(row: unknown): R | undefined {
    const document = row as R | undefined;
    if (!document) return undefined;
    return document.expires_at !== null && Date.now() >= document.expires_at ? undefined : document;
  }

  #parseValue<T>(row: DocumentRow, collection: string, id: string): T {
    return parseJsonText<T>(row.value, (problem) => new CorruptRecordError(collection, id, `not valid JSON (${problem})`, this.where(collection, id)));
  }

  #statement(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#open().prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #open(): Database {
    if (this.#database) return this.#database;
    if (this.#closed) throw new ConfigurationError('The SQLite store is closed.', { field: 'store' });
    mkdirSync(dirname(this.path), { recursive: true });
    const database = openDriver(this.#driver, this.path);
    try {
      database.exec(`PRAGMA busy_timeout = ${this.#busyTimeoutMs}`);
      switchToWal(database, this.#busyTimeoutMs);
      database.exec('PRAGMA synchronous = NORMAL');
      const found = (database.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
      if (found > schemaVersion)
        throw new StoreCorruptError(this.path, `its schema is version ${found}, newer than this Troupe's ${schemaVersion}; upgrade Troupe`);
      database.exec('BEGIN IMMEDIATE');
      database.exec(schema);
      database.exec('COMMIT');
    } catch (error) {
      database.close();
      throw error;
    }
    this.#database = database;
    return database;
  }
}

const require = createRequire(import.meta.url);

/** Loads the driver on first use: a native module that a program which never opens the store need not load. */
function openDriver(driver: SqliteDriver, path: string): Database {
  let open: new (path: string) => Database;
  try {
    open = require(driver) as new (path: string) => Database;
  } catch (error) {
    throw new ConfigurationError(
      `The SQLite driver "${driver}" is not installed${driver === 'better-sqlite3' ? ': npm install better-sqlite3@12' : ''}.`,
      { field: 'driver' },
      { cause: error },
    );
  }
  try {
    return new open(path);
  } catch (error) {
    throw new StoreCorruptError(path, `SQLite cannot open it (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
}

/**
 * Puts the database in WAL mode. SQLite refuses the switch with SQLITE_BUSY without calling the
 * busy handler while another process opens the same fresh file (two processes starting at once on
 * a new TROUPE_HOME), so busy_timeout does not cover it: this retries until the timeout instead.
 */
function switchToWal(database: Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      database.exec('PRAGMA journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      // The driver is synchronous, so the wait is too: a short sleep off the CPU, not a spin.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
