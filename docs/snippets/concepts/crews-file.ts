// #region typed
import { z } from 'zod';
import { DefinitionFileError, loadCrew } from 'troupe';

const Brief = z.object({ title: z.string(), summary: z.string() });

// The schema is checked against the file's final output when the crew loads, and the result
// against the schema when it runs: result.output is typed { title: string; summary: string }.
const crew = loadCrew('docs/snippets/concepts/crews-brief.yaml', { output: Brief });
const result = await crew.run('Why do payment APIs take idempotency keys?', {
  model: 'scripted:docs/snippets/concepts/crews-brief-replies.yaml', // every agent's model, for this run
});
if (result.status === 'finished') console.log(`${result.output.title}\n${result.output.summary}`);
for (const task of result.tasks) console.log(`${task.task} (${task.agent}): ${task.status}`);
// #endregion

// #region errors
try {
  loadCrew('docs/snippets/concepts/crews-broken.yaml');
} catch (error) {
  if (!(error instanceof DefinitionFileError)) throw error;
  console.log(error.message);
}
// #endregion
