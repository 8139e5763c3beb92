import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { embeddedStorePaths } from './backend.js';
import type { JsonValue } from '../core/json.js';
import { CorruptRecordError } from './errors/corrupt-record-error.js';
import { StoreCorruptError } from './errors/store-corrupt-error.js';
import { VersionConflictError } from './errors/version-conflict-error.js';
import { errorCode, withFileLock } from './file-lock.js';
import { KeyedMutex } from './keyed-mutex.js';
import { checkAppend, checkPut, parseJsonText, validateName, validatePositiveLimit, validateVersion } from './store-validation.js';
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

export interface FileStoreOptions {
  /** The directory that holds the store. Default `${TROUPE_HOME ?? '.troupe'}/state`. */
  root?: string;
  /** How long to wait for another process's lock before `LockTimeoutError`. Default 10 s. */
  lockTimeoutMs?: number;
  /** A lock held longer than this is taken over even if its owner seems alive. Default 30 s. */
  staleLockMs?: number;
}

/** Persisted formats carry a version (STYLE.md point 9). */
const formatVersion = 1;

interface DocumentFile {
  format: number;
  version: number;
  /** When the document expires (ms since the epoch), if it was written with a TTL. */
  expiresAt?: number;
  value: JsonValue;
}

interface StreamMeta {
  format: number;
  /** The last sequence number handed out. */
  seq: number;
  /** Bytes of the log that are committed; anything after them is a torn append. */
  bytes: number;
  /** The sequence number of the log's first line: 1 until the stream is trimmed. */
  first?: number;
  /** Which log holds the entries: 0 is `<stream>.jsonl`, n is `<stream>~<n>.jsonl` (each trim writes the next). */
  gen?: number;
}

/** The idempotency keys of a stream's kept entries, read from its log up to `bytes` of generation `gen`. */
interface KeyIndex {
  gen: number;
  bytes: number;
  keys: Map<string, number>;
}

/**
 * The embedded default store: plain files under one directory, safe for several processes at
 * once (a run in one terminal, a review approved from another).
 *
 *     <root>/documents/<collection>/<id>.json    {"format":1,"version":3,"value":...}
 *     <root>/streams/<stream>.jsonl              {"seq":1,"entry":...} per line ({"seq":1,"key":"k","entry":...} with a key)
 *     <root>/streams/<stream>.meta.json          {"format":1,"seq":3,"bytes":120}, plus "first" and "gen" once trimmed
 *
 * Documents are replaced whole (temporary file, fsync, rename), so a reader never needs a lock
 * and never sees half a write. Writers take a per-document or per-stream lock file (see
 * `withFileLock`). An append writes the log line first and the meta file second; the meta file
 * is the commit point, so a crash in between leaves a torn tail that readers ignore and the next
 * append cuts off, and sequence numbers never repeat or skip. Trimming (`keepLast`) writes the
 * kept lines to the log of the next generation, then commits it in the meta file, then removes
 * the old log; a crash at any point leaves the committed log intact.
 *
 * Upper-case letters in names are written as `^` + the lower-case letter so that `Ab` and `ab`
 * stay apart on case-insensitive file systems (macOS, Windows).
 */
export class FileStore implements StateStore {
  readonly root: string;
  readonly #lockOptions: { timeoutMs: number; staleMs: number };
  readonly #mutex = new KeyedMutex();
  readonly #createdDirectories = new Set<string>();
  readonly #batches = new Map<string, PendingAppend[]>();
  readonly #keyIndexes = new Map<string, KeyIndex>();

  constructor(options: FileStoreOptions = {}) {
    this.root = options.root ?? embeddedStorePaths().fileStore;
    this.#lockOptions = {
      timeoutMs: validatePositiveLimit('lockTimeoutMs', options.lockTimeoutMs, 10_000),
      staleMs: validatePositiveLimit('staleLockMs', options.staleLockMs, 30_000),
    };
  }

  async get<T extends JsonValue = JsonValue>(collection: string, id: string): Promise<StoredDocument<T> | undefined> {
    const file = await this.#readDocument(this.#documentPath(collection, id), collection, id);
    return file && { id, version: file.version, value: file.value as T };
  }

  where(collection: string, id: string): string {
    return this.#documentPath(collection, id);
  }

  async put<T extends JsonValue>(collection: string, id: string, value: T, options: PutOptions = {}): Promise<StoredDocument<T>> {
    const path = this.#documentPath(collection, id);
    const { text, ttlMs: ttl } = checkPut(collection, id, value, options);
    return this.#locked(path, async () => {
      const version = (await this.#readDocument(path, collection, id))?.version ?? 0;
      if (options.expectedVersion !== undefined && options.expectedVersion !== version)
        throw new VersionConflictError(collection, id, options.expectedVersion, version);
      await this.#writeDocument(path, version + 1, text, ttl);
      return { id, version: version + 1, value };
    });
  }

  /**
   * Holds the locks of every document the batch puts (in path order, so two batches never wait on
   * each other crosswise), checks every compare-and-set, then writes in order. All or nothing
   * against a conflicting writer; not against a crash in the middle, which can leave the first
   * writes done (each file is still whole): this store has no transaction across files.
   */
  async batch(writes: readonly BatchWrite[]): Promise<number[]> {
    const prepared = writes.map((write) => {
      if (write.kind === 'append') {
        this.#streamBase(write.stream);
        checkAppend(write.stream, write.entry, write.options ?? {});
        return { write };
      }
      const { collection, id, value, options = {} } = write;
      const path = this.#documentPath(collection, id);
      const { text, ttlMs } = checkPut(collection, id, value, options);
      return { write, put: { path, text, ttl: ttlMs } };
    });
    const paths = [...new Set(prepared.flatMap((item) => (item.put ? [item.put.path] : [])))].sort();
    const section = async () => {
      const versions = new Map<string, number>();
      for (const { write, put } of prepared) {
        if (!put || write.kind !== 'put') continue;
        const current = versions.get(put.path) ?? (await this.#readDocument(put.path, write.collection, write.id))?.version ?? 0;
        const expected = write.options?.expectedVersion;
        if (expected !== undefined && expected !== current) throw new VersionConflictError(write.collection, write.id, expected, current);
        versions.set(put.path, current + 1);
      }
      const results: number[] = [];
      const written = new Map<string, number>();
      for (const { write, put } of prepared) {
        if (write.kind === 'append') {
          results.push(await this.append(write.stream, write.entry, write.options));
          continue;
        }
        const version = (written.get(put!.path) ?? (await this.#readDocument(put!.path, write.collection, write.id))?.version ?? 0) + 1;
        await this.#writeDocument(put!.path, version, put!.text, put!.ttl);
        written.set(put!.path, version);
        results.push(version);
      }
      return results;
    };
    return paths.reduceRight<() => Promise<number[]>>((inner, path) => () => this.#locked(path, inner), section)();
  }

  update<T extends JsonValue>(collection: string, id: string, fn: Updater<T>, options?: UpdateOptions): Promise<StoredDocument<T>> {
    return updateWithRetry(this, this.#mutex, collection, id, fn, options);
  }

  async delete(collection: string, id: string, options: DeleteOptions = {}): Promise<boolean> {
    const path = this.#documentPath(collection, id);
    validateVersion('expectedVersion', options.expectedVersion);
    return this.#locked(path, async () => {
      const version = (await this.#readDocument(path, collection, id))?.version ?? 0;
      if (options.expectedVersion !== undefined && options.expectedVersion !== version)
        throw new VersionConflictError(collection, id, options.expectedVersion, version);
      if (version === 0) return false;
      await unlink(path);
      return true;
    });
  }

  async list<T extends JsonValue = JsonValue>(collection: string, options: ListOptions = {}): Promise<ListPage<T>> {
    const directory = join(this.root, 'documents', encodeName(validateName('collection', collection)));
    const limit = validatePositiveLimit('limit', options.limit, 100);
    const { prefix = '', after } = options;
    let names: string[];
    try {
      names = await readdir(directory);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return { items: [] };
      throw error;
    }
    const ids = names
      .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
      .map((name) => decodeName(name.slice(0, -'.json'.length)))
      .filter((id) => id.startsWith(prefix) && (after === undefined || id > after))
      .sort();
    const considered = ids.slice(0, limit);
    const items: StoredDocument<T>[] = [];
    const corrupt: CorruptRecordError[] = [];
    const expired: string[] = [];
    for (const id of considered) {
      // Deleted since the directory was read: skip it, as a list taken a moment later would.
      const path = join(directory, `${encodeName(id)}.json`);
      try {
        const file = await this.#readDocumentFile(path, collection, id);
        if (file && isExpired(file)) expired.push(path);
        else if (file) items.push({ id, version: file.version, value: file.value as T });
      } catch (error) {
        if (!(error instanceof CorruptRecordError)) throw error;
        corrupt.push(error);
      }
    }
    // Expired documents are removed here, under their lock, unless written again meanwhile.
    for (const path of expired) {
      await this.#locked(path, async () => {
        const file = await this.#readDocumentFile(path, collection, path).catch(() => undefined);
        if (file && isExpired(file)) await unlink(path).catch(() => {});
      });
    }
    const last = considered.at(-1);
    return { items, ...(ids.length > limit && last !== undefined ? { next: last } : {}), ...(corrupt.length ? { corrupt } : {}) };
  }

  /**
   * Appends are committed in groups: entries that arrive while a stream's lock is busy wait in one
   * batch and are written with one write, one fsync and one meta update when their turn comes.
   * Many concurrent appenders (a run's items all recording transitions) then cost about as much as
   * one, and each still gets its own sequence number in arrival order.
   */
  async append<T extends JsonValue>(stream: string, entry: T, options: AppendOptions = {}): Promise<number> {
    const base = this.#streamBase(stream);
    const { text, key, keepLast } = checkAppend(stream, entry, options);
    return new Promise<number>((resolve, reject) => {
      const pending: PendingAppend = { text, resolve, reject, ...(key !== undefined ? { key } : {}), ...(keepLast !== undefined ? { keepLast } : {}) };
      const waiting = this.#batches.get(base);
      if (waiting) {
        waiting.push(pending);
        return;
      }
      const batch: PendingAppend[] = [pending];
      this.#batches.set(base, batch);
      this.#locked(base, async () => {
        // From here on, new appends start the next batch.
        this.#batches.delete(base);
        return this.#commit(base, batch);
      }).then(
        (seqs) => {
          for (const [index, item] of batch.entries()) item.resolve(seqs[index]!);
        },
        (error: unknown) => {
          // What this process knows of the stream's keys may no longer match the log.
          this.#keyIndexes.delete(base);
          for (const item of batch) item.reject(error);
        },
      );
    });
  }

  /** Writes entries under the stream's lock; returns each one's sequence number (the earlier entry's for a key already there). */
  async #commit(base: string, batch: PendingAppend[]): Promise<number[]> {
    const meta = await this.#readMeta(base);
    const log = logPath(base, meta.gen ?? 0);
    const size = await stat(log).then(
      (info) => info.size,
      (error: unknown) => (errorCode(error) === 'ENOENT' ? 0 : Promise.reject(error)),
    );
    if (size < meta.bytes) throw new StoreCorruptError(log, `the log has ${size} bytes but ${meta.bytes} were committed`);
    if (size > meta.bytes) await truncate(log, meta.bytes);
    const index = batch.some((item) => item.key !== undefined) ? await this.#keyIndex(base, meta) : undefined;
    const seqs: number[] = [];
    const added = new Map<string, number>();
    let lines = '';
    let seq = meta.seq;
    for (const item of batch) {
      const earlier = item.key === undefined ? undefined : (index!.keys.get(item.key) ?? added.get(item.key));
      if (earlier !== undefined) {
        seqs.push(earlier);
        continue;
      }
      seqs.push(++seq);
      if (item.key !== undefined) added.set(item.key, seq);
      lines += item.key === undefined ? `{"seq":${seq},"entry":${item.text}}\n` : `{"seq":${seq},"key":${JSON.stringify(item.key)},"entry":${item.text}}\n`;
    }
    if (seq === meta.seq) return seqs;
    const handle = await open(log, 'a');
    try {
      await handle.appendFile(lines);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const next: StreamMeta = { ...meta, seq, bytes: meta.bytes + Buffer.byteLength(lines) };
    await writeAtomically(`${base}.meta.json`, JSON.stringify(next));
    if (index) {
      for (const [key, at] of added) index.keys.set(key, at);
      index.bytes = next.bytes;
    }
    const keeps = batch.flatMap((item) => (item.keepLast === undefined ? [] : [item.keepLast]));
    if (keeps.length > 0) await this.#trim(base, next, Math.min(...keeps));
    return seqs;
  }

  /**
   * The keys of the stream's kept entries. Kept between appends and brought up to date from the
   * log's new bytes (appends of other processes); rebuilt from the whole log after a trim.
   */
  async #keyIndex(base: string, meta: StreamMeta): Promise<KeyIndex> {
    const gen = meta.gen ?? 0;
    let index = this.#keyIndexes.get(base);
    if (!index || index.gen !== gen || index.bytes > meta.bytes) index = { gen, bytes: 0, keys: new Map() };
    if (index.bytes < meta.bytes) {
      const log = logPath(base, gen);
      const handle = await open(log, 'r');
      try {
        const chunk = Buffer.alloc(meta.bytes - index.bytes);
        await handle.read(chunk, 0, chunk.length, index.bytes);
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line.includes('"key":')) continue;
          const parsed = parseJsonText<{ seq?: unknown; key?: unknown }>(line, (problem) => new StoreCorruptError(log, problem));
          if (typeof parsed.key === 'string' && typeof parsed.seq === 'number') index.keys.set(parsed.key, parsed.seq);
        }
      } finally {
        await handle.close();
      }
      index.bytes = meta.bytes;
    }
    this.#keyIndexes.set(base, index);
    return index;
  }

  /**
   * Keeps the newest `keep` entries once more than 10 % over: rewriting the log on every append
   * would cost its whole size each time. Runs under the stream's lock, after a commit.
   */
  async #trim(base: string, meta: StreamMeta, keep: number): Promise<void> {
    const first = meta.first ?? 1;
    const count = meta.seq - first + 1;
    if (count <= keep + Math.ceil(keep / 10)) return;
    const gen = meta.gen ?? 0;
    const log = logPath(base, gen);
    const committed = (await readFile(log)).subarray(0, meta.bytes);
    let start = 0;
    for (let dropped = 0; dropped < count - keep; dropped++) start = committed.indexOf(10, start) + 1;
    const kept = committed.subarray(start);
    // Written whole under a name no committed meta points at yet ('w' replaces a crashed attempt's).
    const handle = await open(logPath(base, gen + 1), 'w');
    try {
      await handle.writeFile(kept);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const next: StreamMeta = { format: formatVersion, seq: meta.seq, bytes: kept.length, first: first + count - keep, gen: gen + 1 };
    await writeAtomically(`${base}.meta.json`, JSON.stringify(next));
    this.#keyIndexes.delete(base);
    await unlink(log).catch(() => {});
  }

  async read<T extends JsonValue = JsonValue>(stream: string, options: ReadOptions = {}): Promise<StreamEntry<T>[]> {
    const base = this.#streamBase(stream);
    const limit = validatePositiveLimit('limit', options.limit, 1000);
    const after = options.after ?? 0;
    validateVersion('after', after);
    // The meta file first: it says which log holds the entries and how much of it is committed.
    // A trim may remove that log before it is read: then the new meta file names the next one.
    let meta: StreamMeta;
    let buffer: Buffer;
    for (let attempt = 1; ; attempt++) {
      meta = await this.#readMeta(base);
      if (after >= meta.seq) return [];
      try {
        buffer = await readFile(logPath(base, meta.gen ?? 0));
        break;
      } catch (error) {
        if (errorCode(error) !== 'ENOENT' || attempt >= 10) throw error;
      }
    }
    const log = logPath(base, meta.gen ?? 0);
    const text = buffer.subarray(0, meta.bytes).toString('utf8');
    // The first line holds sequence number `first` and the rest follow without gaps, so skip
    // the lines up to `after` without parsing them.
    const first = meta.first ?? 1;
    const from = Math.max(after, first - 1);
    let start = 0;
    for (let skipped = first - 1; skipped < from; skipped++) start = text.indexOf('\n', start) + 1;
    const entries: StreamEntry<T>[] = [];
    while (entries.length < limit && start < text.length) {
      const end = text.indexOf('\n', start);
      const expected = from + entries.length + 1;
      const corrupt = (problem: string) => new StoreCorruptError(`${log} line ${expected}`, problem);
      if (end < 0) throw corrupt('the line is cut off');
      const parsed = parseJsonText<{ seq?: unknown; entry?: T }>(text.slice(start, end), corrupt);
      if (parsed.seq !== expected || !('entry' in parsed)) throw corrupt(`expected the entry with sequence number ${expected}`);
      entries.push({ seq: expected, entry: parsed.entry as T });
      start = end + 1;
    }
    return entries;
  }

  /** The names of the collections that hold documents (for `importFileStore`). */
  async collections(): Promise<string[]> {
    return (await directoryNames(join(this.root, 'documents')))
      .filter((name) => !name.startsWith('.'))
      .map(decodeName)
      .sort();
  }

  /** The names of the streams (for `importFileStore`). */
  async streams(): Promise<string[]> {
    const names = await directoryNames(join(this.root, 'streams'));
    return names
      .filter((name) => name.endsWith('.meta.json'))
      .map((name) => decodeName(name.slice(0, -'.meta.json'.length)))
      .sort();
  }

  /** Every kept entry of a stream with its idempotency key, in sequence order (for `importFileStore`). */
  async entriesWithKeys(stream: string): Promise<Array<{ seq: number; key?: string; entry: JsonValue }>> {
    const base = this.#streamBase(stream);
    const meta = await this.#readMeta(base);
    const log = logPath(base, meta.gen ?? 0);
    const text = meta.bytes === 0 ? '' : (await readFile(log)).subarray(0, meta.bytes).toString('utf8');
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line, index) => {
        const parsed = parseJsonText<{ seq?: unknown; key?: unknown; entry?: JsonValue }>(
          line,
          (problem) => new StoreCorruptError(`${log} line ${index + 1}`, problem),
        );
        if (typeof parsed.seq !== 'number' || !('entry' in parsed)) throw new StoreCorruptError(`${log} line ${index + 1}`, 'not a stream entry');
        return { seq: parsed.seq, ...(typeof parsed.key === 'string' ? { key: parsed.key } : {}), entry: parsed.entry as JsonValue };
      });
  }

  /** A document with its expiry, as stored (for `importFileStore`); `undefined` when missing or expired. */
  async documentWithExpiry(collection: string, id: string): Promise<{ version: number; value: JsonValue; expiresAt?: number } | undefined> {
    const file = await this.#readDocument(this.#documentPath(collection, id), collection, id);
    return file && { version: file.version, value: file.value, ...(file.expiresAt !== undefined ? { expiresAt: file.expiresAt } : {}) };
  }

  async close(): Promise<void> {
    // Nothing stays open between calls.
  }

  #documentPath(collection: string, id: string): string {
    validateName('collection', collection);
    validateName('id', id);
    return join(this.root, 'documents', encodeName(collection), `${encodeName(id)}.json`);
  }

  #streamBase(stream: string): string {
    return join(this.root, 'streams', encodeName(validateName('stream', stream)));
  }

  /** Runs `section` holding the lock of the file at `path`: first in this process, then across processes. */
  async #locked<R>(path: string, section: () => Promise<R>): Promise<R> {
    const directory = join(path, '..');
    if (!this.#createdDirectories.has(directory)) {
      await mkdir(directory, { recursive: true });
      this.#createdDirectories.add(directory);
    }
    const lockPath = `${path.replace(/\.json$/, '')}.lock`;
    return this.#mutex.run(lockPath, () => withFileLock(lockPath, this.#lockOptions, section));
  }

  async #writeDocument(path: string, version: number, text: string, ttl: number | undefined): Promise<void> {
    const expires = ttl === undefined ? '' : `"expiresAt":${Date.now() + ttl},`;
    await writeAtomically(path, `{"format":${formatVersion},"version":${version},${expires}"value":${text}}`);
  }

  /** The document, unless it does not exist or has expired. */
  async #readDocument(path: string, collection: string, id: string): Promise<DocumentFile | undefined> {
    const file = await this.#readDocumentFile(path, collection, id);
    return file && !isExpired(file) ? file : undefined;
  }

  async #readDocumentFile(path: string, collection: string, id: string): Promise<DocumentFile | undefined> {
    const text = await readText(path);
    if (text === undefined) return undefined;
    const file = parseJsonText<Partial<DocumentFile> | null>(text, (problem) => new CorruptRecordError(collection, id, `not valid JSON (${problem})`, path));
    if (file === null || typeof file !== 'object' || file.format !== formatVersion || typeof file.version !== 'number' || !('value' in file))
      throw new CorruptRecordError(collection, id, `not a format ${formatVersion} document file`, path);
    return file as DocumentFile;
  }

  async #readMeta(base: string): Promise<StreamMeta> {
    const path = `${base}.meta.json`;
    const text = await readText(path);
    if (text === undefined) return { format: formatVersion, seq: 0, bytes: 0 };
    const meta = parseJsonText<Partial<StreamMeta>>(text, (problem) => new StoreCorruptError(path, problem));
    if (
      meta.format !== formatVersion ||
      typeof meta.seq !== 'number' ||
      typeof meta.bytes !== 'number' ||
      !['undefined', 'number'].includes(typeof meta.first) ||
      !['undefined', 'number'].includes(typeof meta.gen)
    )
      throw new StoreCorruptError(path, `not a format ${formatVersion} stream meta file`);
    return meta as StreamMeta;
  }
}

interface PendingAppend {
  text: string;
  key?: string;
  keepLast?: number;
  resolve: (seq: number) => void;
  reject: (error: unknown) => void;
}

function isExpired(file: DocumentFile): boolean {
  return file.expiresAt !== undefined && Date.now() >= file.expiresAt;
}

function logPath(base: string, gen: number): string {
  return gen === 0 ? `${base}.jsonl` : `${base}~${gen}.jsonl`;
}

async function directoryNames(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Temporary file, fsync, rename: the file at `path` is always either the old or the new whole content. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  // Leading dot: names cannot start with one, so temporary files never show up in `list`.
  const temporary = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
}

function encodeName(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `^${letter.toLowerCase()}`);
}

function decodeName(name: string): string {
  return name.replace(/\^([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
