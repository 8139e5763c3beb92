// Cycles are refused when a graph is defined, unless allowed; then bounds stop a change that
// would otherwise go round forever, and every stop is recorded.
import { DependencyCycleError, defineWorkGraph, describeWorkEvent, openWorkGraph } from 'troupe';

// #region forbid
try {
  defineWorkGraph({
    name: 'pricing',
    items: [
      { id: 'price', dependsOn: ['discount'] },
      { id: 'discount', dependsOn: ['price'] },
    ],
  });
} catch (error) {
  if (!(error instanceof DependencyCycleError)) throw error;
  console.log(`${error.code} (exit ${error.exitCode}): ${error.message}`);
}
// #endregion

// #region allow
// Each item's code always changes it when the other changes: without bounds this never ends.
const echo = (id: string) => ({
  id,
  dependsOn: [id === 'price' ? 'discount' : 'price'],
  react: () => ({ kind: 'update' as const, content: `${id} adjusted`, summary: `${id} follows the other` }),
});
const graph = await openWorkGraph({
  name: 'pricing',
  cycles: 'allow',
  limits: { maxDepth: 8, maxUpdatesPerItem: 2 }, // the defaults when cycles are allowed: 8 and 3
  items: [echo('price'), echo('discount')],
});
await graph.work();
await graph.change('price', { content: 'price 10', summary: 'a person set the price' });
await graph.waitUntilQuiet();
for (const { entry } of await graph.events()) console.log(describeWorkEvent(entry));
await graph.close();
// #endregion
