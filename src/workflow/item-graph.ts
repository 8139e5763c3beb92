import type { Edge, ItemView, WorkflowGraph } from './workflow-graph.js';
import type { ItemRecord } from './run-state.js';

/**
 * Which tasks of an item can run now, and which can never run on this item. A task is ready when
 * every upstream task has settled (done or skipped) and at least one edge into it was taken (its
 * route held); when all have settled and none was taken, it is skipped — so routes prune branches
 * and joins wait only for the branches that ran.
 */
export function settle(workflow: WorkflowGraph<any>, item: ItemRecord): { ready: string[]; skipped: string[] } {
  const ready: string[] = [];
  const skipped: string[] = [];
  // Skips cascade: settle in topological order by repeating until nothing changes.
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, record] of Object.entries(item.tasks)) {
      if (record.status !== 'pending' || ready.includes(name)) continue;
      if (name === workflow.start) {
        ready.push(name);
        continue;
      }
      const incoming = workflow.incoming(name);
      const upstream = incoming.map((edge) => item.tasks[edge.from]!);
      if (!upstream.every((task) => task.status === 'done' || task.status === 'skipped')) continue;
      if (incoming.some((edge) => taken(edge, item))) ready.push(name);
      else {
        record.status = 'skipped';
        skipped.push(name);
        changed = true;
      }
    }
  }
  return { ready, skipped };
}

/**
 * The input of `task`: the item's input at the start; the value of its only edge; at a join, the
 * values of the edges taken, by upstream task name — except where every edge into the join has a
 * `map` and one was taken (branches of exclusive routes merging), which passes that value as it is.
 */
export function edgeInput(workflow: WorkflowGraph<any>, item: ItemRecord, task: string): unknown {
  if (task === workflow.start) return item.input;
  const incoming = workflow.incoming(task);
  const edges = incoming.filter((edge) => taken(edge, item));
  const value = (edge: Edge) => {
    const output = item.tasks[edge.from]!.output;
    return edge.map ? edge.map(output, view(item)) : output;
  };
  if (incoming.length === 1 || (edges.length === 1 && incoming.every((edge) => edge.map))) return value(edges[0]!);
  return Object.fromEntries(edges.map((edge) => [edge.from, value(edge)]));
}

function taken(edge: Edge, item: ItemRecord): boolean {
  const from = item.tasks[edge.from]!;
  return from.status === 'done' && (!edge.when || edge.when(from.output, view(item)));
}

/**
 * What an edge's `when`, `map` and a loop's `feedback` see of an item: its id, its input, and the
 * outputs of its done tasks. Built lazily: most conditions read only the output they are given,
 * so the outputs are collected the first time they are read, not for every edge checked.
 */
export function view(item: ItemRecord): ItemView {
  let outputs: Record<string, unknown> | undefined;
  return {
    id: item.id,
    input: item.input,
    get outputs() {
      outputs ??= Object.fromEntries(
        Object.entries(item.tasks)
          .filter(([, task]) => task.status === 'done')
          .map(([name, task]) => [name, task.output]),
      );
      return outputs;
    },
  };
}
