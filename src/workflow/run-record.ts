import { hostname, userInfo } from 'node:os';
import { randomIds } from '../core/ids.js';
import type { JsonValue } from '../core/json.js';
import { knownSecretRedactor, redactSecretsDeep } from '../observe/redact-secrets.js';
import { modelExchangeOf, type TraceEvent, type TraceSink } from '../observe/trace-event.js';
import type { BatchWrite, StateStore } from '../store/state-store.js';

/**
 * A run of any kind recorded in the store, so `troupe runs list|show` and the dashboard can show
 * it: the run document (collection `recorded-runs`) and its timeline (stream `timeline.<id>`).
 * Workflow runs keep their own richer records (run-state.ts); this is for everything else.
 */
export type RecordedRunKind = 'agent' | 'crew' | 'handler' | 'work-item' | 'workflow';
export const recordedRunKinds: readonly RecordedRunKind[] = ['agent', 'crew', 'handler', 'work-item', 'workflow'];
export type RecordedRunStatus = 'running' | 'finished' | 'stopped' | 'failed';

export interface RecordedRunTotals {
  modelCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  durationMs: number;
}

export interface RecordedRun {
  schemaVersion: 1;
  id: string;
  kind: RecordedRunKind;
  name: string;
  /** Who ran it: the OS user, the host and the process. */
  by: { user: string; host: string; pid: number };
  input?: string;
  status: RecordedRunStatus;
  stopReason?: string;
  startedAt: number;
  endedAt?: number;
  totals: RecordedRunTotals;
}

/** One step of a recorded run, in the order it happened. Payloads are JSON text cut to `maxPayloadChars`. */
export type TimelineEntry =
  | {
      type: 'model-call';
      at: number;
      agent?: string;
      model: string;
      turn: number;
      inputTokens: number;
      outputTokens: number;
      costUsd: number;
      latencyMs: number;
      stopReason: string;
      system?: string;
      messages?: string;
      reply?: string;
    }
  | { type: 'model-error'; at: number; agent?: string; model: string; errorCode: string; message: string }
  | { type: 'retry'; at: number; agent?: string; model: string; attempt: number; delayMs: number; errorCode: string; message: string }
  | { type: 'tool-call'; at: number; agent?: string; tool: string; callId: string; input: string; output?: string; isError?: boolean; durationMs?: number }
  | { type: 'delegation'; at: number; agent?: string; member: string; task?: string; status?: string; reason?: string }
  | { type: 'speaker'; at: number; speaker: string; method: string; round: number; reason?: string }
  | { type: 'validation-failure'; at: number; agent?: string; target: string; tool: string; issues: string }
  | { type: 'task'; at: number; agent?: string; task: string; status?: string; reason?: string }
  | { type: 'termination'; at: number; agent?: string; condition: string; reason: string }
  | { type: 'end'; at: number; status: string; reason: string };

export const recordedRunsCollection = 'recorded-runs';
export const timelineStream = (runId: string) => `timeline.${runId}`;

/** Payloads (messages, tool inputs and outputs) longer than this are cut, with a marker that says how much. */
export const defaultMaxPayloadChars = 20_000;
/** Recorded runs kept per kind when TROUPE_RUN_RETENTION is not set. */
export const defaultRunRetention = 200;

export interface RecordRunOptions {
  kind: RecordedRunKind;
  name: string;
  input?: unknown;
  /** The run's id (pass it on as the run's `runId`); default a new random one. */
  id?: string;
  maxPayloadChars?: number;
  /** Recorded runs kept per kind, oldest removed when a run finishes; default TROUPE_RUN_RETENTION, else 200. */
  retention?: number;
  /** Told when the store refuses a write; the run goes on. Default: a warning on stderr. */
  onError?: (error: unknown) => void;
  now?: () => number;
}

export interface RunRecorder {
  id: string;
  /** Attach as (or fan out to) the run's trace. Never throws, never waits. */
  trace: TraceSink;
  /** Marks the run ended and writes what is buffered; resolves even when the store fails. */
  finish(end: { status: RecordedRunStatus; stopReason?: string }): Promise<void>;
}

/** Cuts text to `limit` characters with a visible marker: `…[truncated 12,345 chars]`. */
export function truncatePayload(text: string, limit = defaultMaxPayloadChars): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}…[truncated ${(text.length - limit).toLocaleString('en-US')} chars]`;
}

/** The retention of TROUPE_RUN_RETENTION (a positive whole number of runs per kind). */
export function runRetention(env: Record<string, string | undefined> = process.env): number {
  const raw = env['TROUPE_RUN_RETENTION'];
  if (raw === undefined || raw === '') return defaultRunRetention;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : defaultRunRetention;
}

const flushEvery = 64;
const flushAfterMs = 250;

/**
 * Starts recording a run: writes its document (status `running`) and returns a trace sink that
 * turns the run's trace events into timeline entries. Entries are buffered and written in
 * batches (one store batch per flush, with the run's totals), text deltas are ignored, payloads
 * are scrubbed of known secrets and cut. A store that fails is reported once through `onError`
 * and never fails the run.
 */
export function recordRun(store: StateStore, options: RecordRunOptions): RunRecorder {
  const now = options.now ?? Date.now;
  const limit = options.maxPayloadChars ?? defaultMaxPayloadChars;
  const redact = knownSecretRedactor();
  const text = (value: unknown): string => truncatePayload(redact(typeof value === 'string' ? value : (JSON.stringify(value) ?? '')), limit);
  const id = options.id ?? randomIds('run');
  let reported = false;
  const onError = (error: unknown) => {
    if (reported) return;
    reported = true;
    if (options.onError) options.onError(error);
    else process.stderr.write(`troupe: warning: run ${id} could not be recorded in the store: ${(error as Error).message}\n`);
  };
  const run: RecordedRun = {
    schemaVersion: 1,
    id,
    kind: options.kind,
    name: options.name,
    by: whoRuns(),
    ...(options.input === undefined ? {} : { input: text(options.input) }),
    status: 'running',
    startedAt: now(),
    totals: { modelCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, durationMs: 0 },
  };
  let buffer: TimelineEntry[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> = Promise.resolve();
  const toolStarts = new Map<string, string>();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const entries = buffer;
    buffer = [];
    const document = { ...run, totals: { ...run.totals } } as unknown as JsonValue;
    const writes: BatchWrite[] = [
      ...entries.map((entry): BatchWrite => ({ kind: 'append', stream: timelineStream(id), entry: entry as unknown as JsonValue })),
      { kind: 'put', collection: recordedRunsCollection, id, value: document },
    ];
    writing = writing.then(() => store.batch(writes).then(() => undefined, onError));
    return writing;
  };
  const push = (entry: TimelineEntry) => {
    buffer.push(entry);
    if (buffer.length >= flushEvery) void flush();
    else if (!timer) {
      timer = setTimeout(() => void flush(), flushAfterMs);
      timer.unref?.();
    }
  };

  void flush();

  const trace: TraceSink = (event) => {
    try {
      const entry = entryOf(event, text, run, toolStarts);
      if (entry) push(redactSecretsDeep(entry, redact));
    } catch (error) {
      onError(error);
    }
  };

  return {
    id,
    trace,
    async finish(end) {
      run.status = end.status;
      if (end.stopReason !== undefined) run.stopReason = text(end.stopReason);
      run.endedAt = now();
      run.totals.durationMs = run.endedAt - run.startedAt;
      push({ type: 'end', at: run.endedAt, status: end.status, reason: run.stopReason ?? '' });
      await flush();
      await prune(store, options.kind, options.retention ?? runRetention(), id).catch(onError);
    },
  };
}

function entryOf(event: TraceEvent, text: (value: unknown) => string, run: RecordedRun, toolStarts: Map<string, string>): TimelineEntry | undefined {
  const agent = event.agent === undefined ? {} : { agent: event.agent };
  switch (event.type) {
    case 'model-call-end': {
      run.totals.modelCalls++;
      run.totals.inputTokens += event.usage.inputTokens;
      run.totals.outputTokens += event.usage.outputTokens;
      run.totals.costUsd += event.costUsd;
      const exchange = modelExchangeOf(event);
      return {
        type: 'model-call',
        at: event.at,
        ...agent,
        model: event.model,
        turn: event.turn,
        inputTokens: event.usage.inputTokens,
        outputTokens: event.usage.outputTokens,
        costUsd: event.costUsd,
        latencyMs: event.durationMs,
        stopReason: event.stopReason,
        ...(exchange?.system === undefined ? {} : { system: text(exchange.system) }),
        ...(exchange ? { messages: text(exchange.messages), reply: text(exchange.reply) } : {}),
      };
    }
    case 'model-call-error':
      return { type: 'model-error', at: event.at, ...agent, model: event.model, errorCode: event.errorCode, message: text(event.message) };
    case 'model-call-retry':
      return {
        type: 'retry',
        at: event.at,
        ...agent,
        model: event.model,
        attempt: event.attempt,
        delayMs: event.delayMs,
        errorCode: event.errorCode,
        message: text(event.message),
      };
    case 'tool-call-start':
      run.totals.toolCalls++;
      // One entry per call, written when it ends: the input waits here for its output.
      toolStarts.set(event.callId, text(event.input));
      return undefined;
    case 'tool-call-end': {
      const input = toolStarts.get(event.callId) ?? '';
      toolStarts.delete(event.callId);
      return {
        type: 'tool-call',
        at: event.at,
        ...agent,
        tool: event.tool,
        callId: event.callId,
        input,
        output: text(event.output),
        isError: event.isError,
        durationMs: event.durationMs,
      };
    }
    case 'delegation-start':
      return { type: 'delegation', at: event.at, ...agent, member: event.member, task: text(event.task) };
    case 'delegation-end':
      return {
        type: 'delegation',
        at: event.at,
        ...agent,
        member: event.member,
        status: event.status,
        ...(event.reason ? { reason: text(event.reason) } : {}),
      };
    case 'speaker-select':
      return {
        type: 'speaker',
        at: event.at,
        speaker: event.speaker,
        method: event.method,
        round: event.round,
        ...(event.reason ? { reason: text(event.reason) } : {}),
      };
    case 'validation-failure':
      return { type: 'validation-failure', at: event.at, ...agent, target: event.target, tool: event.tool, issues: text(event.issues) };
    case 'task-start':
      return { type: 'task', at: event.at, ...agent, task: text(event.task) };
    case 'task-end':
      return { type: 'task', at: event.at, ...agent, task: text(event.task), status: event.status, ...(event.reason ? { reason: text(event.reason) } : {}) };
    case 'termination':
      return { type: 'termination', at: event.at, ...agent, condition: event.condition, reason: text(event.reason) };
    default:
      // Text deltas, tool-call deltas and model-call-start add nothing a reader needs once the call ended.
      return undefined;
  }
}

function whoRuns(): RecordedRun['by'] {
  let user = process.env['USER'] ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the environment's name will do.
  }
  return { user, host: hostname(), pid: process.pid };
}

/**
 * Keeps the newest `keep` recorded runs of a kind: older documents are deleted and their
 * timelines cut to one entry (streams cannot be deleted through StateStore; keepLast trims them).
 */
async function prune(store: StateStore, kind: RecordedRunKind, keep: number, current: string): Promise<void> {
  const runs = (await listRecordedRuns(store)).filter((run) => run.kind === kind && run.id !== current);
  const excess = runs.length + 1 - keep;
  if (excess <= 0) return;
  const oldest = runs.sort((a, b) => a.startedAt - b.startedAt).slice(0, excess);
  for (const run of oldest) {
    await store.append(timelineStream(run.id), { type: 'pruned', at: Date.now() }, { keepLast: 1 });
    await store.delete(recordedRunsCollection, run.id);
  }
}

/** Every recorded run (any kind), in id order; pages through the collection. */
export async function listRecordedRuns(store: StateStore): Promise<RecordedRun[]> {
  const runs: RecordedRun[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.list<JsonValue>(recordedRunsCollection, { limit: 500, ...(after ? { after } : {}) });
    for (const item of page.items) runs.push(item.value as unknown as RecordedRun);
    if (!page.next) return runs;
    after = page.next;
  }
}

export async function loadRecordedRun(store: StateStore, id: string): Promise<RecordedRun | undefined> {
  const found = await store.get<JsonValue>(recordedRunsCollection, id);
  return found ? (found.value as unknown as RecordedRun) : undefined;
}

/** The timeline of a recorded run, in order (after retention pruned a run, only its `pruned` marker). */
export async function readTimeline(store: StateStore, id: string): Promise<TimelineEntry[]> {
  const entries: TimelineEntry[] = [];
  let after = 0;
  for (;;) {
    const page = await store.read<JsonValue>(timelineStream(id), { after, limit: 1000 });
    for (const { seq, entry } of page) {
      after = seq;
      entries.push(entry as unknown as TimelineEntry);
    }
    if (page.length < 1000) return entries;
  }
}
