// A cyclic workflow: a model drafts a release note, code checks it, and a failed check sends the
// draft back to the model with the problems, at most twice. Past that limit a person decides.
//
//   draft → check ─ok──────────→ publish
//     ↑       └─problems (loop, at most 2)─┘
//
// `npx troupe run draft-review-loop --input crews/draft-review-loop/changes.json` runs it (offline
// on crews/draft-review-loop/cassette.json without an API key). Of the three changes there, one
// passes the check at once, one is sent back and fixed, and one hits the limit and waits for review.
import { z } from 'zod';
import { codeTask, defaultModel, defineWorkflow, promptTask } from 'troupe';

/** How many times the check may send a draft back before a person decides. */
export const maxSendBacks = 2;
export const maxWords = 45;
/** Words a release note must not use: they promise instead of telling what changed. */
export const bannedWords = ['seamless', 'seamlessly', 'revolutionary', 'game-changing', 'blazing', 'magic'];

export const changeSchema = z.object({
  change: z.string().min(1).describe('What changed, as the engineers wrote it'),
  mustMention: z.array(z.string().min(1)).describe('Terms the note must name, e.g. the setting a user has to change'),
});
export type Change = z.infer<typeof changeSchema>;

export const draftSchema = z.object({
  headline: z.string().min(1).describe('At most 8 words'),
  body: z.string().min(1).describe(`At most ${maxWords} words`),
});
export type Draft = z.infer<typeof draftSchema>;

const checkSchema = z.object({ ok: z.boolean(), problems: z.array(z.string()), draft: draftSchema });
export type Check = z.infer<typeof checkSchema>;

const words = (text: string) => text.split(/\s+/).filter(Boolean);

/** The code check of a draft: length, banned words, required terms. Every problem is named, so the model can fix them all at once. */
export function checkDraft(draft: Draft, change: Change): Check {
  const problems: string[] = [];
  const text = `${draft.headline} ${draft.body}`;
  if (words(draft.headline).length > 8) problems.push(`the headline has ${words(draft.headline).length} words; at most 8`);
  if (words(draft.body).length > maxWords) problems.push(`the body has ${words(draft.body).length} words; at most ${maxWords}`);
  for (const word of bannedWords) if (new RegExp(`\\b${word}\\b`, 'i').test(text)) problems.push(`do not write "${word}": say what changed instead`);
  for (const term of change.mustMention) if (!text.toLowerCase().includes(term.toLowerCase())) problems.push(`name "${term}"`);
  return { ok: problems.length === 0, problems, draft };
}

const draft = promptTask({
  name: 'draft',
  input: changeSchema,
  output: draftSchema,
  model: defaultModel,
  system: 'You write release notes for users: what changed and what they have to do, in plain words.',
  prompt: `Write a release note for this change: a headline of at most 8 words and a body of at most ${maxWords} words. Name every one of these terms: {{mustMention}}.\n\nChange: {{change}}`,
});

const check = codeTask({
  name: 'check',
  input: z.object({ note: draftSchema, change: changeSchema }),
  output: checkSchema,
  run: ({ note, change }) => checkDraft(note, change),
});

const publish = codeTask({
  name: 'publish',
  input: draftSchema,
  output: z.object({ markdown: z.string() }),
  run: (note) => ({ markdown: `### ${note.headline}\n\n${note.body}\n` }),
});

export default defineWorkflow({
  name: 'draft-review-loop',
  input: changeSchema,
  tasks: [draft, check, publish],
  edges: [
    // The check needs the change too (its required terms): the edge hands it both.
    { from: 'draft', to: 'check', map: (note: Draft, item) => ({ note, change: item.input }) },
    { from: 'check', to: 'publish', when: (result: Check) => result.ok, route: 'passed', map: (result: Check) => result.draft },
    {
      from: 'check',
      to: 'draft',
      when: (result: Check) => !result.ok,
      loop: { maxAttempts: maxSendBacks, feedback: (result: Check) => `The check found: ${result.problems.join('; ')}.` },
    },
  ],
});
