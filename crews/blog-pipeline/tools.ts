// The blog pipeline's one tool: count_words, which the editor uses to measure its edit. The default
// export is what `troupe run blog-pipeline` loads.
import { z } from 'zod';
import { defineTool, type Tool } from 'troupe';

/** Words as a reader counts them: Markdown markup (#, *, `, list dashes) is not a word. */
export function countWords(text: string): number {
  return text
    .replace(/[#*`>_-]+/g, ' ')
    .split(/\s+/)
    .filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
}

export const countWordsTool = defineTool({
  name: 'count_words',
  description: 'Counts the words of a text (Markdown markup is not counted).',
  input: z.object({ text: z.string().describe('The text to count') }),
  sideEffects: 'none',
  run: ({ text }) => ({ words: countWords(text) }),
});

export default function tools(): Tool[] {
  return [countWordsTool];
}
