// The research desk's tools: search_notes and read_note over the research crew's notes
// (crews/research/notes/), and check_citations, which checks that each quote of an answer is in the
// note it cites. All three are reads. The default export is what `troupe run research-desk` loads.
import { z } from 'zod';
import { defineTool, type Tool } from 'troupe';
import { loadNotes, researchTools } from '../research/tools.js';

const normalize = (text: string) => text.replace(/[`*_]/g, '').replace(/\s+/g, ' ').trim().toLowerCase();

/** Whether each citation's quote is in the note it names; every problem is listed, so all can be fixed at once. */
export function checkCitations(
  notes: ReadonlyArray<{ id: string; text: string }>,
  citations: ReadonlyArray<{ note: string; quote: string }>,
): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  for (const { note, quote } of citations) {
    const found = notes.find((candidate) => candidate.id === note);
    if (!found) problems.push(`no note "${note}" (notes: ${notes.map((n) => n.id).join(', ')})`);
    else if (!normalize(found.text).includes(normalize(quote))) problems.push(`note "${note}" does not say "${quote}"`);
  }
  return { ok: problems.length === 0, problems };
}

export default function tools(): Tool[] {
  const notes = loadNotes();
  const { searchNotes, readNote } = researchTools();
  const check = defineTool({
    name: 'check_citations',
    description: "Checks an answer's citations: each quote must be in the note it cites, word for word. Returns ok and every problem.",
    input: z.object({
      citations: z
        .array(z.object({ note: z.string().min(1).describe('The note id, e.g. idempotency-keys'), quote: z.string().min(1).describe('Words quoted from it') }))
        .min(1),
    }),
    sideEffects: 'none',
    run: ({ citations }) => checkCitations(notes, citations),
  });
  return [searchNotes, readNote, check];
}
