import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { ToolRegistry } from '../../agent/role-loader.js';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import { ExitCode } from '../../core/errors/troupe-error.js';
import { loadCrew } from '../../crew/crew-loader.js';
import type { CrewRunOptions } from '../../crew/crew.js';
import { parseModelString } from '../../model/resolve-model.js';
import { progressPrinter } from '../progress.js';

/** `troupe run <crew>`: runs a crew by name (crews/<name>/crew.yaml) or by the path of its file. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run a crew: by name (crews/<name>/crew.yaml) or by the path of its crew file')
    .argument('<crew>', 'crew name or crew file')
    .option('--input <file>', 'JSON file holding the request: a string, or { "input": "..." }')
    .option('--request <text>', 'the request, in words')
    .option('--model <provider:model>', "use this model for every agent (e.g. anthropic:claude-sonnet-4-5, replay:cassette.json)")
    .option('--json', 'print the whole result as JSON on stdout')
    .option('--quiet', 'no progress lines on stderr')
    .action(async (crewArg: string, flags: { input?: string; request?: string; model?: string; json?: boolean; quiet?: boolean }) => {
      const file = crewFile(crewArg);
      const tools = await crewTools(file);
      const crew = loadCrew(file, { tools });
      const options: CrewRunOptions = {};
      const model = flags.model ?? offlineModel(file);
      if (model) {
        parseModelString(model, { field: '--model' });
        options.model = model;
      }
      if (!flags.quiet) options.trace = progressPrinter();
      const result = await crew.run(requestFrom(flags), options);
      if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        process.stdout.write(`${crew.name}: ${result.status} — ${result.stop.reason}\n`);
        if (result.output !== undefined) process.stdout.write(`${typeof result.output === 'string' ? result.output : JSON.stringify(result.output, null, 2)}\n`);
        const total = result.usage.total;
        process.stdout.write(`${total.turns} model calls, ${total.usage.inputTokens + total.usage.outputTokens} tokens, $${total.costUsd.toFixed(4)}, ${(result.durationMs / 1000).toFixed(1)}s\n`);
      }
      process.exitCode = result.status === 'finished' ? ExitCode.done : ExitCode.failed;
    });
}

function crewFile(crew: string): string {
  const candidates = /\.(ya?ml|json)$/.test(crew) ? [crew] : [join('crews', crew, 'crew.yaml'), join('crews', crew, 'crew.yml'), join('crews', crew, 'crew.json')];
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new ConfigurationError(`no crew "${crew}": looked for ${candidates.join(', ')}`, { field: 'crew' });
  return found;
}

/**
 * A crew's tools come from `tools.js` beside its crew file (or its compiled copy under dist/),
 * whose default export returns them: tools often need setup, like a work directory.
 */
async function crewTools(file: string): Promise<ToolRegistry> {
  const dir = dirname(resolve(file));
  const candidates = [join(dir, 'tools.js'), join(resolve('dist'), dirname(file), 'tools.js')];
  const found = candidates.find((path) => existsSync(path));
  if (!found) return {};
  const module = (await import(pathToFileURL(found).href)) as { default?: () => ToolRegistry | Promise<ToolRegistry> };
  if (typeof module.default !== 'function') throw new ConfigurationError(`${found} must export a default function that returns the crew's tools`, { file: found });
  return module.default();
}

/** Without a provider key, a crew that ships a cassette replays it, and says so. */
function offlineModel(file: string): string | undefined {
  const cassette = join(dirname(file), 'cassette.json');
  if (!existsSync(cassette) || process.env.ANTHROPIC_API_KEY || process.env.OPENAI_API_KEY) return undefined;
  process.stderr.write(`[troupe] no API key is set: replaying the recorded transcript ${cassette}.\n`);
  return `replay:${cassette}`;
}

function requestFrom(flags: { input?: string; request?: string }): string | undefined {
  if (flags.request !== undefined) return flags.request;
  if (flags.input === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(flags.input, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(`cannot read the input: ${(error as Error).message}`, { file: flags.input });
  }
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { input?: unknown }).input === 'string') return (value as { input: string }).input;
  throw new ConfigurationError('the input must be a JSON string or an object with an "input" string', { file: flags.input, field: 'input' });
}
