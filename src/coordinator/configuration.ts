import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { ToolRegistry } from '../agent/role-loader.js';
import { DefinitionFile } from '../core/definition-file.js';
import { lazy } from '../core/lazy.js';
import { DefinitionFileError } from '../core/errors/definition-file-error.js';
import { checkModelString } from '../model/check-model-string.js';
import { fieldOf, type Trigger } from './trigger.js';

const buildCondition = () =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z
      .object({
        equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
        matches: z.string().optional(),
        exists: z.boolean().optional(),
        in: z.array(z.union([z.string(), z.number()])).optional(),
      })
      .strict(),
  ]);

/**
 * A configuration: which triggers it handles, its prompt, the tools it approves, its limits, its
 * model, what happens to the final answer, and which coordinator runs it. Keys are snake_case as
 * they appear in YAML files; unknown keys are errors.
 */
function buildConfigurationSchema() {
  const condition = buildCondition();
  return z
    .object({
      name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'use 1 to 64 letters, digits, "_" or "-"'),
      description: z.string().optional(),
      trigger: z
        .object({
          kind: z.enum(['manual', 'event', 'schedule', 'queue']).optional(),
          source: z.string().optional(),
          /** Dotted paths of the trigger (`data.type`) and what they must be. */
          match: z.record(z.string(), condition).default({}),
          /** How often a `schedule` trigger fires when served (`troupe serve`): milliseconds, or `30s`, `5m`, `1h`. */
          every: z.union([z.number().int().positive(), z.string()]).optional(),
        })
        .strict(),
      prompt: z.string().min(1),
      /** The approved tools, by name; nothing else is reachable, by the model or by a script. */
      tools: z.array(z.string()).default([]),
      /** Workflow tasks and crews offered to an llm coordinator as tools, ad-hoc agents, and a worklist. */
      delegates: z
        .object({
          tasks: z.array(z.string()).default([]),
          crews: z.array(z.string()).default([]),
          adhoc_agents: z.boolean().default(false),
          worklist: z.boolean().default(false),
        })
        .strict()
        .optional(),
      limits: z
        .object({
          max_tool_calls: z.number().int().positive().default(20),
          max_turns: z.number().int().positive().default(20),
          token_budget: z.number().int().positive().optional(),
          cost_budget: z.number().positive().optional(),
          timeout_ms: z.number().int().positive().optional(),
        })
        .strict()
        .default({ max_tool_calls: 20, max_turns: 20 }),
      model: z.string().optional(),
      /** `used`: returned to the caller; `post`: posted back where the trigger came from; `discard`: only the tool calls matter. */
      final_answer: z.enum(['used', 'post', 'discard']).default('used'),
      coordinator: z.enum(['llm', 'script']).default('llm'),
      coordinator_script: z.string().optional(),
      /** Golden triggers and their expectations, for `troupe coordinator compare`. */
      golden: z.string().optional(),
    })
    .strict();
}

/** Built on first use (see lazy): a program that defines no configuration does not build it. */
export const configurationSchema = lazy(buildConfigurationSchema);

/**
 * A configuration file's fields as read, before its tools and paths are checked (see `Configuration`).
 *
 * @useDeclaredType
 */
export type ConfigurationSpec = z.infer<ReturnType<typeof buildConfigurationSchema>>;

export interface Configuration extends ConfigurationSpec {
  /** The file it came from, when it came from one; relative paths in it are resolved against its folder. */
  file?: string;
  /** The coordinator script's absolute path. */
  scriptPath?: string;
}

/** Defines a configuration in TypeScript, checked like a file; every problem is reported at once. */
export function defineConfiguration(
  spec: z.input<ReturnType<typeof buildConfigurationSchema>>,
  options: { tools?: ToolRegistry; dir?: string } = {},
): Configuration {
  const parsed = configurationSchema().safeParse(spec);
  const where = (path: readonly PropertyKey[]) => (path.length ? { field: path.map(String).join('.') } : {});
  if (!parsed.success)
    throw new DefinitionFileError(parsed.error.issues.map((issue) => ({ ...where(issue.path), message: `configuration: ${issue.message}` })));
  const problems: Problem[] = [];
  const configuration = check(parsed.data, options.tools, options.dir ?? process.cwd(), problems);
  if (problems.length > 0) throw new DefinitionFileError(problems.map(({ path, message }) => ({ ...where(path), message })));
  return configuration;
}

/** Loads a configuration file (YAML or JSON); every problem names the file, line and field, all at once. */
export function loadConfiguration(path: string, options: { tools?: ToolRegistry } = {}): Configuration {
  const file = DefinitionFile.read(path, { what: 'configuration file', keyCase: 'snake_case' });
  const spec = file.validate(configurationSchema(), 'configuration');
  const problems: Problem[] = [];
  const configuration = check(spec, options.tools, dirname(resolve(path)), problems);
  if (problems.length > 0) throw new DefinitionFileError(problems.map(({ path: at, message }) => file.issue(at, message)));
  return { ...configuration, file: path };
}

interface Problem {
  path: PropertyKey[];
  message: string;
}

function check(spec: ConfigurationSpec, tools: ToolRegistry | undefined, dir: string, problems: Problem[]): Configuration {
  const configuration: Configuration = { ...spec };
  const error = (path: PropertyKey[], message: string) => void problems.push({ path, message });
  if (spec.model) {
    try {
      checkModelString(spec.model);
    } catch (problem) {
      error(['model'], (problem as Error).message.replace(/^field "model": /, ''));
    }
  }
  if (tools) {
    const known = Array.isArray(tools) ? tools.map((tool) => tool.name) : Object.keys(tools);
    spec.tools.forEach((name, index) => {
      if (!known.includes(name)) error(['tools', index], `tool "${name}" is not registered (registered: ${known.join(', ') || 'none'})`);
    });
  }
  if (spec.coordinator === 'script' && !spec.coordinator_script)
    error(['coordinator_script'], 'coordinator: script needs coordinator_script: the path of the script');
  if (spec.coordinator_script) {
    const path = resolve(dir, spec.coordinator_script);
    const candidates = [path, path.replace(/\.ts$/, '.js'), path.replace(/\.js$/, '.ts')];
    const found = candidates.find((candidate) => existsSync(candidate));
    if (!found) error(['coordinator_script'], `the coordinator script ${spec.coordinator_script} does not exist (looked for ${candidates.join(', ')})`);
    else configuration.scriptPath = found;
  }
  if (spec.trigger.every !== undefined) {
    if (spec.trigger.kind !== 'schedule') error(['trigger', 'every'], 'every: is for schedule triggers (kind: schedule)');
    else if (scheduleEveryMs(spec.trigger.every) === undefined)
      error(['trigger', 'every'], `"${spec.trigger.every}" is not an interval: write milliseconds, or a number with ms, s, m or h (30s, 5m, 1h)`);
  }
  for (const pattern of Object.entries(spec.trigger.match)) {
    const value = pattern[1];
    if (typeof value === 'object' && value.matches !== undefined) {
      try {
        new RegExp(value.matches);
      } catch {
        error(['trigger', 'match', pattern[0], 'matches'], `"${value.matches}" is not a valid regular expression`);
      }
    }
  }
  return configuration;
}

const intervalUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A schedule's `every` in milliseconds (a number is already milliseconds); undefined when it is not an interval. */
export function scheduleEveryMs(every: number | string): number | undefined {
  if (typeof every === 'number') return every;
  const parts = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(every.trim());
  if (!parts) return undefined;
  const ms = Math.round(Number(parts[1]) * intervalUnits[parts[2]!]!);
  return ms >= 1 ? ms : undefined;
}

/** Whether a configuration handles a trigger, and if not, the first condition that failed (for the record). */
export function matchTrigger(configuration: Configuration, trigger: Trigger): { matches: true } | { matches: false; why: string } {
  const want = configuration.trigger;
  if (want.kind && want.kind !== trigger.kind) return { matches: false, why: `kind is ${trigger.kind}, not ${want.kind}` };
  if (want.source && want.source !== trigger.source) return { matches: false, why: `source is ${trigger.source ?? 'none'}, not ${want.source}` };
  for (const [path, expected] of Object.entries(want.match)) {
    const actual = fieldOf(trigger, path);
    if (typeof expected !== 'object') {
      if (actual !== expected) return { matches: false, why: `${path} is ${JSON.stringify(actual)}, not ${JSON.stringify(expected)}` };
      continue;
    }
    if (expected.exists !== undefined && (actual !== undefined) !== expected.exists)
      return { matches: false, why: `${path} ${expected.exists ? 'is missing' : 'is present'}` };
    if (expected.equals !== undefined && actual !== expected.equals)
      return { matches: false, why: `${path} is ${JSON.stringify(actual)}, not ${JSON.stringify(expected.equals)}` };
    if (expected.in && !expected.in.includes(actual as string | number))
      return { matches: false, why: `${path} is ${JSON.stringify(actual)}, not one of ${JSON.stringify(expected.in)}` };
    if (expected.matches !== undefined && !(typeof actual === 'string' && new RegExp(expected.matches).test(actual)))
      return { matches: false, why: `${path} does not match /${expected.matches}/` };
  }
  return { matches: true };
}
