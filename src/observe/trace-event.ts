import type { ValidationIssue } from '../core/validation-issue.js';
import { knownSecretRedactor, redactSecretsDeep } from './redact-secrets.js';

/**
 * Usage as traces and results report it. Mirrors the model layer's TokenUsage (observe comes
 * before model in the layer order, so it cannot import it).
 */
export interface UsageFigures {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

interface EventBase {
  /** Milliseconds since the epoch, from the injected clock. */
  at: number;
  /** The run this event belongs to. */
  runId: string;
  /** The agent that caused it, when an agent did. */
  agent?: string;
}

export interface ModelCallStartEvent extends EventBase {
  type: 'model-call-start';
  model: string;
  turn: number;
}

export interface ModelCallEndEvent extends EventBase {
  type: 'model-call-end';
  model: string;
  turn: number;
  durationMs: number;
  stopReason: string;
  usage: UsageFigures;
  costUsd: number;
  toolCalls: number;
}

export interface ModelCallRetryEvent extends EventBase {
  type: 'model-call-retry';
  model: string;
  attempt: number;
  delayMs: number;
  errorCode: string;
  message: string;
  /** The failed attempt had streamed text or tool calls already: what was shown of them is void. */
  discardsDeltas?: boolean;
}

/**
 * Text the model is writing, as it arrives: only in runs that stream (`streaming` in the run's
 * options). The text of one call is the concatenation of its deltas; `model-call-end` follows.
 */
export interface ModelTextDeltaEvent extends EventBase {
  type: 'model-text-delta';
  model: string;
  turn: number;
  /** The call the delta belongs to, numbered in this process: deltas of calls running at once (a workflow's items) interleave. */
  call: number;
  text: string;
}

/** The model began a tool call while streaming; its arguments come with `tool-call-start` once the reply is whole. */
export interface ModelToolCallDeltaEvent extends EventBase {
  type: 'model-tool-call-delta';
  model: string;
  turn: number;
  call: number;
  callId: string;
  tool: string;
}

export interface ModelCallErrorEvent extends EventBase {
  type: 'model-call-error';
  model: string;
  errorCode: string;
  message: string;
}

export interface ToolCallStartEvent extends EventBase {
  type: 'tool-call-start';
  callId: string;
  tool: string;
  input: unknown;
}

export interface ToolCallEndEvent extends EventBase {
  type: 'tool-call-end';
  callId: string;
  tool: string;
  durationMs: number;
  isError: boolean;
  /** The result as the model will see it, cut to a readable length. */
  output: string;
  /** The call had been made before (a resumed run, a redelivered job): its recorded result was returned and the tool did not act again. */
  replayed?: boolean;
}

/** Arguments of a tool (or the finish tool) did not match its schema; the model is told. */
export interface ValidationFailureEvent extends EventBase {
  type: 'validation-failure';
  target: 'tool-input' | 'tool-output' | 'finish';
  tool: string;
  callId: string;
  issues: readonly ValidationIssue[];
}

export interface AgentFinishEvent extends EventBase {
  type: 'agent-finish';
  output: unknown;
}

/** A termination condition stopped the run before the agent finished. */
export interface TerminationEvent extends EventBase {
  type: 'termination';
  condition: string;
  reason: string;
  detail: Record<string, unknown>;
}

/** A crew's task was handed to an agent. `crew` names the crew on every crew event. */
export interface TaskStartEvent extends EventBase {
  type: 'task-start';
  crew: string;
  task: string;
}

export interface TaskEndEvent extends EventBase {
  type: 'task-end';
  crew: string;
  task: string;
  status: 'finished' | 'stopped' | 'failed';
  durationMs: number;
  reason?: string;
}

/** One agent delegated work to another (`agent` delegated to `member`). */
export interface DelegationStartEvent extends EventBase {
  type: 'delegation-start';
  crew: string;
  member: string;
  task: string;
  depth: number;
}

export interface DelegationEndEvent extends EventBase {
  type: 'delegation-end';
  crew: string;
  member: string;
  status: 'finished' | 'stopped' | 'failed' | 'refused';
  reason?: string;
}

/** Who speaks next in a group chat, and how that was decided. */
export interface SpeakerSelectEvent extends EventBase {
  type: 'speaker-select';
  crew: string;
  speaker: string;
  method: string;
  round: number;
  reason?: string;
}

/** A crew ended: finished with its output, or stopped (and by what). */
export interface CrewEndEvent extends EventBase {
  type: 'crew-end';
  crew: string;
  process: string;
  status: 'finished' | 'stopped' | 'failed';
  condition: string;
  reason: string;
}

/** A workflow item changed state (or a rule fired on it); the same record as its persisted transition. */
export interface ItemTransitionEvent extends EventBase {
  type: 'item-transition';
  workflow: string;
  item: string;
  from: string;
  to: string;
  why: string;
  task?: string;
  policy?: string;
}

export type TraceEvent =
  | ItemTransitionEvent
  | TaskStartEvent
  | TaskEndEvent
  | DelegationStartEvent
  | DelegationEndEvent
  | SpeakerSelectEvent
  | CrewEndEvent
  | ModelCallStartEvent
  | ModelCallEndEvent
  | ModelCallRetryEvent
  | ModelCallErrorEvent
  | ModelTextDeltaEvent
  | ModelToolCallDeltaEvent
  | ToolCallStartEvent
  | ToolCallEndEvent
  | ValidationFailureEvent
  | AgentFinishEvent
  | TerminationEvent;

export type TraceEventType = TraceEvent['type'];

/** Receives trace events as they happen. Must not throw; must be cheap (it runs in the agent loop). */
export type TraceSink = (event: TraceEvent) => void;

const redacting = Symbol('troupe.redactingTrace');
const scrubsItself = Symbol('troupe.scrubsItself');

/**
 * The sink, handed events scrubbed of known secrets: tool inputs and outputs, a model's final
 * output and a crew's task text carry what a model wrote or a tool fetched, which can quote a key.
 * Wrapping twice (an agent inside a crew) scrubs once, and so does a sink that scrubs every event
 * itself (see selfScrubbingSink): while it says it covers every secret this process knows, events
 * reach it as they are, so that each is walked once rather than twice.
 */
export function redactingTrace(sink: TraceSink): TraceSink {
  if ((sink as { [redacting]?: true })[redacting]) return sink;
  const covers = (sink as { [scrubsItself]?: () => boolean })[scrubsItself];
  const wrapped: TraceSink = covers
    ? (event) => sink(covers() ? event : redactSecretsDeep(event, knownSecretRedactor()))
    : (event) => sink(redactSecretsDeep(event, knownSecretRedactor()));
  return Object.assign(wrapped, { [redacting]: true as const });
}

/**
 * Marks a sink that scrubs every string of every event it is handed before it lets any of it out
 * (a logger's). `coversKnownSecrets` must answer, cheaply and at each call, whether its scrubbing
 * replaces every value that knownSecretRedactor() does (key shapes are replaced by every redactor).
 */
export function selfScrubbingSink(sink: TraceSink, coversKnownSecrets: () => boolean): TraceSink {
  return Object.assign(sink, { [scrubsItself]: coversKnownSecrets });
}

/** What one model call sent and got back, as the model layer has it (messages, content parts). */
export interface ModelExchange {
  system?: string;
  messages: readonly unknown[];
  reply: readonly unknown[];
}

const exchangeKey = Symbol('troupe.modelExchange');

/**
 * Attaches to a `model-call-end` event what the call sent and received, as a hidden (symbol-keyed,
 * non-enumerable) property read through `modelExchangeOf`: a run recorder wants the exact messages,
 * but loggers, progress printers and scrubbing wrappers must not walk (or print) a whole
 * conversation on every call. A wrapper that copies the event drops it; recording then lacks the messages, nothing else.
 */
export function attachModelExchange<E extends ModelCallEndEvent>(event: E, exchange: () => ModelExchange): E {
  Object.defineProperty(event, exchangeKey, { value: exchange, enumerable: false });
  return event;
}

/** The messages of a `model-call-end` event, when the model layer attached them. */
export function modelExchangeOf(event: TraceEvent): ModelExchange | undefined {
  const read = (event as { [exchangeKey]?: () => ModelExchange })[exchangeKey];
  return typeof read === 'function' ? read() : undefined;
}

/** Keeps every event in memory, in order; for tests and for results that carry their trace. */
export function collectTrace(): TraceSink & { events: TraceEvent[] } {
  const events: TraceEvent[] = [];
  const sink = ((event: TraceEvent) => {
    events.push(event);
  }) as TraceSink & { events: TraceEvent[] };
  sink.events = events;
  return sink;
}

/** Sends each event to every sink. */
export function fanOutTrace(...sinks: Array<TraceSink | undefined>): TraceSink | undefined {
  const present = sinks.filter((sink): sink is TraceSink => sink !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return (event) => {
    for (const sink of present) sink(event);
  };
}
