import type { Clock, IdGenerator } from '../core/ids.js';
import type { ModelClient } from '../model/model-client.js';
import type { TraceSink } from '../observe/trace-event.js';
import type { Approver } from '../tools/approval.js';
import type { EffectScope } from '../tools/outbox.js';
import type { CrewResult } from './crew-result.js';

export interface CrewRunOptions {
  /** Replaces every agent's model for this run (tests pass a scripted model here). */
  model?: string | ModelClient;
  signal?: AbortSignal;
  trace?: TraceSink;
  approver?: Approver;
  /** Shared by every member: side-effecting tool calls are recorded and never repeated (see `AgentRunOptions.effects`). */
  effects?: EffectScope;
  runId?: string;
  clock?: Clock;
  ids?: IdGenerator;
}

/** Agents arranged into a process. Every process returns the same result shape. */
export interface Crew<Output = unknown> {
  readonly name: string;
  readonly process: 'sequential' | 'hierarchical' | 'group-chat' | 'consensual' | 'two-agent';
  /** Runs the crew; `input` is the request (or goal) in words, added to the first prompt. */
  run(input?: string, options?: CrewRunOptions): Promise<CrewResult<Output>>;
}
