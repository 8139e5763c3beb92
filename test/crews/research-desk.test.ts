// The LLM-driven workflow example (a handler configuration with an llm coordinator, ad-hoc agents
// and a worklist) through the library, as `troupe run research-desk --trigger
// crews/research-desk/trigger.json` runs it: the configuration loaded with its tools, the trigger
// file handled on the recorded transcript.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Handler, loadConfiguration, type Trigger } from 'troupe';
import { FileStore } from 'troupe/store';
import { loadNotes } from '../../crews/research/tools.js';
import tools, { checkCitations } from '../../crews/research-desk/tools.js';

const trigger = JSON.parse(readFileSync('crews/research-desk/trigger.json', 'utf8')) as Trigger;

describe('crews/research-desk', () => {
  it('plans a worklist, delegates each part to an agent it creates, is held to its open check, fixes a citation and answers', async () => {
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-research-desk-')) });
    const registry = tools();
    const configuration = loadConfiguration('crews/research-desk/research-desk.yaml', { tools: registry });
    expect(configuration).toMatchObject({ coordinator: 'llm', delegates: { adhoc_agents: true, worklist: true } });

    const outcome = await new Handler({ configurations: [configuration], tools: registry, model: 'replay:crews/research-desk/cassette.json', store }).handle(
      trigger,
    );

    expect(outcome).toMatchObject({ status: 'done', configuration: 'research-desk', coordinator: 'llm', disposition: 'used' });
    // Agents of agents: two agents the coordinator created, each with the tools it chose, both finished.
    expect(outcome.agentsCreated).toEqual([
      { name: 'retry_researcher', tools: ['search_notes', 'read_note'], status: 'finished' },
      { name: 'payment_safety_researcher', tools: ['search_notes', 'read_note'], status: 'finished' },
    ]);
    expect(outcome.toolCalls.map((c) => `${c.by}:${c.tool}${c.isError ? ' (error)' : ''}`)).toEqual([
      'coordinator:plan_work',
      'retry_researcher:search_notes',
      'retry_researcher:read_note',
      'retry_researcher:read_note',
      'retry_researcher:read_note',
      'coordinator:create_agent',
      'coordinator:update_work',
      'payment_safety_researcher:search_notes',
      'payment_safety_researcher:read_note',
      'payment_safety_researcher:read_note',
      'coordinator:create_agent',
      'coordinator:update_work',
      'coordinator:check_citations',
      'coordinator:plan_work',
      'coordinator:search_notes',
      'coordinator:check_citations',
      'coordinator:update_work',
      'coordinator:update_work',
    ]);
    // The first check catches the wrong note id; the second, after the search, passes.
    const checks = outcome.toolCalls.filter((c) => c.tool === 'check_citations').map((c) => JSON.parse(c.output) as { ok: boolean; problems: string[] });
    expect(checks[0]).toEqual({ ok: false, problems: [expect.stringMatching(/^no note "retry-after" \(notes: /)] });
    expect(checks[1]).toEqual({ ok: true, problems: [] });
    // The worklist: re-planned with the fix, everything done at the end, and every change kept in the store.
    expect(outcome.worklist!.map((e) => [e.id, e.status])).toEqual([
      ['fix-retry-after-citation', 'done'],
      ['when-to-retry', 'done'],
      ['no-double-charge', 'done'],
      ['check-citations', 'done'],
    ]);
    expect(outcome.worklist!.find((e) => e.id === 'when-to-retry')!.result).toMatch(/Honour Retry-After \("A client should prefer the server's hint/);
    expect((await store.read(`worklist.${outcome.runId}`)).map((e) => (e.entry as { change: string }).change)).toEqual([
      'plan',
      'update',
      'update',
      'plan',
      'update',
      'update',
    ]);
    expect(outcome.answer).toMatch(/^Retry only transient failures .*\[retry-after-headers\].*reuse it for every retry \[idempotency-keys\]\.$/);
    expect(outcome.answer).not.toMatch(/\[retry-after\]/);
    await store.close();
  });

  it('check_citations names a missing note and a quote its note does not hold', () => {
    const notes = loadNotes();
    expect(
      checkCitations(notes, [
        { note: 'idempotency-keys', quote: 'Generate the key once,   before the first attempt' },
        { note: 'idempotency-keys', quote: 'generate a fresh key for each attempt' },
        { note: 'nope', quote: 'x' },
      ]),
    ).toEqual({
      ok: false,
      problems: [
        'note "idempotency-keys" does not say "generate a fresh key for each attempt"',
        expect.stringMatching(/^no note "nope" \(notes: backoff-and-jitter, /),
      ],
    });
  });
});
