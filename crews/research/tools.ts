// The research crew's tools: `search_notes` and `read_note` over the small corpus of Markdown notes
// in crews/research/notes/. Both are pure reads of files shipped with the crew, and their results
// hold note ids (file names without .md), never absolute paths, so a recorded run replays exactly
// on any machine. The default export is what `troupe run research` loads.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defineTool, type Tool } from 'troupe';

export interface Note {
  id: string;
  title: string;
  text: string;
}

export interface SearchHit {
  id: string;
  title: string;
  score: number;
  snippet: string;
}

/**
 * Where the notes are: beside this file when it runs from the source tree (vitest), or back in the
 * source tree when it runs compiled from dist/crews/research/ (the notes are not copied by tsc).
 */
export function defaultNotesDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [join(here, 'notes'), join(here, '..', '..', '..', 'crews', 'research', 'notes')];
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0]!;
}

export function loadNotes(dir: string = defaultNotesDir()): Note[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8').trim();
      const title = /^#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? file;
      return { id: file.replace(/\.md$/, ''), title, text };
    });
}

// Words that match everywhere and so rank nothing.
const stopWords = new Set(
  'a an and are as at be by can do does for from how i in is it of on or should that the this to what when which who why with'.split(' '),
);

function terms(text: string): string[] {
  return (
    text
      .toLowerCase()
      .match(/[a-z0-9]+(?:-[a-z0-9]+)*/g)
      ?.filter((word) => word.length > 1 && !stopWords.has(word))
      .map(stem) ?? []
  );
}

/** A crude stemmer, enough for "retries", "retrying" and "retry" to meet. */
function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/**
 * Ranks notes by how often the query's words occur in them, a title match counting three times.
 * Deliberately simple and deterministic: the same query always gives the same hits in the same order.
 */
export function searchNotes(notes: readonly Note[], query: string, limit: number): SearchHit[] {
  const wanted = [...new Set(terms(query))];
  if (wanted.length === 0) return [];
  const hits: SearchHit[] = [];
  for (const note of notes) {
    const title = terms(note.title);
    const body = terms(note.text);
    let score = 0;
    for (const term of wanted) {
      score += body.filter((word) => word === term || word.startsWith(`${term}-`)).length;
      score += 2 * title.filter((word) => word === term).length;
    }
    if (score > 0) hits.push({ id: note.id, title: note.title, score, snippet: snippet(note.text, wanted) });
  }
  return hits.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, limit);
}

/** The sentence of the body holding the most query words (the first of equals), so the model can judge a hit before reading it. */
function snippet(text: string, wanted: readonly string[]): string {
  const body = text.replace(/^#.*$/m, '').replace(/\s+/g, ' ').trim();
  let best = '';
  let bestCount = -1;
  for (const sentence of body.split(/(?<=[.!?])\s+/)) {
    const count = new Set(terms(sentence).filter((word) => wanted.includes(word))).size;
    if (count > bestCount) [best, bestCount] = [sentence, count];
  }
  return best.length > 200 ? `${best.slice(0, 199)}…` : best;
}

export function researchTools(dir: string = defaultNotesDir()): { searchNotes: Tool; readNote: Tool } {
  const notes = loadNotes(dir);
  const ids = notes.map((note) => note.id);
  return {
    searchNotes: defineTool({
      name: 'search_notes',
      description:
        'Searches the research notes by keywords. Returns the best matches with their id, title and a snippet; read a note with read_note before citing it.',
      input: z.object({
        query: z.string().min(1).describe('Keywords, e.g. "retry backoff jitter"'),
        limit: z.number().int().min(1).max(10).default(3).describe('How many notes to return'),
      }),
      sideEffects: 'read',
      run: ({ query, limit }) => {
        const hits = searchNotes(notes, query, limit);
        return hits.length > 0 ? hits : `No note matches "${query}". Try other keywords.`;
      },
    }),
    readNote: defineTool({
      name: 'read_note',
      description: 'Reads one research note in full, by the id search_notes returned.',
      input: z.object({ id: z.string().min(1).describe('A note id such as backoff-and-jitter') }),
      sideEffects: 'read',
      run: ({ id }) => {
        const note = notes.find((candidate) => candidate.id === id);
        if (!note) throw new Error(`No note "${id}". Notes: ${ids.join(', ')}.`);
        return note.text;
      },
    }),
  };
}

export default function tools(): Tool[] {
  return Object.values(researchTools());
}
