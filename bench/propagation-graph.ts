// The graphs bench/propagation.ts measures, loaded by it and by its `troupe worker` processes.
// Items decide in code (`react`), not with a model: the bench measures what Troupe adds to the
// queue (store reads and writes, idempotence, outcome records), not a model's speed.
import type { WorkGraphDefinition, WorkItemDefinition } from 'troupe';

/** A hub and `leaves` dependents that decide "no change": one notification per leaf. */
export function fanOutGraph(name: string, leaves: number): WorkGraphDefinition {
  const leaf = (i: number): WorkItemDefinition => ({ id: `leaf-${i}`, dependsOn: ['hub'], react: () => ({ kind: 'no-change', reason: 'unaffected' }) });
  return { name, items: [{ id: 'hub' }, ...Array.from({ length: leaves }, (_, i) => leaf(i))] };
}

/**
 * A tree of `size` items and depth `depth` under one root (each item depends on its parent);
 * every item follows its parent's change, so one change of the root reaches every item.
 */
export function treeGraph(name: string, size: number, depth: number): WorkGraphDefinition {
  const branching = Math.ceil(size ** (1 / depth));
  const items: WorkItemDefinition[] = [{ id: 'n0' }];
  const follow: WorkItemDefinition['react'] = (notification) => ({
    kind: 'update',
    content: `follows ${notification.source} v${notification.sourceVersion}`,
    summary: 'followed its parent',
  });
  for (let i = 1; i < size; i++) items.push({ id: `n${i}`, dependsOn: [`n${Math.floor((i - 1) / branching)}`], react: follow });
  return { name, items };
}

export default function graph(env: Record<string, string | undefined>): WorkGraphDefinition {
  const name = env['BENCH_GRAPH'] ?? 'bench';
  return env['BENCH_SHAPE'] === 'tree'
    ? treeGraph(name, Number(env['BENCH_SIZE'] ?? 10_000), Number(env['BENCH_DEPTH'] ?? 5))
    : fanOutGraph(name, Number(env['BENCH_SIZE'] ?? 5000));
}
