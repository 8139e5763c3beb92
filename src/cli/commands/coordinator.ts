import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ToolRegistry } from '../../agent/role-loader.js';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import { ExitCode } from '../../core/errors/troupe-error.js';
import { recordingRequested } from '../../model/resolve-model.js';
import { compareCoordinators, loadGoldenTriggers } from '../../coordinator/compare.js';
import { loadConfiguration } from '../../coordinator/configuration.js';
import { Handler } from '../../coordinator/handler.js';
import { loadToolsModule } from '../user-module.js';

/** `troupe coordinator compare <config> --runs N`: both coordinators over the golden triggers, side by side. */
export function registerCoordinator(program: Command): void {
  const coordinator = program.command('coordinator').description("Work with a configuration's coordinators (llm | script)");
  coordinator
    .command('compare')
    .description('Run both coordinators of a configuration over its golden triggers and report the differences')
    .argument('<config>', 'the configuration file (YAML)')
    .option('--runs <n>', 'runs per trigger and coordinator', '1')
    .option('--model <provider:model>', "the model of the llm coordinator (default: the configuration's, or its cassette.json without a key)")
    .option('--json', 'print the report as JSON')
    .action(async (file: string, flags: { runs: string; model?: string; json?: boolean }) => {
      const runs = Number(flags.runs);
      if (!Number.isInteger(runs) || runs < 1)
        throw new ConfigurationError(`--runs must be a whole number of at least 1, not "${flags.runs}"`, { field: '--runs' });
      const tools = await toolsBeside(file);
      const configuration = loadConfiguration(file, { tools: await tools() });
      if (!configuration.golden) throw new ConfigurationError('the configuration names no golden triggers (golden: file)', { file, field: 'golden' });
      if (!configuration.scriptPath)
        throw new ConfigurationError('the configuration has no coordinator_script to compare with', { file, field: 'coordinator_script' });
      const golden = loadGoldenTriggers(resolve(dirname(file), configuration.golden));
      const model = flags.model ?? offlineModel(file) ?? configuration.model;
      const report = await compareCoordinators(
        configuration.name,
        golden,
        async () => {
          const handler = new Handler({ configurations: [configuration], tools: await tools(), ...(model ? { model } : {}) });
          return { handler, hasSideEffects: (tool: string) => handler.hasSideEffects(tool) };
        },
        { runs, onProgress: comparisonProgress() },
      );
      if (process.stderr.isTTY) process.stderr.write('\n');
      if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        for (const trigger of report.triggers) {
          const expected = trigger.expected.join('; ') || 'no side effects';
          process.stdout.write(`${trigger.trigger}  expected: ${expected}\n`);
          trigger.runs.forEach((run, index) => {
            const mark = (wrong: boolean) => (wrong ? 'WRONG' : 'ok');
            process.stdout.write(
              `  run ${index + 1}: llm ${mark(run.llm.wrong)}, script ${mark(run.script.wrong)}${run.differences.length ? `; ${run.differences.join('; ')}` : '; same calls'}\n`,
            );
          });
        }
        const { total, llmWrong, scriptWrong, differing } = report.summary;
        process.stdout.write(
          `\n${report.configuration}: ${total} runs; llm wrong ${llmWrong} (${pct(llmWrong, total)}), script wrong ${scriptWrong} (${pct(scriptWrong, total)}), differing ${differing}\n`,
        );
      }
      process.exitCode = report.summary.scriptWrong === 0 ? ExitCode.done : ExitCode.failed;
    });
}

function pct(count: number, total: number): string {
  return `${total === 0 ? 0 : Math.round((100 * count) / total)}%`;
}

async function toolsBeside(file: string): Promise<() => Promise<ToolRegistry>> {
  const dir = dirname(resolve(file));
  const found = [join(dir, 'tools.js'), join(resolve('dist'), dirname(file), 'tools.js')].find((path) => existsSync(path));
  if (!found) return async () => ({});
  return loadToolsModule(found);
}

function offlineModel(file: string): string | undefined {
  const cassette = join(dirname(file), 'cassette.json');
  // TROUPE_RECORD: the cassette, key or not, so that resolveModel records it from TROUPE_RECORD_MODEL.
  if (recordingRequested(process.env)) return `replay:${cassette}`;
  if (!existsSync(cassette) || process.env.ANTHROPIC_API_KEY || process.env.OPENAI_API_KEY) return undefined;
  process.stderr.write(`[troupe] no API key is set: the llm coordinator replays ${cassette}.\n`);
  return `replay:${cassette}`;
}

/**
 * Progress of a comparison on stderr: one line redrawn in place on a terminal; elsewhere (a log, a
 * pipe) a line at each tenth of the way, since a carriage return there joins everything into one line.
 */
function comparisonProgress(): (done: number, total: number) => void {
  return (done, total) => {
    if (process.stderr.isTTY) process.stderr.write(`\r[troupe] compared ${done} of ${total}`);
    else if (done === total || done % Math.ceil(total / 10) === 0) process.stderr.write(`[troupe] compared ${done} of ${total}\n`);
  };
}
