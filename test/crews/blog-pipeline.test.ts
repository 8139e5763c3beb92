// The sequential crew example through the built CLI (`npm run build` first), as a user runs it.
import { describe, expect, it } from 'vitest';
import type { Message } from 'troupe';
import { countWords } from '../../crews/blog-pipeline/tools.js';
import { exampleCli } from '../support/example-cli.js';

const troupe = exampleCli('blog-pipeline');

interface Result {
  status: string;
  process: string;
  stop: { reason: string };
  output: { title: string; markdown: string; word_count: number; changes: string[] };
  tasks: Array<{ task: string; agent: string; status: string; output: unknown }>;
  transcripts: Record<string, Message[]>;
}

const prompts = (transcript: Message[]) => transcript.filter((m) => m.role === 'user').map((m) => m.content as string);

describe('crews/blog-pipeline', { timeout: 300_000 }, () => {
  it('runs offline: outline, draft and edit in order, each task given the outputs it names', async () => {
    const result = await troupe('run', 'blog-pipeline', '--json');

    expect(result.stderr).toMatch(/no API key is set: replaying the recorded transcript crews\/blog-pipeline\/cassette.json/);
    expect(result.stderr).toMatch(/blog-pipeline: outline → planner[\s\S]*blog-pipeline: draft → writer[\s\S]*blog-pipeline: edit → editor/);
    expect(result.status).toBe(0);
    const run = JSON.parse(result.stdout) as Result;
    expect(run).toMatchObject({ status: 'finished', process: 'sequential', stop: { reason: 'all 3 tasks finished' } });
    expect(run.tasks.map((t) => [t.task, t.agent, t.status])).toEqual([
      ['outline', 'planner', 'finished'],
      ['draft', 'writer', 'finished'],
      ['edit', 'editor', 'finished'],
    ]);

    // Context: the writer saw the outline only, the editor the outline and the draft.
    const [writerPrompt] = prompts(run.transcripts.writer!);
    expect(writerPrompt).toMatch(
      /^# Task: draft\n[\s\S]*## Context from earlier tasks\n### outline\n\{\n {2}"title": "Why payment APIs need idempotency keys"/,
    );
    expect(writerPrompt).not.toMatch(/### draft/);
    const [editorPrompt] = prompts(run.transcripts.editor!);
    expect(editorPrompt).toMatch(/## Context from earlier tasks\n### outline\n[\s\S]*\n### draft\n/);

    // The editor measured the long draft, cut it, measured again, and reports the tool's count.
    const counts = run.transcripts.editor!.flatMap((m) =>
      m.role === 'tool' ? m.content.filter((r) => r.name === 'count_words').map((r) => JSON.parse(r.output).words as number) : [],
    );
    expect(counts).toHaveLength(2);
    expect(counts[0]).toBeGreaterThan(200);
    expect(run.output.word_count).toBe(counts[1]);
    expect(run.output.word_count).toBe(countWords(run.output.markdown));
    expect(run.output.word_count).toBeLessThanOrEqual(200);
    expect(run.output.markdown).toMatch(/^# Why payment APIs need idempotency keys\n/);
    expect(run.output.markdown).toMatch(/Generate the key once per operation, before the first attempt/);
    expect(run.output.changes.length).toBeGreaterThan(0);
  });

  it('runs by the path of its crew file too, printing the edited post and the usage without --json', async () => {
    const result = await troupe('run', 'crews/blog-pipeline/crew.yaml', '--quiet');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^blog-pipeline: finished — all 3 tasks finished\n/);
    expect(result.stdout).toMatch(/"word_count": \d+/);
    expect(result.stdout).toMatch(/5 model calls, \d+ tokens/);
  });
});
