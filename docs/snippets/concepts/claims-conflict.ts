// Asking more than once: when the answers disagree, a deterministic rule in code picks one, or a person does.
import { z } from 'zod';
import { type Claim, defineWorkflow, listReviews, openStateStore, promptTask, type TraceEvent } from 'troupe';
import { scriptedModel } from 'troupe/testing';

// #region conflict
/** The answer most samples gave; undefined on a tie, which sends the item to a person. */
function majority(claims: readonly Claim[]): Claim | undefined {
  const votes = new Map<string, Claim[]>();
  for (const c of claims) votes.set(JSON.stringify(c.value), [...(votes.get(JSON.stringify(c.value)) ?? []), c]);
  const ranked = [...votes.values()].sort((a, b) => b.length - a.length);
  return ranked.length > 1 && ranked[0]!.length === ranked[1]!.length ? undefined : ranked[0]![0];
}

const severity = promptTask({
  name: 'severity',
  input: z.object({ report: z.string() }),
  output: z.enum(['low', 'high', 'critical']),
  prompt: 'How severe is this incident: low, high or critical? Answer with the word only.\n\n{{report}}',
  policy: { conflict: { samples: 3, authority: majority } },
});
// #endregion

// The scripted model answers each report's samples in turn.
const answers: Record<string, string[]> = { disk: ['low', 'low', 'low'], login: ['high', 'critical', 'high'], payments: ['low', 'high', 'critical'] };
const model = scriptedModel((request) => {
  const report = Object.keys(answers).find((key) => JSON.stringify(request.messages).includes(key))!;
  return answers[report]!.shift()!;
});

const incidents = defineWorkflow({ name: 'incidents', input: z.object({ report: z.string() }), tasks: [severity] });
const events: TraceEvent[] = [];
const store = await openStateStore();
const summary = await incidents.run(
  Object.keys(answers).map((id) => ({ id, input: { report: `${id} incident report` } })),
  { store, model, trace: (e) => e.type === 'item-transition' && e.policy && events.push(e) },
);
for (const item of summary.items) {
  const rule = events.find((e) => e.type === 'item-transition' && e.item === item.id);
  console.log([`${item.id}: ${item.state}`, item.outputs.severity, rule?.type === 'item-transition' && `[${rule.policy}]`].filter(Boolean).join(' '));
}
for (const review of await listReviews(store, { runId: summary.runId })) console.log(`review of ${review.item}: ${review.what}`, review.findings);
await store.close();
