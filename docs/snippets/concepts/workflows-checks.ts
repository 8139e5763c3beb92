// defineWorkflow checks the graph when it is built: these mistakes fail at once, naming the tasks.
import { z } from 'zod';
import { codeTask, defineWorkflow } from 'troupe';

const draft = codeTask({ name: 'draft', input: z.string(), output: z.string(), run: (text) => text });
const review = codeTask({ name: 'review', input: z.string(), output: z.object({ ok: z.boolean() }), run: () => ({ ok: true }) });
const publish = codeTask({ name: 'publish', input: z.object({ url: z.string() }), output: z.string(), run: ({ url }) => url });

const attempts = {
  // A cycle made of plain edges: nothing limits how often it goes round.
  'a cycle without a limit': () =>
    defineWorkflow({
      name: 'notes',
      input: z.string(),
      tasks: [draft, review],
      edges: [
        { from: 'draft', to: 'review' },
        { from: 'review', to: 'draft', when: (r) => !r.ok },
      ],
    }),
  // review's output { ok } is not publish's input { url }.
  'schemas that do not fit': () => defineWorkflow({ name: 'notes', input: z.string(), tasks: [draft, review, publish] }),
  // Nothing leads to publish.
  'an unreachable task': () => defineWorkflow({ name: 'notes', input: z.string(), tasks: [draft, review, publish], edges: [{ from: 'draft', to: 'review' }] }),
};

for (const [what, build] of Object.entries(attempts)) {
  try {
    build();
  } catch (error) {
    console.log(`${what}:\n  ${(error as Error).message}`);
  }
}
