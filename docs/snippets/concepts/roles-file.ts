// #region load
import { z } from 'zod';
import { DefinitionFileError, defineTool, loadRole } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

// The typed form: an assistant role that finishes with a value of this schema.
const editor = loadRole('docs/snippets/concepts/roles-editor.yaml', {
  output: z.object({ text: z.string(), words: z.number().int() }),
});
console.log(editor.name, '-', editor.description);
console.log(editor.systemMessage);

const result = await editor.run('Retries can repeat a request, so in actual fact an idempotency key is really what makes the repeat harmless.', {
  model: scriptedModel([reply.finish({ text: 'Retries repeat a request; an idempotency key makes the repeat harmless.', words: 11 })]),
});
console.log(result.output);
// #endregion

// #region errors
// Every problem of a file is reported at once, each with its line and field.
const searchNotes = defineTool({
  name: 'search_notes',
  description: 'Searches the notes.',
  input: z.object({ query: z.string() }),
  run: () => [],
});
try {
  loadRole('docs/snippets/concepts/roles-broken.yaml', { tools: [searchNotes] });
} catch (error) {
  if (!(error instanceof DefinitionFileError)) throw error;
  console.log(error.message);
}
// #endregion
