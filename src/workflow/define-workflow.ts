import { z } from 'zod';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { JsonSchema } from '../core/json.js';
import type { WorkflowTask } from './workflow-task.js';
import { haltedStates } from './run-state.js';
import type { Edge, WorkflowGraph } from './workflow-graph.js';
import { startRun, type StartedRun, type StartRunOptions } from './queued-run.js';
import { resumeRun, runWorkflow, type RunSummary, type RunWorkflowOptions, type WorkItemInput } from './run-workflow.js';

export type { Edge, ItemView } from './workflow-graph.js';

export interface WorkflowOptions<Input> {
  name: string;
  /** Each item's input; the start task receives it. */
  input: z.ZodType<Input>;
  tasks: readonly WorkflowTask[];
  /** Default: a pipeline, each task feeding the next in the order given. */
  edges?: readonly Edge[];
  /** Where each item starts (default: the first task). */
  start?: string;
  /** Items worked on at once (default 4). */
  concurrency?: number;
  /** Independent tasks of one item run at once up to this many (default 4). */
  branchConcurrency?: number;
}

/** A defined workflow: its checked graph, and `run`/`resume` like `agent.run()` and `crew.run()`. */
export interface Workflow<Input = unknown> extends WorkflowGraph<Input> {
  /**
   * Runs the workflow over items: a known list (batch) or an async iterable whose items arrive
   * while it runs (streaming). Every state change is persisted, so a crashed run continues with `resume`.
   */
  run(items: Iterable<WorkItemInput<Input>> | AsyncIterable<WorkItemInput<Input>>, options?: RunWorkflowOptions): Promise<RunSummary>;
  /** Continues a run after a crash, a restart or a review decision; done steps are not repeated. */
  resume(runId: string, options?: RunWorkflowOptions): Promise<RunSummary>;
  /**
   * Starts a run on workers instead of in this process: records the run and its items, queues
   * their steps on `options.queue` (the backend's `workflowRunsQueue`) and returns the run id.
   * `serveWorkflowRuns` (or `troupe worker`) processes them, any number of workers at once.
   */
  enqueue(items: Iterable<WorkItemInput<Input>> | AsyncIterable<WorkItemInput<Input>>, options: StartRunOptions): Promise<StartedRun>;
}

/**
 * Builds a workflow and checks it the moment it is built: unknown task names, schema mismatches
 * between connected tasks, unreachable tasks and cycles without an attempt limit are errors that
 * name the tasks, long before an item runs into them.
 */
export function defineWorkflow<Input>(options: WorkflowOptions<Input>): Workflow<Input> {
  const where = (field: string) => ({ field: `workflows.${options.name}.${field}` });
  const tasks = new Map<string, WorkflowTask>();
  for (const task of options.tasks) {
    if (tasks.has(task.name)) throw new ConfigurationError(`workflow "${options.name}" has two tasks named "${task.name}"`, where('tasks'));
    // A stage is where an item returns after a review: a state that halts the item cannot be one.
    if (task.stage !== undefined && (task.stage === '' || haltedStates.has(task.stage)))
      throw new ConfigurationError(
        `task "${task.name}" has the stage "${task.stage}": name a stage in the workflow's own words (${[...haltedStates].join(', ')} are the engine's)`,
        where(`tasks.${task.name}.stage`),
      );
    tasks.set(task.name, task);
  }
  if (tasks.size === 0) throw new ConfigurationError(`workflow "${options.name}" has no tasks`, where('tasks'));
  const edges: readonly Edge[] = options.edges ?? options.tasks.slice(1).map((task, index) => ({ from: options.tasks[index]!.name, to: task.name }));
  for (const [index, edge] of edges.entries()) {
    for (const end of ['from', 'to'] as const) {
      if (!tasks.has(edge[end])) {
        throw new ConfigurationError(
          `edge ${edge.from} → ${edge.to} names unknown task "${edge[end]}" (tasks: ${[...tasks.keys()].join(', ')})`,
          where(`edges.${index}.${end}`),
        );
      }
    }
    if (edge.loop && !(Number.isInteger(edge.loop.maxAttempts) && edge.loop.maxAttempts >= 1)) {
      throw new ConfigurationError(`loop edge ${edge.from} → ${edge.to} needs maxAttempts of at least 1`, where(`edges.${index}.loop.maxAttempts`));
    }
  }
  const forward = edges.filter((edge) => !edge.loop);
  const loops = edges.filter((edge) => edge.loop);
  const start = options.start ?? options.tasks[0]!.name;
  if (!tasks.has(start)) throw new ConfigurationError(`start task "${start}" is not a task of workflow "${options.name}"`, where('start'));

  const incomingOf = groupBy(forward, (edge) => edge.to);
  const outgoingOf = groupBy(forward, (edge) => edge.from);
  const cycle = findCycle([...tasks.keys()], outgoingOf);
  if (cycle) {
    throw new ConfigurationError(
      `cycle ${cycle.join(' → ')} has no attempt limit: make the edge that sends work back a loop edge ({ loop: { maxAttempts, feedback } })`,
      where('edges'),
    );
  }
  const reachable = reach(start, outgoingOf);
  const unreachable = [...tasks.keys()].filter((name) => !reachable.has(name));
  if (unreachable.length > 0) {
    throw new ConfigurationError(
      `task${unreachable.length > 1 ? 's' : ''} ${unreachable.map((n) => `"${n}"`).join(', ')} can never run: no edge leads there from "${start}"`,
      where('edges'),
    );
  }
  if ((incomingOf.get(start) ?? []).length > 0) throw new ConfigurationError(`start task "${start}" has incoming edges`, where('start'));
  checkSchemas(options, tasks, incomingOf, start, where);

  const downstreamCache = new Map<string, ReadonlySet<string>>();
  const workflow: Workflow<Input> = {
    name: options.name,
    input: options.input,
    tasks,
    start,
    forward,
    loops,
    concurrency: options.concurrency ?? 4,
    branchConcurrency: options.branchConcurrency ?? 4,
    incoming: (task) => incomingOf.get(task) ?? [],
    outgoing: (task) => [...(outgoingOf.get(task) ?? []), ...loops.filter((edge) => edge.from === task)],
    downstream(task) {
      let found = downstreamCache.get(task);
      if (!found) downstreamCache.set(task, (found = reach(task, outgoingOf)));
      return found;
    },
    // `this`, not the workflow built here: a copy with a field changed (`{ ...workflow, concurrency: 100 }`) runs as changed.
    run(items, runOptions) {
      return runWorkflow(this, items, runOptions);
    },
    resume(runId, runOptions) {
      return resumeRun(this, runId, runOptions);
    },
    enqueue(items, startOptions) {
      return startRun(this, items, startOptions);
    },
  };
  return workflow;
}

function checkSchemas<Input>(
  options: WorkflowOptions<Input>,
  tasks: Map<string, WorkflowTask>,
  incoming: Map<string, Edge[]>,
  start: string,
  where: (field: string) => { field: string },
): void {
  const problems = (from: z.ZodType, to: z.ZodType) => mismatches(jsonSchema(from, 'output'), jsonSchema(to, 'input'));
  const first = problems(options.input, tasks.get(start)!.input);
  if (first.length) throw new ConfigurationError(`the workflow input does not fit task "${start}": ${first.join('; ')}`, where('input'));
  for (const [to, edges] of incoming) {
    const target = tasks.get(to)!;
    if (edges.length === 1 && !edges[0]!.map) {
      const found = problems(tasks.get(edges[0]!.from)!.output, target.input);
      if (found.length)
        throw new ConfigurationError(
          `the output of "${edges[0]!.from}" does not fit the input of "${to}": ${found.join('; ')}. Fix the schemas or give the edge a map`,
          where(`edges.${edges[0]!.from}->${to}`),
        );
    }
    if (edges.length > 1 && edges.every((edge) => !edge.map)) {
      // A branch behind a route may not run, so its key is only promised when it always does.
      const always = alwaysReached(start, tasks, incoming);
      const promised = edges.filter((e) => !e.when && always.has(e.from)).map((e) => e.from);
      const found = mismatches(
        { type: 'object', properties: Object.fromEntries(edges.map((e) => [e.from, jsonSchema(tasks.get(e.from)!.output, 'output')])), required: promised },
        jsonSchema(target.input, 'input'),
      );
      if (found.length)
        throw new ConfigurationError(
          `task "${to}" joins ${edges.map((e) => `"${e.from}"`).join(', ')} and receives their outputs by task name, which its input does not fit: ${found.join('; ')}`,
          where(`edges.${to}`),
        );
    }
  }
}

/** Tasks that run for every item: the start, and tasks whose every incoming edge is unconditional and comes from one that always runs. */
function alwaysReached(start: string, tasks: Map<string, WorkflowTask>, incoming: Map<string, Edge[]>): Set<string> {
  const always = new Set([start]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const name of tasks.keys()) {
      const into = incoming.get(name) ?? [];
      if (!always.has(name) && into.length > 0 && into.every((edge) => !edge.when && always.has(edge.from))) {
        always.add(name);
        changed = true;
      }
    }
  }
  return always;
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  try {
    return z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  } catch {
    return {};
  }
}

/** What in `to` (an input schema) `from` (an output schema) does not provide; shallow on purpose, two levels deep. */
function mismatches(from: JsonSchema, to: JsonSchema, path = '', depth = 0): string[] {
  const here = path || 'the value';
  const fromType = from['type'];
  const toType = to['type'];
  if (toType === undefined || fromType === undefined) return [];
  if (fromType !== toType && !(toType === 'number' && fromType === 'integer')) return [`${here} is ${String(fromType)} but ${String(toType)} is expected`];
  if (toType !== 'object' || depth > 1) return [];
  const fromProps = (from['properties'] ?? {}) as Record<string, JsonSchema>;
  const toProps = (to['properties'] ?? {}) as Record<string, JsonSchema>;
  const fromRequired = new Set((from['required'] ?? []) as string[]);
  const out: string[] = [];
  for (const key of (to['required'] ?? []) as string[]) {
    const field = path ? `${path}.${key}` : key;
    if (!(key in fromProps)) {
      if (from['additionalProperties'] === undefined || from['additionalProperties'] === false) out.push(`${field} is required but never produced`);
    } else {
      if (!fromRequired.has(key)) out.push(`${field} is required but may be missing`);
      out.push(...mismatches(fromProps[key]!, toProps[key] ?? {}, field, depth + 1));
    }
  }
  return out;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function reach(from: string, outgoing: Map<string, Edge[]>): Set<string> {
  const seen = new Set<string>([from]);
  const queue = [from];
  while (queue.length) for (const edge of outgoing.get(queue.shift()!) ?? []) if (!seen.has(edge.to)) seen.add(edge.to), queue.push(edge.to);
  return seen;
}

function findCycle(names: string[], outgoing: Map<string, Edge[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const edge of outgoing.get(name) ?? []) {
      if (state.get(edge.to) === 'visiting') return [...stack.slice(stack.indexOf(edge.to)), edge.to];
      if (!state.has(edge.to)) {
        const found = visit(edge.to);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of names)
    if (!state.has(name)) {
      const found = visit(name);
      if (found) return found;
    }
  return undefined;
}
