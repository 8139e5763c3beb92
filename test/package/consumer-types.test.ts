import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * A consumer project compiled with `strict`, importing 'troupe' as a user does: through the
 * package's `exports` to the built declarations in dist/ (built by test/support/build-once.ts).
 * It proves the types a user sees, not the ones the repository's own tsconfig paths give.
 */
const repo = resolve('.');
const tsc = join(repo, 'node_modules/typescript/bin/tsc');

function consumerProject(source: string): string {
  const root = mkdtempSync(join(tmpdir(), 'troupe-consumer-'));
  mkdirSync(join(root, 'node_modules'));
  symlinkSync(repo, join(root, 'node_modules', 'troupe'), 'dir');
  symlinkSync(join(repo, 'node_modules', 'zod'), join(root, 'node_modules', 'zod'), 'dir');
  symlinkSync(join(repo, 'node_modules', '@types'), join(root, 'node_modules', '@types'), 'dir');
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(
    join(root, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] },
      files: ['consumer.ts'],
    }),
  );
  writeFileSync(join(root, 'consumer.ts'), source);
  return root;
}

async function compile(root: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', join(root, 'tsconfig.json')], { cwd: root });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

const crews = `import { Agent, defineTask, groupChatCrew, hierarchicalCrew, loadCrew, sequentialCrew, type CrewResult, type RunSummary } from 'troupe';
import { z } from 'zod';

const summary = z.object({ title: z.string(), words: z.number() });
const writer = new Agent({ name: 'writer', instructions: 'You write.' });

// The output type follows from the last task's expected output.
export const pipeline = sequentialCrew({
  name: 'brief',
  agents: [writer],
  tasks: [
    defineTask({ name: 'notes', description: 'Take notes.', expectedOutput: 'Notes, in words.', agent: 'writer' }),
    defineTask({ name: 'summary', description: 'Summarize.', expectedOutput: summary, agent: 'writer', context: ['notes'] }),
  ],
});

export async function title(): Promise<string> {
  const result = await pipeline.run('Queues');
  // @ts-expect-error before narrowing on status the output may be undefined
  result.output.title;
  if (result.status === 'finished') {
    const words: number = result.output.words;
    // @ts-expect-error the title is a string
    const wrong: number = result.output.title;
    return result.output.title + words + wrong;
  }
  const none: undefined = result.output;
  return result.stop.reason + String(none);
}

// The output type follows from the finish schema.
export const desk = hierarchicalCrew({ name: 'desk', agents: [writer], output: summary });
export const chat = groupChatCrew({ name: 'chat', agents: [writer, new Agent({ name: 'critic', instructions: 'You critique.' })] });

export async function typed(): Promise<void> {
  const fromDesk: CrewResult<{ title: string; words: number }> = await desk.run('Queues');
  const fromChat = await chat.run('Queues');
  if (fromChat.status === 'finished') {
    const text: string = fromChat.output;
    // @ts-expect-error a chat without an output schema ends with a string
    const count: number = fromChat.output;
    void [text, count];
  }
  const loaded = loadCrew('crews/brief/crew.yaml', { output: summary });
  const result = await loaded.run();
  if (result.status === 'finished') {
    const words: number = result.output.words;
    void words;
  }
  // @ts-expect-error the typed form's result is not a string crew's
  const asText: CrewResult<string> = result;
  void [fromDesk, asText];
}

// A workflow run's summary narrows on status too.
export function whyFailed(run: RunSummary): string[] {
  // @ts-expect-error only a failed run has failures
  void run.failures;
  if (run.status === 'failed') return run.failures.map((failure) => failure.id + ': ' + failure.reason);
  if (run.status === 'awaiting-review') return run.reviews;
  return [];
}
`;

describe('a consumer project compiled with --strict', () => {
  it("infers a crew's output type from its last task or finish schema, narrowed on status", { timeout: 180_000 }, async () => {
    const { code, output } = await compile(consumerProject(crews));
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('fails on a wrong use of the output, naming it', { timeout: 180_000 }, async () => {
    const wrong = `${crews}
export async function misuse(): Promise<number> {
  const result = await pipeline.run('Queues');
  if (result.status !== 'finished') return 0;
  return result.output.title;
}
`;
    const { code, output } = await compile(consumerProject(wrong));
    expect(code).not.toBe(0);
    expect(output).toMatch(/consumer\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'\./);
    expect(output.trim().split('\n')).toHaveLength(1); // that error only
  });
});
