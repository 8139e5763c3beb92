import type { z } from 'zod';
import type { WorkflowTask } from './workflow-task.js';

/** What an edge's functions see of the item besides the upstream output. */
export interface ItemView {
  id: string;
  input: unknown;
  /** Outputs of the tasks done so far, by task name. */
  outputs: Readonly<Record<string, unknown>>;
}

/**
 * A connection from one task's output to another task. `when` makes it a route (taken only when it
 * holds; `route` names it in the transitions). `loop` makes it a back edge that sends the item
 * upstream with feedback — the only way to form a cycle, and always with an attempt limit.
 */
export interface Edge {
  from: string;
  to: string;
  when?: (output: any, item: ItemView) => boolean;
  route?: string;
  /** The downstream task's input, made from the upstream output. Default: the output itself (or, at a join, outputs by task name). */
  map?: (output: any, item: ItemView) => unknown;
  loop?: { maxAttempts: number; feedback: (output: any, item: ItemView) => string };
}

/** A checked workflow graph: what the engine needs to run items through it. */
export interface WorkflowGraph<Input = unknown> {
  readonly name: string;
  readonly input: z.ZodType<Input>;
  readonly tasks: ReadonlyMap<string, WorkflowTask>;
  readonly start: string;
  /** Edges that run forward (the graph without its loops is acyclic). */
  readonly forward: readonly Edge[];
  readonly loops: readonly Edge[];
  readonly concurrency: number;
  readonly branchConcurrency: number;
  /** Forward edges into each task. */
  incoming(task: string): readonly Edge[];
  outgoing(task: string): readonly Edge[];
  /** Every task downstream of `task` (itself included), following forward edges. */
  downstream(task: string): ReadonlySet<string>;
}
