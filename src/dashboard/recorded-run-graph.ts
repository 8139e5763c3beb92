import type { TimelineEntry } from '../workflow/run-record.js';
import { type GraphEdge, type GraphNode, graphSvg } from './graph-svg.js';

/** What a recorded run's timeline says about its shape: the boxes and arrows to draw. */
export interface RunGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/**
 * The graph of a recorded run, read from its timeline. A crew that delegates or chats is drawn as
 * its agents, with an arrow per manager → member delegation and per "spoke after" pair of a group
 * chat, each with how many times; a crew of tasks alone (sequential) is drawn as its tasks in
 * order; anything else as the agents that called a model. Arrows that point back to an agent seen
 * earlier are drawn as loops so the layout stays left to right.
 */
export function recordedRunGraph(timeline: readonly TimelineEntry[]): RunGraph {
  const delegations = timeline.filter((e): e is Extract<TimelineEntry, { type: 'delegation' }> => e.type === 'delegation' && e.status === undefined);
  const speakers = timeline.filter((e): e is Extract<TimelineEntry, { type: 'speaker' }> => e.type === 'speaker');
  const tasks = timeline.filter((e): e is Extract<TimelineEntry, { type: 'task' }> => e.type === 'task' && e.status === undefined);
  if (delegations.length === 0 && speakers.length === 0 && tasks.length > 0) return taskChain(timeline, tasks);

  // Agents in the order they first appear, so "back" means "to someone who came before".
  const order = new Map<string, number>();
  const see = (name: string) => {
    if (!order.has(name)) order.set(name, order.size);
  };
  const counts = new Map<string, { from: string; to: string; kind: string; n: number }>();
  const count = (from: string, to: string, kind: string) => {
    see(from);
    see(to);
    if (from === to) return;
    const key = JSON.stringify([from, to, kind]);
    const found = counts.get(key) ?? { from, to, kind, n: 0 };
    found.n++;
    counts.set(key, found);
  };
  let previous: string | undefined;
  for (const entry of timeline) {
    if (entry.type === 'delegation' && entry.status === undefined) count(entry.agent ?? 'manager', entry.member, 'delegates');
    else if (entry.type === 'speaker') {
      if (previous === undefined) see(entry.speaker);
      else count(previous, entry.speaker, 'spoke next');
      previous = entry.speaker;
    } else if ('agent' in entry && entry.agent) see(entry.agent);
  }
  const edges: GraphEdge[] = [...counts.values()].map(({ from, to, kind, n }) => ({
    from: agentId(from),
    to: agentId(to),
    label: `${kind} ×${n}`,
    ...(order.get(to)! < order.get(from)! ? { back: true } : {}),
  }));
  const nodes: GraphNode[] = [...order.keys()].map((name) => ({ id: agentId(name), label: name, detail: activity(timeline, name) }));
  return { nodes, edges };
}

/** The run's graph as inline SVG (every label escaped by graphSvg), or a line saying there is nothing to draw. */
export function recordedRunGraphSvg(timeline: readonly TimelineEntry[], title: string): string {
  const { nodes, edges } = recordedRunGraph(timeline);
  if (nodes.length === 0) return '<p class="muted">Nothing to draw yet.</p>';
  return `<div class="graph">${graphSvg(nodes, edges, title)}</div>`;
}

function taskChain(timeline: readonly TimelineEntry[], starts: readonly Extract<TimelineEntry, { type: 'task' }>[]): RunGraph {
  const outcome = new Map<string, string>();
  for (const entry of timeline) if (entry.type === 'task' && entry.status !== undefined) outcome.set(entry.task, entry.status);
  const tone = (status: string | undefined): NonNullable<GraphNode['tone']> =>
    status === undefined ? 'waiting' : status === 'finished' ? 'good' : status === 'failed' ? 'bad' : 'neutral';
  const nodes = starts.map((start, index) => ({
    id: `task:${index}`,
    label: `${index + 1}. ${start.task}`,
    detail: start.agent ? `by ${start.agent}` : '',
    tone: tone(outcome.get(start.task)),
  }));
  const edges = starts.slice(1).map((_, index) => ({ from: `task:${index}`, to: `task:${index + 1}`, label: 'then' }));
  return { nodes, edges };
}

const agentId = (name: string) => `agent:${name}`;

function activity(timeline: readonly TimelineEntry[], agent: string): string {
  let calls = 0;
  let tokens = 0;
  for (const entry of timeline) {
    if (entry.type === 'model-call' && entry.agent === agent) {
      calls++;
      tokens += entry.inputTokens + entry.outputTokens;
    }
  }
  return `${calls} model call${calls === 1 ? '' : 's'}, ${tokens} tokens`;
}
