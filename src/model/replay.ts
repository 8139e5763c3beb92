import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { DefinitionFile, fileSizeLimits } from '../core/definition-file.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { lazy } from '../core/lazy.js';
import { stableStringify } from '../core/json.js';
import { redactSecretsDeep, secretRedactor, type Environment } from '../observe/redact-secrets.js';
import { ReplayMissError } from './errors/replay-miss-error.js';
import {
  deliverAsDeltas,
  type Message,
  type ModelCallOptions,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
  type ToolChoice,
} from './model-client.js';
import { fileStamp } from './file-stamp.js';

/** The cassette format this code reads and writes. Bump it when the entry shape changes, and keep a fixture of the old one. */
export const cassetteVersion = 1;

/**
 * `replay`: answer only from the cassette; a request without a recording is a ReplayMissError.
 * `record`: call the live model for every request and store its answer, replacing the earlier
 * recording of the same request (so re-recording a changed crew leaves no stale answers in front).
 * `auto`: replay what the cassette has and record what it lacks.
 */
export type ReplayMode = 'replay' | 'record' | 'auto';

/**
 * What was asked, kept readable so a cassette can be reviewed in a diff. Tools are listed by name only.
 *
 * @inline
 */
export interface RecordedRequest {
  model: string;
  system?: string;
  messages: Message[];
  tools?: string[];
  toolChoice?: ToolChoice;
  output?: string;
}

export interface CassetteEntry {
  /** sha256 of the request as it affects the answer (see `requestKey`). */
  key: string;
  request: RecordedRequest;
  response: ModelResponse;
}

export interface Cassette {
  version: typeof cassetteVersion;
  entries: CassetteEntry[];
}

export interface ReplayModelOptions {
  /** Path of the cassette file (JSON). In `record` and `auto` modes it is created when missing. */
  cassette: string;
  /** Default `replay`. */
  mode?: ReplayMode;
  /** The model to call in `record` and `auto` modes. */
  live?: ModelClient;
  /** Secret values to keep out of the cassette are read from here (default `process.env`). */
  env?: Environment;
}

/**
 * The key of a request: sha256 of a stable JSON of what decides the answer — model id, system,
 * messages, tools, tool choice and output schema. Sampling settings (temperature, max output
 * tokens) are left out so tuning them does not invalidate a cassette.
 */
export function requestKey(modelId: string, request: ModelRequest): string {
  const { system, messages, tools, toolChoice, output } = request;
  const text = stableStringify({ model: modelId, system, messages, tools, toolChoice, output });
  return createHash('sha256').update(text).digest('hex');
}

// Entries are strict at their top so a misspelt field is caught; their request and response stay
// loose so fields a newer version writes survive a rewrite by this one.
const entrySchema = () =>
  z
    .object({
      key: z.string().min(1),
      request: z.object({ model: z.string(), messages: z.array(z.unknown()) }).loose(),
      response: z
        .object({
          content: z.array(z.object({ type: z.enum(['text', 'tool-call']) }).loose()),
          stopReason: z.string(),
          usage: z.object({ inputTokens: z.number(), outputTokens: z.number() }).loose(),
          model: z.string(),
        })
        .loose(),
    })
    .strict();

// Built on first use (see lazy): a program that never replays does not build them.
const cassetteSchema = lazy(() => z.object({ version: z.literal(cassetteVersion), entries: z.array(entrySchema()) }).strict());

/**
 * Reads a cassette. A missing file is an empty cassette; a file over `fileSizeLimits.data`, bad
 * JSON, a bad shape or another version is a ConfigurationError naming the file, line and field.
 */
export function loadCassette(path: string): Cassette {
  if (!existsSync(path)) return { version: cassetteVersion, entries: [] };
  const file = DefinitionFile.read(path, { format: 'json', maxBytes: fileSizeLimits.data, what: 'cassette' });
  const data = file.data;
  const version = (data as { version?: unknown } | null)?.version;
  if (data !== null && typeof data === 'object' && !Array.isArray(data) && version !== cassetteVersion) {
    throw file.error(
      ['version'],
      `The cassette has version ${JSON.stringify(version)}; this version of Troupe reads cassette version ${cassetteVersion}. Record it again.`,
    );
  }
  // Validated here; the original objects are kept so fields this version does not know survive a rewrite.
  file.validate(cassetteSchema(), 'malformed cassette (record it again)');
  return { version: cassetteVersion, entries: (data as { entries: CassetteEntry[] }).entries };
}

/**
 * The recordings of one cassette file, shared by every replay model of this process that opens
 * the file: two agents recording into one cassette then add to one list instead of overwriting
 * each other's writes. Separate processes recording the same cassette at once are not supported.
 */
class CassetteStore {
  readonly path: string;
  readonly entries: CassetteEntry[];
  readonly #positions = new Map<string, number[]>();
  #stamp: string | undefined;
  #pendingWrites = 0;
  #writing: Promise<void> = Promise.resolve();
  #tempCount = 0;

  constructor(path: string) {
    this.path = path;
    this.entries = loadCassette(path).entries;
    for (const [position, entry] of this.entries.entries()) this.#index(entry.key, position);
    this.#stamp = fileStamp(path);
  }

  /** Whether the file changed on disk since this store last read or wrote it (and so must be read again). */
  get stale(): boolean {
    return this.#pendingWrites === 0 && fileStamp(this.path) !== this.#stamp;
  }

  get exists(): boolean {
    return this.#stamp !== undefined;
  }

  recordings(key: string): CassetteEntry[] {
    return (this.#positions.get(key) ?? []).map((position) => this.entries[position]!);
  }

  /**
   * Distinct model ids, the most recently recorded first: a cassette re-recorded from another
   * model (a scripted draft recorded again live) answers from the new recordings, while the old
   * ones stay in the file until it is deleted.
   */
  models(): string[] {
    const models = new Set<string>();
    for (let i = this.entries.length - 1; i >= 0; i--) models.add(this.entries[i]!.request.model);
    return [...models];
  }

  /** Stores the `index`-th recording of `entry.key`: replaces an earlier one, or appends. */
  put(entry: CassetteEntry, index: number): void {
    const positions = this.#positions.get(entry.key) ?? [];
    const position = positions[index];
    if (position !== undefined) {
      this.entries[position] = entry;
    } else {
      this.entries.push(entry);
      this.#index(entry.key, this.entries.length - 1);
    }
  }

  /** Writes the cassette atomically (temp file, then rename); writes run one at a time, each with the latest entries. */
  save(): Promise<void> {
    this.#pendingWrites++;
    const run = () => this.#write();
    this.#writing = this.#writing.then(run, run).finally(() => {
      this.#pendingWrites--;
    });
    return this.#writing;
  }

  async #write(): Promise<void> {
    const cassette: Cassette = { version: cassetteVersion, entries: this.entries };
    const temp = `${this.path}.${process.pid}.${++this.#tempCount}.tmp`;
    await mkdir(dirname(this.path), { recursive: true });
    try {
      await writeFile(temp, `${JSON.stringify(cassette, null, 2)}\n`, 'utf8');
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    this.#stamp = fileStamp(this.path);
  }

  #index(key: string, position: number): void {
    const positions = this.#positions.get(key);
    if (positions) positions.push(position);
    else this.#positions.set(key, [position]);
  }
}

const stores = new Map<string, CassetteStore>();

function openStore(path: string): CassetteStore {
  const absolute = resolve(path);
  const known = stores.get(absolute);
  if (known && !known.stale) return known;
  const store = new CassetteStore(absolute);
  stores.set(absolute, store);
  return store;
}

/**
 * A model that answers from a cassette of recorded calls, offline and exactly: tests and examples
 * run without a key, and a recorded run can be reviewed as a file. The same request asked several
 * times in one session gets its recordings in the order they were made. Nothing secret is written:
 * values of secret-looking env vars and key-shaped strings are replaced with `[redacted]`.
 */
export class ReplayModel implements ModelClient {
  /** The recorded (or live) model's id, so costs and traces read as they did when recorded; `replay:<path>` when unknown. */
  readonly id: string;
  readonly mode: ReplayMode;
  readonly cassettePath: string;
  readonly #store: CassetteStore;
  readonly #live: ModelClient | undefined;
  readonly #redact: (text: string) => string;
  // Per model, not per store: a new replay model starts a new session and replays from the first recording.
  readonly #seen = new Map<string, number>();

  constructor(options: ReplayModelOptions) {
    this.mode = options.mode ?? 'replay';
    this.cassettePath = options.cassette;
    this.#live = options.live;
    if (this.mode !== 'replay' && !this.#live) {
      throw new ConfigurationError(`A replay model in ${this.mode} mode needs a live model to record from.`, { field: 'live' });
    }
    this.#store = openStore(options.cassette);
    this.#redact = secretRedactor(options.env ?? process.env);
    this.id = this.#live?.id ?? this.#store.models()[0] ?? `replay:${options.cassette}`;
  }

  /** The cassette's recordings (read-only view). */
  get entries(): readonly CassetteEntry[] {
    return this.#store.entries;
  }

  async generate(request: ModelRequest, options?: ModelCallOptions): Promise<ModelResponse> {
    options?.signal?.throwIfAborted();
    const models = this.#live ? [this.#live.id] : this.#store.models();
    const keys = models.map((model) => requestKey(model, request));
    if (this.mode !== 'record') {
      for (const key of keys) {
        const index = this.#seen.get(key) ?? 0;
        const recording = this.#store.recordings(key)[index];
        if (recording) {
          this.#seen.set(key, index + 1);
          const response = structuredClone(recording.response);
          // A recording has no timing: it is delivered whole, one delta per part. Recording passes onDelta to the live model.
          deliverAsDeltas(response.content, options?.onDelta);
          return response;
        }
      }
    }
    if (this.mode === 'replay' || !this.#live) throw this.#miss(request, models[0], keys[0]);
    return this.#record(request, options, keys[0]!);
  }

  async #record(request: ModelRequest, options: ModelCallOptions | undefined, key: string): Promise<ModelResponse> {
    const index = this.#seen.get(key) ?? 0;
    this.#seen.set(key, index + 1);
    const response = await this.#live!.generate(request, options);
    const entry: CassetteEntry = {
      key,
      request: redactSecretsDeep(summarize(this.#live!.id, request), this.#redact),
      response: redactSecretsDeep(response, this.#redact),
    };
    this.#store.put(entry, index);
    await this.#store.save();
    return response;
  }

  #miss(request: ModelRequest, model: string | undefined, key: string | undefined): ReplayMissError {
    const modelId = model ?? 'unknown';
    const requestKeyText = key ?? requestKey(modelId, request);
    const recorded = key ? this.#store.recordings(key).length : 0;
    let reason: string;
    if (!this.#store.exists) reason = 'The cassette file does not exist.';
    else if (recorded > 0) reason = `This request was recorded ${recorded} time(s) and is now asked for time ${recorded + 1} in this session.`;
    else {
      reason =
        `None of its ${this.#store.entries.length} recording(s) has the same model, system prompt, messages, tools, tool choice ` +
        `and output schema (a change to any of them, e.g. a prompt edit, needs a new recording).`;
    }
    return new ReplayMissError(this.cassettePath, requestKeyText, this.#redact(describeRequest(modelId, request)), reason);
  }
}

function summarize(model: string, request: ModelRequest): RecordedRequest {
  const summary: RecordedRequest = { model, messages: [...request.messages] };
  if (request.system !== undefined) summary.system = request.system;
  if (request.tools?.length) summary.tools = request.tools.map((tool) => tool.name);
  if (request.toolChoice !== undefined) summary.toolChoice = request.toolChoice;
  if (request.output) summary.output = request.output.name;
  return summary;
}

const describedTextLength = 120;

/** `model anthropic:x, 3 messages, last user message "..."`: enough to find the request in a crew. */
export function describeRequest(model: string, request: ModelRequest): string {
  const count = request.messages.length;
  let lastUser: string | undefined;
  for (let i = count - 1; i >= 0 && lastUser === undefined; i--) {
    const message = request.messages[i];
    if (message?.role === 'user') lastUser = message.content;
  }
  let text = `model ${model}, ${count} message${count === 1 ? '' : 's'}`;
  if (lastUser !== undefined) {
    const flat = lastUser.replace(/\s+/g, ' ').trim();
    text += `, last user message "${flat.length > describedTextLength ? `${flat.slice(0, describedTextLength)}…` : flat}"`;
  }
  return text;
}
