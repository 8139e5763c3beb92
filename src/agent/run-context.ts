import { randomIds, systemClock, type Clock, type IdGenerator } from '../core/ids.js';
import type { ModelClient } from '../model/model-client.js';
import { resolveModel, type ResolveModelOptions } from '../model/resolve-model.js';
import type { Logger } from '../observe/logger.js';
import { redactingTrace, type TraceSink } from '../observe/trace-event.js';
import type { Approver } from '../tools/approval.js';
import type { EffectScope } from '../tools/outbox.js';
import type { TerminationCondition } from './termination.js';

/** Turns a model string (`anthropic:…`, `replay:…`) into a client; a client is returned as it is. */
export type ModelResolver = (model: string | ModelClient | undefined, options?: ResolveModelOptions) => ModelClient;

/**
 * The run-wide part of the runtime: opened once per process and the same for every run in it.
 * The full `Runtime` (src/queue/runtime.ts) adds the store and the queue factory.
 */
export interface RunServices {
  clock: Clock;
  ids: IdGenerator;
  /** Where trace events go; in a context, already scrubbed of known secrets. */
  trace?: TraceSink;
  logger?: Logger;
  models: ModelResolver;
}

/**
 * What a run shares with the runs it starts (an agent's tool calls, a crew's members, a
 * workflow's steps, a handler's delegates): the runtime's services, the run's id, how to cancel
 * it, its budgets, who approves tool calls, the model override and the record of side effects.
 * A child's context is derived from its parent's with `deriveRunContext`, never copied field by field.
 */
export interface RunContext extends RunServices {
  runId: string;
  signal?: AbortSignal;
  /** Budgets added to each agent's own termination condition (either stops the run). */
  termination?: TerminationCondition;
  approver?: Approver;
  /** Replaces every agent's model in this run (tests pass a scripted model; `--model`). */
  model?: string | ModelClient;
  /**
   * Records the results of tool calls with `write` or `external` side effects and answers a
   * repeated call from the record: give one when this run may be a repeat (a resumed workflow
   * step, a redelivered job). Workflows and handlers give their own.
   */
  effects?: EffectScope;
  /**
   * Ask models to stream: what they write reaches the trace as it arrives (`model-text-delta`,
   * `model-tool-call-delta`), before each call ends. Off by default: a whole reply is one event,
   * and a program with no one watching gains nothing from the stream.
   */
  streaming?: boolean;
}

/** What a caller gives an entry point: any part of a context (a whole context too); the rest has defaults. */
export type RunOptions = { [Field in keyof RunContext]?: RunContext[Field] | undefined };

const fields = ['clock', 'ids', 'trace', 'logger', 'models', 'runId', 'signal', 'termination', 'approver', 'model', 'effects', 'streaming'] as const;

/**
 * The context of a run from what its caller gave: a missing clock, id generator or model resolver
 * gets the process default, a missing run id a new one (`<kind>-…`). Only the context's own fields
 * are kept, so an entry point's other options never leak into the runs it starts.
 */
export function runContext(options: RunOptions = {}, kind = 'run'): RunContext {
  const ids = options.ids ?? randomIds;
  const context: RunContext = { clock: options.clock ?? systemClock, ids, models: options.models ?? resolveModel, runId: options.runId ?? ids(kind) };
  for (const field of fields) {
    const value = options[field];
    if (value !== undefined && context[field] === undefined) (context as unknown as Record<string, unknown>)[field] = value;
  }
  // Events quote what models wrote and tools fetched: every sink of a run scrubs secrets (once, however deep).
  if (context.trace) context.trace = redactingTrace(context.trace);
  return context;
}

/** A child run's context: its parent's, with the fields the child changes (an undefined override keeps the parent's). */
export function deriveRunContext(parent: RunContext, overrides: RunOptions = {}): RunContext {
  return runContext(mergeRunOptions(parent, overrides));
}

/** Defaults (a handler's, a work graph's, given at construction) with one run's own parts over them. */
export function mergeRunOptions(defaults: RunOptions, overrides: RunOptions): RunOptions {
  const merged: Record<string, unknown> = {};
  for (const field of fields) merged[field] = overrides[field] ?? defaults[field];
  return merged as RunOptions;
}
