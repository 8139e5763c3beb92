import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TraceEvent } from 'troupe';
import { collectTrace, manualClock } from 'troupe/testing';
import { runResearch } from '../../crews/research/run.js';
import { loadNotes, researchTools, searchNotes } from '../../crews/research/tools.js';
import { executeToolCall } from '../../src/tools/execute-tool-call.js';
import { ToolSet } from '../../src/tools/tool-set.js';

const quiet = () => {
  vi.stubEnv('ANTHROPIC_API_KEY', '');
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
};

describe('crews/research', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('runs offline from its recorded transcript: the manager delegates, checks and sends the writer back', async () => {
    quiet();
    const trace = collectTrace();

    const result = await runResearch({ trace });

    expect(result).toMatchObject({
      crew: 'research',
      process: 'hierarchical',
      status: 'finished',
      stop: { kind: 'finish', reason: 'research_manager finished after 5 delegations' },
    });
    const delegations = trace.events.flatMap((e) => (e.type === 'delegation-start' ? [[e.agent, e.member, e.task, e.depth]] : []));
    expect(delegations).toEqual([
      ['research_manager', 'researcher', 'find_sources', 1],
      ['research_manager', 'writer', 'draft_brief', 1],
      ['research_manager', 'researcher', 'check_brief', 1],
      ['research_manager', 'writer', 'draft_brief', 1],
      ['research_manager', 'researcher', 'check_brief', 1],
    ]);
    expect(result.tasks.map((t) => [t.task, t.agent, t.status])).toEqual([
      ['find_sources', 'researcher', 'finished'],
      ['draft_brief', 'writer', 'finished'],
      ['check_brief', 'researcher', 'finished'],
      ['draft_brief', 'writer', 'finished'],
      ['check_brief', 'researcher', 'finished'],
    ]);
    // Each task's output was validated against its schema in crew.yaml: the first check found a problem, the second approved.
    expect(result.tasks[2]!.output).toMatchObject({ verdict: 'changes-needed', problems: [{ advice: expect.stringContaining('fresh key for each attempt') }] });
    expect(result.tasks[4]!.output).toEqual({ verdict: 'approved', problems: [] });
    // The writer was sent back with the checker's problem in its context.
    const secondDraftPrompt = result.transcripts.writer!.filter((m) => m.role === 'user')[1]!.content as string;
    expect(secondDraftPrompt).toMatch(/^# Task from research_manager\n\nWrite a brief[\s\S]*## Context\n[\s\S]*The checker's problems:/);
  });

  it('returns the typed brief, citing only notes the researcher read', async () => {
    quiet();
    const trace = collectTrace();

    const { output, transcripts } = await runResearch({ trace });

    expect(output).toBeDefined();
    const brief = output!;
    expect(brief.title).toBe('Retrying calls to a rate-limited API');
    expect(brief.recommendations.length).toBeGreaterThanOrEqual(3);
    expect(brief.recommendations.find((r) => r.sources.includes('idempotency-keys'))!.advice).toMatch(
      /generate it once per operation.*reuse it for every retry/,
    );
    const cited = new Set(brief.recommendations.flatMap((r) => r.sources));
    expect(new Set(brief.sources)).toEqual(cited);
    const read = new Set(
      transcripts.researcher!.flatMap((m) =>
        m.role === 'assistant' ? m.content.flatMap((p) => (p.type === 'tool-call' && p.name === 'read_note' ? [(p.input as { id: string }).id] : [])) : [],
      ),
    );
    for (const id of cited) expect(read).toContain(id);
    // The real tools ran: one search, then the notes read once to research and twice to check.
    const toolRuns = trace.events.filter((e): e is Extract<TraceEvent, { type: 'tool-call-end' }> => e.type === 'tool-call-end' && e.tool !== 'delegate_task');
    expect(toolRuns.map((e) => e.tool).filter((t) => t === 'search_notes')).toHaveLength(1);
    expect(toolRuns.filter((e) => e.tool === 'read_note' && !e.isError)).toHaveLength(15);
  });

  it('reports usage per agent: runs, model calls and tokens', async () => {
    quiet();

    const { usage } = await runResearch();

    const byAgent = Object.fromEntries(Object.entries(usage.byAgent).map(([agent, u]) => [agent, { runs: u.runs, turns: u.turns }]));
    expect(byAgent).toEqual({ research_manager: { runs: 1, turns: 6 }, researcher: { runs: 3, turns: 7 }, writer: { runs: 2, turns: 2 } });
    expect(usage.total).toMatchObject({ runs: 6, turns: 15 });
    for (const spent of Object.values(usage.byAgent)) expect(spent.usage.inputTokens).toBeGreaterThan(0);
    const sum = (key: 'inputTokens' | 'outputTokens') => Object.values(usage.byAgent).reduce((total, u) => total + u.usage[key], 0);
    expect(usage.total.usage.inputTokens).toBe(sum('inputTokens'));
    expect(usage.total.usage.outputTokens).toBe(sum('outputTokens'));
    // The manager re-reads the growing conversation on every call, so it spends the most.
    expect(usage.byAgent.research_manager!.usage.inputTokens).toBeGreaterThan(usage.byAgent.researcher!.usage.inputTokens);
  });
});

describe('crews/research tools', () => {
  const tools = new ToolSet(Object.values(researchTools()));
  const call = (name: string, input: unknown) => executeToolCall({ type: 'tool-call', id: 'c', name, input }, tools, { runId: 'r', clock: manualClock() });

  it('search_notes ranks notes by the query words (stemmed, title words counting more) and is deterministic', async () => {
    const notes = loadNotes();
    expect(notes.map((n) => n.id)).toContain('idempotency-keys');
    const hits = searchNotes(notes, 'retries with idempotency keys', 3);
    expect(hits[0]).toMatchObject({ id: 'idempotency-keys', title: 'Idempotency keys' });
    expect(hits[0]!.snippet).toMatch(/idempotency key/i);
    expect(searchNotes(notes, 'retries with idempotency keys', 3)).toEqual(hits);
    const result = await call('search_notes', { query: 'circuit breaker outage', limit: 1 });
    expect(JSON.parse(result.output)).toEqual([expect.objectContaining({ id: 'circuit-breakers' })]);
    expect((await call('search_notes', { query: 'the of and' })).output).toBe('No note matches "the of and". Try other keywords.');
  });

  it('read_note returns a note by id and names the known ids for an unknown one', async () => {
    expect((await call('read_note', { id: 'token-bucket' })).output).toMatch(/^# Client-side rate limiting with a token bucket\n/);
    const unknown = await call('read_note', { id: 'retry-storms' });
    expect(unknown.isError).toBe(true);
    expect(unknown.output).toMatch(/No note "retry-storms"\. Notes: backoff-and-jitter, circuit-breakers, dead-letter-queues,/);
  });
});
