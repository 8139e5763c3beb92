import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { Persona } from '../agent/instructions.js';
import type { ModelClient } from '../model/model-client.js';
import type { Tool } from '../tools/define-tool.js';
import { DependencyCycleError } from './work-errors.js';
import type { ItemDecision, ItemNotification, WorkItem } from './work-item.js';

/**
 * One item of a work graph and the agent that owns it. The item's content lives in the store;
 * this says what the item is, what it depends on, and who its agent is.
 */
export interface WorkItemDefinition extends Persona {
  /** 1–40 characters of letters, digits, `_`, `.` and `-`, starting with a letter or digit. */
  id: string;
  /** Items this one depends on: when one of them changes, this item's agent is notified. */
  dependsOn?: readonly string[];
  /** Content the item starts with when the graph is seeded (default empty). */
  content?: string;
  /** What the item is, in one line; shown to its agent and to the agents of its dependents. */
  description?: string;
  tools?: readonly Tool[];
  /** This item's agent's model; default the graph's. */
  model?: string | ModelClient;
  /**
   * Code that may decide before the agent is asked (the model only where judgment is needed):
   * return a decision to skip the agent, or `undefined` to ask it.
   */
  react?: (notification: ItemNotification, item: WorkItem) => ItemDecision | undefined | Promise<ItemDecision | undefined>;
}

/** Bounds on propagation. They are what stops a change going round a cycle forever. */
export interface PropagationLimits {
  /** Changes at this causal depth (the person's change is 0) notify nobody; the stop is recorded. */
  maxDepth?: number;
  /** Updates one item may take from the propagation of one change (one origin); more are recorded as bounded. */
  maxUpdatesPerItem?: number;
}

/**
 * How long a graph keeps what flowed through it in the store. Without bounds, a busy graph's
 * outcomes and events grow forever (one document and one event per notification).
 */
export interface WorkRetention {
  /**
   * Milliseconds each notification's outcome document is kept (default 7 days). The outcome is
   * what makes a notification happen once: a job delivered again finds it and stops. So keep it
   * longer than a job of this graph can wait to be delivered again: a job whose worker died is
   * redelivered when a worker next runs (`troupe worker` down for a weekend needs more than 2 days),
   * and workers re-send the notifications of a person's change only while it is younger than
   * half of this (see `WorkGraph.work`).
   */
  outcomesMs?: number;
  /** The newest this many events of the graph are kept (default 10,000); older ones are trimmed. */
  events?: number;
}

export const defaultRetention: Required<WorkRetention> = { outcomesMs: 7 * 24 * 3600 * 1000, events: 10_000 };

export interface WorkGraphDefinition {
  /** 1–40 characters of letters, digits, `_` and `-`; names the queue and the store collections. */
  name: string;
  items: readonly WorkItemDefinition[];
  /** The model of every item's agent unless the item names one; default `TROUPE_MODEL`. */
  model?: string | ModelClient;
  /** `forbid` (default): a cycle is a `DependencyCycleError` when the graph is defined. */
  cycles?: 'forbid' | 'allow';
  /** Default: none for an acyclic graph (it cannot loop); 8 and 3 when cycles are allowed. */
  limits?: PropagationLimits;
  /** Turns of each item's conversation kept and shown to its agent (default 12). */
  conversationTurns?: number;
  /** How long outcomes and events are kept (defaults: outcomes 7 days, the last 10,000 events). */
  retention?: WorkRetention;
}

/** A checked definition: ids valid, dependencies known, cycles found, dependents indexed. */
export interface WorkGraphSpec {
  readonly name: string;
  readonly definition: WorkGraphDefinition;
  readonly items: ReadonlyMap<string, WorkItemDefinition>;
  /** For each item, the items that depend on it, in definition order. */
  readonly dependents: ReadonlyMap<string, readonly string[]>;
  readonly limits: Required<PropagationLimits>;
  readonly conversationTurns: number;
  readonly retention: Required<WorkRetention>;
  /** Cycles found when cycles are allowed (empty otherwise). */
  readonly cycles: readonly string[][];
}

// At most 40 characters: a notification id joins two item ids and a version, and store names stop at 100.
const itemIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
const graphNamePattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

export function isWorkGraphSpec(value: unknown): value is WorkGraphSpec {
  return typeof value === 'object' && value !== null && (value as WorkGraphSpec).items instanceof Map && 'definition' in value;
}

/**
 * Checks a graph definition and indexes it. Throws `ConfigurationError` for a bad id or an unknown
 * dependency, and `DependencyCycleError` (naming the items of every cycle) unless cycles are allowed.
 */
export function defineWorkGraph(definition: WorkGraphDefinition): WorkGraphSpec {
  if (!graphNamePattern.test(definition.name ?? '')) {
    throw new ConfigurationError(`"${definition.name}" is not a work graph name: use 1–40 letters, digits, '_' or '-'.`, { field: 'name' });
  }
  const items = new Map<string, WorkItemDefinition>();
  for (const [index, item] of definition.items.entries()) {
    if (!itemIdPattern.test(item.id ?? '')) {
      throw new ConfigurationError(`"${item.id}" is not an item id: use 1–40 letters, digits, '_', '.' or '-', starting with a letter or digit.`, {
        field: `items[${index}].id`,
      });
    }
    if (items.has(item.id)) throw new ConfigurationError(`item "${item.id}" is defined twice.`, { field: `items[${index}].id` });
    items.set(item.id, item);
  }
  const dependents = new Map<string, string[]>([...items.keys()].map((id) => [id, []]));
  for (const item of items.values()) {
    for (const dependency of new Set(item.dependsOn ?? [])) {
      if (!items.has(dependency)) {
        throw new ConfigurationError(`item "${item.id}" depends on "${dependency}", which the graph does not define.`, { field: `items.${item.id}.dependsOn` });
      }
      if (dependency === item.id && definition.cycles !== 'allow') throw new DependencyCycleError(definition.name, [[item.id]]);
      dependents.get(dependency)!.push(item.id);
    }
  }
  const cycles = findCycles(items);
  const allow = definition.cycles === 'allow';
  if (cycles.length > 0 && !allow) throw new DependencyCycleError(definition.name, cycles);
  const limits = definition.limits ?? {};
  for (const [field, value] of Object.entries(limits)) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1))
      throw new ConfigurationError(`limits.${field} must be a whole number of at least 1, not ${value}.`, { field: `limits.${field}` });
  }
  const conversationTurns = definition.conversationTurns ?? 12;
  if (!Number.isInteger(conversationTurns) || conversationTurns < 0)
    throw new ConfigurationError('conversationTurns must be a whole number of at least 0.', { field: 'conversationTurns' });
  const retention = { ...defaultRetention, ...definition.retention };
  for (const [field, value] of Object.entries(definition.retention ?? {})) {
    if (!(field in defaultRetention))
      throw new ConfigurationError(`retention.${field} is not a retention setting: use outcomesMs or events.`, { field: `retention.${field}` });
    if (!Number.isSafeInteger(value) || value < 1)
      throw new ConfigurationError(`retention.${field} must be a whole number of at least 1, not ${value}.`, { field: `retention.${field}` });
  }
  return {
    name: definition.name,
    definition,
    retention,
    items,
    dependents,
    limits: {
      maxDepth: limits.maxDepth ?? (allow ? 8 : Number.POSITIVE_INFINITY),
      maxUpdatesPerItem: limits.maxUpdatesPerItem ?? (allow ? 3 : Number.POSITIVE_INFINITY),
    },
    conversationTurns,
    cycles: allow ? cycles : [],
  };
}

/**
 * Every cycle's items, by Tarjan's strongly connected components (iterative, so a 10,000-item
 * chain does not overflow the stack). Each component with more than one item, or an item that
 * depends on itself, is reported as one cycle, in dependency order starting from its first item.
 */
function findCycles(items: ReadonlyMap<string, WorkItemDefinition>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  const edges = (id: string) => [...new Set(items.get(id)?.dependsOn ?? [])];
  for (const root of items.keys()) {
    if (index.has(root)) continue;
    const work: Array<{ id: string; next: number; edges: string[] }> = [{ id: root, next: 0, edges: edges(root) }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.next < frame.edges.length) {
        const to = frame.edges[frame.next++]!;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ id: to, next: 0, edges: edges(to) });
        } else if (onStack.has(to)) low.set(frame.id, Math.min(low.get(frame.id)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) !== index.get(frame.id)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.id);
      const selfLoop = component.length === 1 && edges(frame.id).includes(frame.id);
      if (component.length > 1 || selfLoop) cycles.push(orderCycle(component, edges));
    }
  }
  return cycles;
}

/** Puts a component's items in an order that follows dependencies, for a message a person can check. */
function orderCycle(component: string[], edges: (id: string) => string[]): string[] {
  const members = new Set(component);
  const start = component[component.length - 1]!;
  const path = [start];
  const seen = new Set(path);
  for (;;) {
    const next = edges(path[path.length - 1]!).find((to) => members.has(to) && !seen.has(to));
    if (!next) break;
    path.push(next);
    seen.add(next);
  }
  for (const id of component) if (!seen.has(id)) path.push(id);
  return path;
}
