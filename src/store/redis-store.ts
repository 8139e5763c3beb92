import { maskRedisUrl } from '../core/redis-url.js';
import { redisUrlFromEnv } from './backend.js';
import { createHash } from 'node:crypto';
import { Redis, ReplyError } from 'ioredis';
import type { JsonValue } from '../core/json.js';
import { CorruptRecordError } from './errors/corrupt-record-error.js';
import { StoreCorruptError } from './errors/store-corrupt-error.js';
import { StoreUnavailableError } from './errors/store-unavailable-error.js';
import { VersionConflictError } from './errors/version-conflict-error.js';
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

export interface RedisStoreOptions {
  /** Default `REDIS_URL`, else `redis://127.0.0.1:6379`. Ignored when `connection` is given. */
  url?: string;
  /** Put before every key, so that several stores (or tests) share one Redis. Default `troupe:`. */
  prefix?: string;
  /** A connection to use instead of opening one; the caller keeps it (`close()` leaves it open). */
  connection?: Redis;
  /** How long the first connection may take before `StoreUnavailableError`. Default 2 s. */
  connectTimeoutMs?: number;
}

/** A Lua script run by its SHA1, sent in full only when Redis does not have it cached yet. */
interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

// The write of a document, shared by the put and batch scripts: the document hash, its id in the
// collection index, and its expiry. A document with a TTL also gets a score (when it expires) in
// the expiry index; each such write drops up to 100 ids that have expired since from both
// indexes, so the id index does not keep growing with documents Redis has already removed.
// The time is read once per script call, and a collection's expiry index is looked at again in
// the same call only while its sweep found a full 100 (a call that writes many documents asks
// Redis once).
const putFunction = `
local now
local swept = {}
local function put(doc, index, expiry, id, value, current, ttl)
  redis.call('HSET', doc, 'value', value, 'version', current + 1)
  redis.call('ZADD', index, 0, id)
  if ttl then
    redis.call('PEXPIRE', doc, ttl)
    if not now then
      local time = redis.call('TIME')
      now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
    end
    if not swept[expiry] then
      local expired = redis.call('ZRANGEBYSCORE', expiry, '-inf', now, 'LIMIT', 0, 100)
      for _, other in ipairs(expired) do
        if other ~= id then
          redis.call('ZREM', expiry, other)
          redis.call('ZREM', index, other)
        end
      end
      -- Fewer than 100: every id expired by now is gone, and later puts of this call need not look.
      if #expired < 100 then swept[expiry] = true end
    end
    redis.call('ZADD', expiry, now + ttl, id)
  else
    redis.call('PERSIST', doc)
    redis.call('ZREM', expiry, id)
  end
  return current + 1
end
`;

// The append of a stream entry, shared by the append and batch scripts: the stream's list, the
// sorted set of its kept entries' keys (key -> seq) and its trimmed count; the entry text, its key
// ('' = none) and how many to keep (nil = all). Returns the entry's sequence number (the earlier
// entry's for a key already there). Entry n sits at list index n - 1 - trimmed.
const appendFunction = `
local function append(list, keys, trim, text, key, keep)
  local trimmed = tonumber(redis.call('GET', trim)) or 0
  if key ~= '' then
    local seen = redis.call('ZSCORE', keys, key)
    if seen then return tonumber(seen) end
  end
  local seq = trimmed + redis.call('RPUSH', list, text)
  if key ~= '' then redis.call('ZADD', keys, seq, key) end
  if keep and seq - trimmed > keep then
    local excess = seq - trimmed - keep
    redis.call('LTRIM', list, excess, -1)
    redis.call('INCRBY', trim, excess)
    redis.call('ZREMRANGEBYSCORE', keys, '-inf', trimmed + excess)
  end
  return seq
end
`;

// KEYS: document hash, collection index, collection expiry index. ARGV: id, value, expected
// version ('' = any), time to live in ms ('' = none).
// Returns {written (1|0), version after the write or current version on conflict}.
const putScript = script(`${putFunction}
local current = tonumber(redis.call('HGET', KEYS[1], 'version')) or 0
if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= current then return {0, current} end
return {1, put(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], current, tonumber(ARGV[4]))}
`);

// Several batches (StateStore.batch), each applied as one and independently of the others: the
// batches issued in the same tick go to Redis in one script call (see RedisStore.batch). ARGV
// starts with the number of writes of each batch in turn, 0 ending the list; then, per write,
// five ARGV: 'p', id, value, expected version ('' = any), TTL ('' = none); or 'a', entry text,
// key ('' = none), keep last ('' = all), ''. Per write, three KEYS (a put's document hash,
// collection index and expiry index; an append's list, keys and trimmed count). In each batch,
// every compare-and-set is checked before anything is written (a document put twice is checked
// against the version the first put gives it); each document's version is read once, in that
// check, and carried to the writes.
// Returns per batch {1, result per write}, or on a conflict {0, index of the write in its batch
// (1-based), its current version}, or {2, message} when Redis refused one of its commands.
const batchScript = script(`${putFunction}${appendFunction}
local function apply(first, count, k0, a0)
  local versions = {}
  local base = {}
  for i = 1, count do
    local a = a0 + (i - 1) * 5
    if ARGV[a + 1] == 'p' then
      local doc = KEYS[k0 + (i - 1) * 3 + 1]
      local current = versions[doc]
      if current == nil then
        current = tonumber(redis.call('HGET', doc, 'version')) or 0
        base[doc] = current
      end
      if ARGV[a + 4] ~= '' and tonumber(ARGV[a + 4]) ~= current then return {0, i, current} end
      versions[doc] = current + 1
    end
  end
  local results = {}
  for i = 1, count do
    local a = a0 + (i - 1) * 5
    local k = k0 + (i - 1) * 3
    if ARGV[a + 1] == 'p' then
      local doc = KEYS[k + 1]
      results[i] = put(doc, KEYS[k + 2], KEYS[k + 3], ARGV[a + 2], ARGV[a + 3], base[doc], tonumber(ARGV[a + 5]))
      base[doc] = results[i]
    else
      results[i] = append(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], ARGV[a + 2], ARGV[a + 3], tonumber(ARGV[a + 4]))
    end
  end
  return {1, results}
end
local counts = {}
local n = 1
while ARGV[n] ~= '0' do
  counts[n] = tonumber(ARGV[n])
  n = n + 1
end
local replies = {}
local k0 = 0
local a0 = n
for b = 1, n - 1 do
  local ok, reply = pcall(apply, b, counts[b], k0, a0)
  if ok then replies[b] = reply else replies[b] = {2, tostring(reply.err or reply)} end
  k0 = k0 + counts[b] * 3
  a0 = a0 + counts[b] * 5
end
return replies
`);

// KEYS: document hash, collection index, collection expiry index. ARGV: id, expected version ('' = any).
// Returns {accepted (1|0), version the document had (0 = did not exist)}.
const deleteScript = script(`
local current = tonumber(redis.call('HGET', KEYS[1], 'version')) or 0
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= current then return {0, current} end
if current > 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
return {1, current}
`);

// KEYS: stream list, stream keys (sorted set: key -> seq), trimmed count. ARGV: entry text, key
// ('' = none), keep last ('' = all). Returns the entry's sequence number (see appendFunction).
const appendScript = script(`${appendFunction}
return append(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], tonumber(ARGV[3]))
`);

// KEYS: stream list, trimmed count. ARGV: after, limit. Returns {seq before the first entry, entries}.
const readScript = script(`
local trimmed = tonumber(redis.call('GET', KEYS[2])) or 0
local start = tonumber(ARGV[1]) - trimmed
if start < 0 then start = 0 end
return {trimmed + start, redis.call('LRANGE', KEYS[1], start, start + tonumber(ARGV[2]) - 1)}
`);

// KEYS: document hashes. Returns per document {value, version} (nil, nil when it does not exist).
const readManyScript = script(`
local rows = {}
for i, key in ipairs(KEYS) do rows[i] = redis.call('HMGET', key, 'value', 'version') end
return rows
`);

/** At most this many reads go in one script call. */
const readsPerCall = 256;

/** A document's value and version as Redis gives them (null when it does not exist). */
type DocumentRow = [string | null, string | null];

interface PendingRead {
  key: string;
  resolve: (row: DocumentRow) => void;
  reject: (error: unknown) => void;
}

/** At most this many batches go in one script call. */
const batchesPerCall = 64;

interface PendingBatch {
  writes: readonly BatchWrite[];
  keys: string[];
  args: string[];
  resolve: (results: number[]) => void;
  reject: (error: unknown) => void;
}

/** A batch's part of the batch script's reply (see batchScript). */
type BatchReply = [1, number[]] | [0, number, number] | [2, string];

function settleBatch(batch: PendingBatch, reply: BatchReply | undefined): void {
  if (!reply) batch.reject(new ReplyError('the batch script gave no answer for this batch'));
  else if (reply[0] === 1) batch.resolve(reply[1].map(Number));
  else if (reply[0] === 2) batch.reject(new ReplyError(reply[1]));
  else {
    const [, position, version] = reply;
    const failed = batch.writes[position - 1] as Extract<BatchWrite, { kind: 'put' }>;
    batch.reject(new VersionConflictError(failed.collection, failed.id, failed.options?.expectedVersion ?? 0, Number(version)));
  }
}

/**
 * The state store on Redis, for several processes or machines sharing one state.
 *
 *     <prefix>doc:<collection>:<id>   hash {value: JSON text, version}
 *     <prefix>ids:<collection>        sorted set of ids, all scores 0, so ZRANGEBYLEX gives id order
 *     <prefix>exp:<collection>        sorted set of the ids of documents with a TTL, scored by expiry (ms)
 *     <prefix>stream:<stream>         list of entries' JSON text
 *     <prefix>streamkeys:<stream>     sorted set of the idempotency keys of kept entries, scored by seq
 *     <prefix>streamtrim:<stream>     how many entries were trimmed from the head of the list
 *
 * Compare-and-set writes, deletes and appends are Lua scripts, atomic in Redis. A stream's
 * sequence number is the list's length after RPUSH plus the entries trimmed before: entry n sits
 * at index n - 1 - trimmed. Names cannot contain `:`, so keys of different collections and ids
 * never collide.
 */
export class RedisStore implements StateStore {
  readonly prefix: string;
  /** Where the store connects, with any password masked: safe to print. */
  readonly target: string;
  #client: Redis;
  readonly #ownsClient: boolean;
  readonly #openClient: () => Redis;
  readonly #mutex = new KeyedMutex();
  #connecting: Promise<void> | undefined;
  /** The last connection error ioredis reported; its own rejection only says "Connection is closed". */
  #lastError: Error | undefined;
  #closed = false;
  /** Whether the socket's writes are held until the end of the tick (see #coalesceWrites). */
  #corked = false;
  /** Batches waiting for the end of this tick, to be sent together (see `batch`). */
  #pendingBatches: PendingBatch[] = [];
  /** Document reads waiting for the end of this tick, to be sent together (see `get`). */
  #pendingReads: PendingRead[] = [];

  constructor(options: RedisStoreOptions = {}) {
    this.prefix = options.prefix ?? 'troupe:';
    if (options.connection) {
      this.#client = options.connection;
      this.#ownsClient = false;
      this.#openClient = () => options.connection as Redis;
      const { host, port, db } = options.connection.options;
      this.target = `redis://${host ?? '127.0.0.1'}:${port ?? 6379}/${db ?? 0}`;
      return;
    }
    const url = options.url ?? redisUrlFromEnv();
    this.target = maskRedisUrl(url);
    this.#ownsClient = true;
    this.#openClient = () => {
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: options.connectTimeoutMs ?? 2000,
        // After the first connection, a dropped one is retried; a command fails after two tries.
        maxRetriesPerRequest: 2,
        // No automatic pipelining: ioredis builds a Pipeline per tick for it, which cost more CPU
        // and garbage than the socket writes it saves (bench/propagation: a worker's CPU per
        // notification fell by about a third without it, and bench/workflow on Redis did not slow).
        // Commands sent in the same tick still leave in one socket write (see #coalesceWrites).
        enableAutoPipelining: false,
      });
      // Failures reach callers as StoreUnavailableError; without a listener ioredis prints them.
      client.on('error', (error: Error) => (this.#lastError = error));
      return client;
    };
    this.#client = this.#openClient();
  }

  /**
   * Reads issued in the same tick (a notification's outcome and item, and those of the others
   * that start with it) go to Redis together, as one script call that reads each document: one
   * command instead of one per document.
   */
  async get<T extends JsonValue = JsonValue>(collection: string, id: string): Promise<StoredDocument<T> | undefined> {
    const key = this.#documentKey(collection, id);
    const [value, version] = await new Promise<DocumentRow>((resolve, reject) => {
      this.#pendingReads.push({ key, resolve, reject });
      if (this.#pendingReads.length === 1) process.nextTick(() => this.#sendReads());
    });
    if (value == null || version == null) return undefined;
    return { id, version: Number(version), value: this.#parseDocument<T>(value, collection, id) };
  }

  async version(collection: string, id: string): Promise<number | undefined> {
    const key = this.#documentKey(collection, id);
    const version = await this.#call(() => this.#client.hget(key, 'version'));
    return version == null ? undefined : Number(version);
  }

  where(collection: string, id: string): string {
    return `${this.target} key ${this.#documentKey(collection, id)}`;
  }

  async put<T extends JsonValue>(collection: string, id: string, value: T, options: PutOptions = {}): Promise<StoredDocument<T>> {
    const key = this.#documentKey(collection, id);
    const { text, ttlMs } = checkPut(collection, id, value, options);
    const [written, version] = (await this.#eval(
      putScript,
      [key, this.#indexKey(collection), this.#expiryKey(collection)],
      [id, text, String(options.expectedVersion ?? ''), String(ttlMs ?? '')],
    )) as [number, number];
    if (!written) throw new VersionConflictError(collection, id, options.expectedVersion ?? 0, version);
    return { id, version, value };
  }

  /**
   * Batches issued in the same tick (concurrent notifications recording their outcomes) go to
   * Redis together, in one script call that applies each one as one and on its own: each
   * caller gets its own results or its own `VersionConflictError`, as from a call of its own.
   */
  batch(writes: readonly BatchWrite[]): Promise<number[]> {
    if (writes.length === 0) return Promise.resolve([]);
    const keys: string[] = [];
    const args: string[] = [];
    try {
      for (const write of writes) {
        if (write.kind === 'put') {
          const { collection, id, value, options = {} } = write;
          keys.push(this.#documentKey(collection, id), this.#indexKey(collection), this.#expiryKey(collection));
          const { text, ttlMs } = checkPut(collection, id, value, options);
          args.push('p', id, text, String(options.expectedVersion ?? ''), String(ttlMs ?? ''));
        } else {
          const { stream, entry, options = {} } = write;
          keys.push(this.#streamKey(stream), `${this.prefix}streamkeys:${stream}`, `${this.prefix}streamtrim:${stream}`);
          const { text, key, keepLast } = checkAppend(stream, entry, options);
          args.push('a', text, key ?? '', String(keepLast ?? ''), '');
        }
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#pendingBatches.push({ writes, keys, args, resolve, reject });
      if (this.#pendingBatches.length === 1) process.nextTick(() => this.#sendBatches());
    });
  }

  /** Sends the reads gathered this tick: one alone as HMGET, several as script calls of at most `readsPerCall`. */
  #sendReads(): void {
    const pending = this.#pendingReads;
    this.#pendingReads = [];
    if (pending.length === 1) {
      const [read] = pending as [PendingRead];
      this.#call(() => this.#client.hmget(read.key, 'value', 'version')).then((row) => read.resolve(row as DocumentRow), read.reject);
      return;
    }
    for (let start = 0; start < pending.length; start += readsPerCall) {
      const group = pending.slice(start, start + readsPerCall);
      this.#eval(
        readManyScript,
        group.map((read) => read.key),
        [],
      ).then(
        (rows) => {
          for (const [index, read] of group.entries()) read.resolve(((rows as DocumentRow[])[index] ?? [null, null]) as DocumentRow);
        },
        (error: unknown) => {
          for (const read of group) read.reject(error);
        },
      );
    }
  }

  /** Sends the batches gathered this tick, at most `batchesPerCall` to a script call. */
  #sendBatches(): void {
    const pending = this.#pendingBatches;
    this.#pendingBatches = [];
    for (let start = 0; start < pending.length; start += batchesPerCall) {
      const group = pending.slice(start, start + batchesPerCall);
      const counts = group.map((batch) => String(batch.writes.length));
      const keys = group.flatMap((batch) => batch.keys);
      const args = [...counts, '0', ...group.flatMap((batch) => batch.args)];
      this.#eval(batchScript, keys, args).then(
        (replies) => {
          for (const [index, batch] of group.entries()) settleBatch(batch, (replies as BatchReply[])[index]);
        },
        (error: unknown) => {
          for (const batch of group) batch.reject(error);
        },
      );
    }
  }

  update<T extends JsonValue>(collection: string, id: string, fn: Updater<T>, options?: UpdateOptions): Promise<StoredDocument<T>> {
    return updateWithRetry(this, this.#mutex, collection, id, fn, options);
  }

  async delete(collection: string, id: string, options: DeleteOptions = {}): Promise<boolean> {
    const key = this.#documentKey(collection, id);
    validateVersion('expectedVersion', options.expectedVersion);
    const expected = options.expectedVersion === undefined ? '' : String(options.expectedVersion);
    const [accepted, version] = (await this.#eval(deleteScript, [key, this.#indexKey(collection), this.#expiryKey(collection)], [id, expected])) as [
      number,
      number,
    ];
    if (!accepted) throw new VersionConflictError(collection, id, options.expectedVersion ?? 0, version);
    return version > 0;
  }

  async list<T extends JsonValue = JsonValue>(collection: string, options: ListOptions = {}): Promise<ListPage<T>> {
    const index = this.#indexKey(collection);
    const limit = validatePositiveLimit('limit', options.limit, 100);
    const { prefix = '', after } = options;
    const min = after !== undefined && after >= prefix ? `(${after}` : prefix ? `[${prefix}` : '-';
    // 0xFF sorts after every byte of an ASCII id, so this bound ends the ids that start with prefix.
    const max = prefix ? Buffer.concat([Buffer.from(`(${prefix}`), Buffer.from([0xff])]) : '+';
    const ids = await this.#call(() => this.#client.zrangebylex(index, min, max, 'LIMIT', 0, limit + 1));
    const considered = ids.slice(0, limit);
    const rows = await this.#call(async () => {
      const pipeline = this.#client.pipeline();
      for (const id of considered) pipeline.hmget(this.#documentKey(collection, id), 'value', 'version');
      return (await pipeline.exec()) ?? [];
    });
    const items: StoredDocument<T>[] = [];
    const corrupt: CorruptRecordError[] = [];
    considered.forEach((id, position) => {
      const [error, row] = rows[position] ?? [];
      if (error) throw error;
      const [value, version] = (row ?? []) as [string | null, string | null];
      // Deleted between the two reads: skip it, as a list taken a moment later would.
      if (value == null || version == null) return;
      try {
        items.push({ id, version: Number(version), value: this.#parseDocument<T>(value, collection, id) });
      } catch (problem) {
        if (!(problem instanceof CorruptRecordError)) throw problem;
        corrupt.push(problem);
      }
    });
    const last = considered.at(-1);
    return { items, ...(ids.length > limit && last !== undefined ? { next: last } : {}), ...(corrupt.length ? { corrupt } : {}) };
  }

  async append<T extends JsonValue>(stream: string, entry: T, options: AppendOptions = {}): Promise<number> {
    const key = this.#streamKey(stream);
    const { text, key: entryKey, keepLast } = checkAppend(stream, entry, options);
    const keys = [key, `${this.prefix}streamkeys:${stream}`, `${this.prefix}streamtrim:${stream}`];
    return Number(await this.#eval(appendScript, keys, [text, entryKey ?? '', String(keepLast ?? '')]));
  }

  async read<T extends JsonValue = JsonValue>(stream: string, options: ReadOptions = {}): Promise<StreamEntry<T>[]> {
    const key = this.#streamKey(stream);
    const limit = validatePositiveLimit('limit', options.limit, 1000);
    const after = options.after ?? 0;
    validateVersion('after', after);
    const [before, texts] = (await this.#eval(readScript, [key, `${this.prefix}streamtrim:${stream}`], [String(after), String(limit)])) as [number, string[]];
    return texts.map((text, position) => ({ seq: before + position + 1, entry: this.#parse<T>(text, `${key} entry ${before + position + 1}`) }));
  }

  async close(): Promise<void> {
    // Reads and batches issued before close, still waiting for the end of the tick, go first.
    if (!this.#closed) {
      this.#sendReads();
      this.#sendBatches();
    }
    this.#closed = true;
    if (!this.#ownsClient) return;
    if (this.#client.status === 'ready') await this.#client.quit().catch(() => this.#client.disconnect());
    else this.#client.disconnect();
  }

  #documentKey(collection: string, id: string): string {
    return `${this.prefix}doc:${validateName('collection', collection)}:${validateName('id', id)}`;
  }

  #indexKey(collection: string): string {
    return `${this.prefix}ids:${validateName('collection', collection)}`;
  }

  #expiryKey(collection: string): string {
    return `${this.prefix}exp:${validateName('collection', collection)}`;
  }

  #streamKey(stream: string): string {
    return `${this.prefix}stream:${validateName('stream', stream)}`;
  }

  #parseDocument<T>(text: string, collection: string, id: string): T {
    return parseJsonText<T>(text, (problem) => new CorruptRecordError(collection, id, `not valid JSON (${problem})`, this.where(collection, id)));
  }

  #parse<T>(text: string, key: string): T {
    return parseJsonText<T>(text, (problem) => new StoreCorruptError(`${this.target} key ${key}`, problem));
  }

  async #eval(script: Script, keys: string[], args: string[]): Promise<unknown> {
    const result = await this.#call(async () => {
      try {
        return await this.#client.evalsha(script.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return await this.#client.eval(script.source, keys.length, ...keys, ...args);
      }
    });
    return result;
  }

  /** Runs a command, connecting first if needed; a failure to reach Redis becomes `StoreUnavailableError`. */
  async #call<R>(command: () => Promise<R>): Promise<R> {
    try {
      // Connected already (the common case): no extra turn through #connect.
      if (this.#closed || this.#client.status !== 'ready' || !this.#ownsClient) await this.#connect();
      this.#coalesceWrites();
      return await command();
    } catch (error) {
      // Errors Redis answered with (wrong type, script errors) are not about reachability.
      if (error instanceof StoreUnavailableError || (error instanceof Error && error.name === 'ReplyError')) throw error;
      // ioredis's own words ("Reached the max retries per request limit…") do not say what happened.
      const problem =
        error instanceof Error && error.name === 'MaxRetriesPerRequestError'
          ? `the connection was lost and did not come back after retrying (${this.#lastError?.message ?? 'no answer'})`
          : error instanceof Error
            ? error.message
            : String(error);
      throw new StoreUnavailableError(this.target, problem, { cause: error });
    }
  }

  /**
   * Holds the socket's writes until the end of this tick, so that the commands issued together
   * (a notification's outcome and item reads) go out in one system call and reach Redis as one
   * read: what automatic pipelining saved, without its per-tick Pipeline object.
   */
  #coalesceWrites(): void {
    if (this.#corked) return;
    const socket = this.#client.stream;
    if (!socket || this.#client.status !== 'ready') return;
    socket.cork();
    this.#corked = true;
    process.nextTick(() => {
      this.#corked = false;
      socket.uncork();
    });
  }

  /** Connects an owned client once, failing fast instead of queueing commands while it retries. */
  async #connect(): Promise<void> {
    if (this.#closed) throw new StoreUnavailableError(this.target, 'this store was closed');
    if (!this.#ownsClient || this.#client.status !== 'wait') return this.#connecting;
    const client = this.#client;
    this.#lastError = undefined;
    this.#connecting = client.connect().catch((error: unknown) => {
      // Stop its reconnecting and start the next call on a fresh client: the old one would keep
      // commands queued while it retries, which is the hang this store promises not to have.
      client.disconnect();
      this.#client = this.#openClient();
      this.#connecting = undefined;
      const reason = this.#lastError ?? error;
      throw new StoreUnavailableError(this.target, `cannot connect (${reason instanceof Error ? reason.message : String(reason)})`, { cause: reason });
    });
    return this.#connecting;
  }
}
