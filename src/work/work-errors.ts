import { ConfigurationError } from '../core/errors/configuration-error.js';
import { TroupeError, type TroupeErrorOptions } from '../core/errors/troupe-error.js';

/**
 * The dependency graph has a cycle and the graph does not allow cycles. Found when the graph is
 * defined, before anything runs, so a change can never loop between agents by accident.
 */
export class DependencyCycleError extends ConfigurationError {
  override readonly code = 'work_dependency_cycle';
  /** The items of each cycle found, each in dependency order (a depends on b depends on ... a). */
  readonly cycles: string[][];

  constructor(graph: string, cycles: string[][]) {
    const shown = cycles.map((cycle) => [...cycle, cycle[0]].join(' → ')).join('; ');
    super(
      `Work graph "${graph}" has ${cycles.length === 1 ? 'a dependency cycle' : `${cycles.length} dependency cycles`}: ${shown}. ` +
        `Remove a dependency, or set cycles: 'allow' to let changes go round, bounded by limits.maxDepth and limits.maxUpdatesPerItem.`,
      { field: 'items' },
      { details: { graph, cycles } },
    );
    this.cycles = cycles;
  }
}

/** An item id that the graph does not define (a typo in `dependsOn`, `chat` or `troupe chat`). */
export class UnknownWorkItemError extends TroupeError {
  readonly code = 'work_item_unknown';
  readonly fault = 'user' as const;
  readonly itemId: string;

  constructor(graph: string, itemId: string, known: readonly string[], options: TroupeErrorOptions = {}) {
    const list = known.length <= 20 ? known.join(', ') : `${known.slice(0, 20).join(', ')}, ...`;
    super(`Work graph "${graph}" has no item "${itemId}". Its items: ${list}.`, { ...options, details: { graph, itemId, ...options.details } });
    this.itemId = itemId;
  }
}

/**
 * An item kept changing under its agent: every round, another writer got in between the agent
 * reading the item and writing it. Retryable: the job runs again later.
 */
export class WorkItemContentionError extends TroupeError {
  readonly code = 'work_item_contention';
  readonly fault = 'system' as const;
  override readonly retryable = true;

  constructor(graph: string, itemId: string, rounds: number) {
    super(`Item "${itemId}" of work graph "${graph}" changed under its agent ${rounds} times in a row; the job will be tried again.`, {
      details: { graph, itemId, rounds },
    });
  }
}

/** `waitUntilQuiet` gave up: notifications were still pending when its time ran out. */
export class GraphNotQuietError extends TroupeError {
  readonly code = 'work_graph_not_quiet';
  readonly fault = 'system' as const;
  override readonly retryable = true;

  constructor(graph: string, timeoutMs: number, options: TroupeErrorOptions = {}) {
    super(`Work graph "${graph}" was not quiet after ${timeoutMs} ms: notifications are still pending. Is a worker running (troupe worker)?`, {
      ...options,
      details: { graph, timeoutMs, ...options.details },
    });
  }
}
