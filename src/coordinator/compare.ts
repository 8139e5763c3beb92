import { z } from 'zod';
import { DefinitionFile } from '../core/definition-file.js';
import { stableStringify } from '../core/json.js';
import type { Handler, HandlerOutcome } from './handler.js';
import type { Trigger } from './trigger.js';

const goldenSchema = z.array(
  z
    .object({
      trigger: z
        .object({
          kind: z.enum(['manual', 'event', 'schedule', 'queue']),
          id: z.string(),
          source: z.string().optional(),
          data: z.json(),
          files: z.array(z.object({ name: z.string(), uri: z.string(), mediaType: z.string().optional() })).optional(),
        })
        .strict(),
      /** The calls with side effects (write or external) the trigger must cause, in order; read-only calls are free. */
      expect: z.object({ calls: z.array(z.object({ tool: z.string(), input: z.json() }).strict()) }).strict(),
    })
    .strict(),
);

/**
 * One recorded trigger of a golden file and the tool calls it is expected to produce.
 *
 * @useDeclaredType
 */
export type GoldenTrigger = z.infer<typeof goldenSchema>[number];

export function loadGoldenTriggers(path: string): GoldenTrigger[] {
  return DefinitionFile.read(path).validate(goldenSchema, 'golden triggers');
}

export interface CoordinatorRun {
  status: HandlerOutcome['status'];
  /** The calls with side effects, as `tool {input}`. */
  effects: string[];
  /** Every call, read-only ones included. */
  calls: string[];
  answer?: string;
  wrong: boolean;
}

export interface ComparisonReport {
  configuration: string;
  runs: number;
  triggers: Array<{ trigger: string; expected: string[]; runs: Array<{ llm: CoordinatorRun; script: CoordinatorRun; differences: string[] }> }>;
  summary: { total: number; llmWrong: number; scriptWrong: number; differing: number };
}

/**
 * Runs both coordinators of a configuration over its golden triggers, `runs` times each, and
 * reports per-run differences in tool calls and outcomes and how often each was wrong: the
 * evidence a team needs before switching a workflow to `script`. `handlerFor` must give each run a
 * fresh world (the tools' state), so runs do not see each other's effects.
 */
export async function compareCoordinators(
  configuration: string,
  golden: readonly GoldenTrigger[],
  handlerFor: () => { handler: Handler; hasSideEffects: (tool: string) => boolean } | Promise<{ handler: Handler; hasSideEffects: (tool: string) => boolean }>,
  options: { runs?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ComparisonReport> {
  const runs = options.runs ?? 1;
  const report: ComparisonReport = { configuration, runs, triggers: [], summary: { total: 0, llmWrong: 0, scriptWrong: 0, differing: 0 } };
  let done = 0;
  for (const example of golden) {
    const expected = example.expect.calls.map((call) => describe(call.tool, call.input));
    const entry: ComparisonReport['triggers'][number] = { trigger: example.trigger.id, expected, runs: [] };
    for (let run = 0; run < runs; run++) {
      const outcome = async (coordinator: 'llm' | 'script'): Promise<CoordinatorRun> => {
        const { handler, hasSideEffects } = await handlerFor();
        const result = await handler.handle(example.trigger as Trigger, { coordinator });
        const effects = result.toolCalls.filter((call) => !call.isError && hasSideEffects(call.tool)).map((call) => describe(call.tool, call.input));
        return {
          status: result.status,
          effects,
          calls: result.toolCalls.map((call) => describe(call.tool, call.input)),
          ...(result.answer !== undefined ? { answer: result.answer } : {}),
          wrong: result.status !== 'done' || stableStringify(effects) !== stableStringify(expected),
        };
      };
      const llm = await outcome('llm');
      const script = await outcome('script');
      const differences: string[] = [];
      if (llm.status !== script.status) differences.push(`status: llm ${llm.status}, script ${script.status}`);
      for (const call of llm.effects.filter((c) => !script.effects.includes(c))) differences.push(`only llm: ${call}`);
      for (const call of script.effects.filter((c) => !llm.effects.includes(c))) differences.push(`only script: ${call}`);
      // Read-only calls differ without making either wrong, but a team wants to see them too.
      const readsOnly = (a: CoordinatorRun, b: CoordinatorRun) => a.calls.filter((c) => !b.calls.includes(c) && !a.effects.includes(c));
      if (readsOnly(llm, script).length) differences.push(`llm also read: ${readsOnly(llm, script).join(', ')}`);
      if (readsOnly(script, llm).length) differences.push(`script also read: ${readsOnly(script, llm).join(', ')}`);
      entry.runs.push({ llm, script, differences });
      report.summary.total++;
      if (llm.wrong) report.summary.llmWrong++;
      if (script.wrong) report.summary.scriptWrong++;
      if (differences.length) report.summary.differing++;
      options.onProgress?.(++done, golden.length * runs);
    }
    report.triggers.push(entry);
  }
  return report;
}

function describe(tool: string, input: unknown): string {
  return `${tool} ${stableStringify(input)}`;
}
