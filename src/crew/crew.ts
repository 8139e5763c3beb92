import type { RunOptions } from '../agent/run-context.js';
import type { CrewResult } from './crew-result.js';

/** A crew run's context (any part of it; see `RunContext`): every member's run derives from it. */
export interface CrewRunOptions extends RunOptions {}

/** Agents arranged into a process. Every process returns the same result shape. */
export interface Crew<Output = unknown> {
  readonly name: string;
  readonly process: 'sequential' | 'hierarchical' | 'group-chat' | 'consensual' | 'two-agent';
  /** Runs the crew; `input` is the request (or goal) in words, added to the first prompt. */
  run(input?: string, options?: CrewRunOptions): Promise<CrewResult<Output>>;
}
