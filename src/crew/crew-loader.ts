import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { Agent } from '../agent/agent.js';
import { buildRole, readRoleFiles, roleFileSchema, type LoadedRole, type RoleFile, type ToolRegistry } from '../agent/role-loader.js';
import { UserProxy } from '../agent/user-proxy.js';
import { DefinitionFile } from '../core/definition-file.js';
import { lazy } from '../core/lazy.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { DefinitionFileError, type FileIssue } from '../core/errors/definition-file-error.js';
import { checkModelString } from '../model/check-model-string.js';
import type { Crew } from './crew.js';
import { consensualCrew } from './consensual.js';
import { groupChatCrew, type SpeakerSelection } from './group-chat.js';
import { hierarchicalCrew } from './hierarchical.js';
import { sequentialCrew } from './sequential.js';
import { defineTask, outputSchemaOf, type Task } from './task.js';
import { twoAgentCrew } from './two-agent.js';
import { alsoMatching, checkOutputFits, type DeclaredOutput, withOutput } from './typed-output.js';

const processes = ['sequential', 'hierarchical', 'group-chat', 'consensual', 'two-agent'] as const;
type Process = (typeof processes)[number];

/**
 * The crew file schemas, built on first use (see lazy): a program that never reads a crew file
 * does not build them when it imports Troupe.
 */
function buildCrewSchemas() {
  /** An output shape in a file: words describing it, or a JSON Schema it must match. */
  const expectedOutput = z.union([z.string().min(1), z.object({ schema: z.record(z.string(), z.unknown()) }).strict()]);

  const taskSchema = z
    .object({
      name: z.string().min(1),
      description: z.string().min(1),
      expected_output: expectedOutput,
      agent: z.string().min(1),
      context: z.array(z.string()).default([]),
    })
    .strict();

  const common = {
    name: z.string().min(1),
    description: z.string().optional(),
    // Inline roles are checked against the role schema on their own, so their problems keep full paths.
    agents: z.array(z.union([z.string(), z.record(z.string(), z.unknown())])).min(1),
  };
  const tasks = z.array(taskSchema).default([]);
  const output = z
    .object({ schema: z.record(z.string(), z.unknown()) })
    .strict()
    .optional();
  const maxRounds = z.number().int().positive().optional();

  /** The fields each process takes besides the common ones: a field of another process is an error. */
  const fieldsByProcess = {
    sequential: { tasks },
    hierarchical: {
      tasks,
      output,
      manager: z.object({ name: z.string().optional(), model: z.string().optional(), instructions: z.string().optional() }).strict().optional(),
      max_delegations: z.number().int().positive().optional(),
      max_depth: z.number().int().positive().optional(),
      max_identical_repeats: z.number().int().nonnegative().optional(),
    },
    'group-chat': {
      output,
      // The manager: a model string, or the manager made for the chat (its persona), which may end the chat itself (`finishes`).
      selector: z
        .union([
          z.literal('round-robin'),
          z
            .object({
              manager: z.union([
                z.string().min(1),
                z
                  .object({
                    name: z.string().min(1).optional(),
                    model: z.string().optional(),
                    instructions: z.string().min(1).optional(),
                    finishes: z.boolean().optional(),
                  })
                  .strict(),
              ]),
            })
            .strict(),
        ])
        .optional(),
      allowed_transitions: z.record(z.string(), z.array(z.string())).optional(),
      finishers: z.array(z.string()).optional(),
      first_speaker: z.string().optional(),
      max_rounds: maxRounds,
    },
    consensual: { output, max_rounds: maxRounds, judge: z.string().optional() },
    'two-agent': { assistant: z.string().optional(), user_proxy: z.string().optional(), max_rounds: maxRounds },
  } as const;

  const crewOf = <P extends Process>(process: P) => z.object({ ...common, process: z.literal(process), ...fieldsByProcess[process] }).strict();

  /** A crew file, e.g. `crews/research/crew.yaml`, by process. Agents are named (from the agents folder) or defined inline. Keys are snake_case. */
  const crewFileSchema = z.discriminatedUnion('process', [
    crewOf('sequential'),
    crewOf('hierarchical'),
    crewOf('group-chat'),
    crewOf('consensual'),
    crewOf('two-agent'),
  ]);

  /** Checks a file whose process is missing or unknown against every field, so its other problems are still reported. */
  const anyCrewSchema = z
    .object({ ...common, process: z.enum(processes), ...Object.assign({}, ...Object.values(fieldsByProcess)) })
    .strict() as z.ZodType<unknown>;

  return { common, fieldsByProcess, crewFileSchema, anyCrewSchema };
}

const crewSchemas = lazy(buildCrewSchemas);

/**
 * Fields of another process, reported as such ("`judge` is for consensual crews") rather than as
 * unknown, and removed so the schema does not report them again.
 */
function misplacedFields(file: DefinitionFile, issues: FileIssue[]): unknown {
  const data = file.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const process = (data as { process?: unknown }).process;
  if (!processes.includes(process as Process)) return data;
  const { common, fieldsByProcess } = crewSchemas();
  const own = new Set([...Object.keys(common), 'process', ...Object.keys(fieldsByProcess[process as Process])]);
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    const owners = processes.filter((other) => Object.hasOwn(fieldsByProcess[other], key));
    if (own.has(key) || owners.length === 0) kept[key] = value;
    else issues.push(file.issue([key], `crew: field "${key}" does not apply to a ${process} crew (it is for ${owners.join(', ')} crews)`));
  }
  return kept;
}

export interface LoadCrewOptions {
  /** Tools the crew's agents may name. */
  tools?: ToolRegistry;
  /** Where named agents are found (default: `agents/` beside the `crews/` folder holding the file, else `./agents`). */
  agentsDir?: string;
  /** The output the caller expects (see the typed form of loadCrew). */
  output?: z.ZodType;
}

/**
 * Loads a crew definition (YAML or JSON). Every problem names the file, line and full field path;
 * all the problems found before the crew is built are reported at once.
 *
 * The typed form `loadCrew(path, { output: schema })` gives a `Crew<z.output<typeof schema>>`:
 * the schema is checked at load against the file's final output (the last task's expected output,
 * or the `output` schema), and the crew's output is validated against both when it runs.
 */
export function loadCrew<Schema extends z.ZodType>(path: string, options: LoadCrewOptions & { output: Schema }): Crew<z.output<Schema>>;
export function loadCrew(path: string, options?: LoadCrewOptions): Crew<unknown>;
export function loadCrew(path: string, options: LoadCrewOptions = {}): Crew<unknown> {
  const file = DefinitionFile.read(path, { what: 'crew file', keyCase: 'snake_case' });
  const issues: FileIssue[] = [];
  const problem = (field: PropertyKey[], message: string) => void issues.push(file.issue(field, message));
  const data = misplacedFields(file, issues);
  const knownProcess = processes.includes((data as { process?: Process } | null)?.process as Process);
  // Without a known process the file is still checked against every field, so its other problems are reported too.
  const { crewFileSchema, anyCrewSchema } = crewSchemas();
  const checked = knownProcess ? file.check(crewFileSchema, data, [], issues, 'crew') : void file.check(anyCrewSchema, data, [], issues, 'crew');
  const inline = new Map<number, RoleFile>();
  const agentsData = (file.data as { agents?: unknown } | null)?.agents;
  if (Array.isArray(agentsData)) {
    agentsData.forEach((entry: unknown, index) => {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return;
      const role = file.check(roleFileSchema(), entry, ['agents', index], issues, 'crew');
      if (role) inline.set(index, role.value);
    });
  }
  if (!checked || issues.length > 0) throw new DefinitionFileError(issues);
  const spec = checked.value;

  const tools = options.tools ?? {};
  let library: Map<string, { file: DefinitionFile; role: RoleFile }> | undefined;
  let libraryFailed = false;
  const roles = new Map<string, LoadedRole>();
  for (const [index, entry] of spec.agents.entries()) {
    let role: LoadedRole | undefined;
    if (typeof entry === 'string') {
      if (libraryFailed) continue;
      const dir = options.agentsDir ?? defaultAgentsDir(path);
      try {
        library ??= readRoleFiles(dir);
      } catch (error) {
        libraryFailed = true;
        if (error instanceof DefinitionFileError) {
          issues.push(...error.issues);
          continue;
        }
        if (error instanceof ConfigurationError && error.where.file === dir) {
          problem(['agents', index], `${error.message} (looking for role "${entry}")`);
          continue;
        }
        throw error;
      }
      const found = library.get(entry);
      if (!found) {
        problem(['agents', index], `no role named "${entry}" in ${dir} (found: ${[...library.keys()].join(', ') || 'none'})`);
        continue;
      }
      // Only the roles this crew names are built, with this crew's tools.
      role = buildRole(found.role, found.file, tools, [], issues);
    } else {
      role = buildRole(inline.get(index)!, file, tools, ['agents', index], issues);
    }
    if (!role) continue;
    if (roles.has(role.name)) {
      problem(['agents', index], `a second agent is named "${role.name}"`);
      continue;
    }
    roles.set(role.name, role);
  }
  // Model strings are checked now, not at the first call of a run, so their line is known.
  const checkModel = (model: string | undefined, field: PropertyKey[]) => {
    if (model === undefined) return;
    try {
      checkModelString(model);
    } catch (error) {
      problem(field, (error as Error).message.replace(/^field "model": /, ''));
    }
  };
  if (spec.process === 'hierarchical') checkModel(spec.manager?.model, ['manager', 'model']);
  if (spec.process === 'group-chat' && typeof spec.selector === 'object') {
    const manager = spec.selector.manager;
    if (typeof manager === 'string') checkModel(manager, ['selector', 'manager']);
    else checkModel(manager.model, ['selector', 'manager', 'model']);
  }

  const memberProblem = (roleName: string): string | undefined => {
    const role = roles.get(roleName);
    if (!role) return `"${roleName}" is not one of the crew's agents (${[...roles.keys()].join(', ')})`;
    if (role instanceof UserProxy) return `"${roleName}" is a user proxy; only the two-agent process uses one`;
    return undefined;
  };
  const agent = (roleName: string, field: PropertyKey[]): Agent<any> => {
    const why = memberProblem(roleName);
    if (why) throw file.error(field, why);
    return roles.get(roleName) as Agent<any>;
  };
  const schemaAt = (schema: Record<string, unknown>, field: PropertyKey[]): z.ZodType | undefined => {
    try {
      return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (error) {
      problem(field, `not a usable JSON Schema: ${(error as Error).message}`);
      return undefined;
    }
  };
  const specTasks = 'tasks' in spec ? spec.tasks : [];
  const tasks: Task[] = [];
  specTasks.forEach((task, index) => {
    // A missing agent is reported only when the roles themselves were fine: otherwise it repeats their problem.
    const why = roles.size === spec.agents.length ? memberProblem(task.agent) : undefined;
    if (why) problem(['tasks', index, 'agent'], why);
    const expected =
      typeof task.expected_output === 'string' ? task.expected_output : schemaAt(task.expected_output.schema, ['tasks', index, 'expected_output', 'schema']);
    if (expected !== undefined)
      tasks.push(defineTask({ name: task.name, description: task.description, expectedOutput: expected, agent: task.agent, context: task.context }));
  });
  const fileOutput = 'output' in spec && spec.output ? spec.output : undefined;
  let output = fileOutput ? schemaAt(fileOutput.schema, ['output', 'schema']) : undefined;
  if (issues.length > 0) throw new DefinitionFileError(issues);
  if (options.output) {
    const expected = options.output;
    checkOutputFits(file, declaredOutput(spec), expected);
    const last = tasks.at(-1);
    if (spec.process === 'sequential' && last) {
      // Words become part of the description: the refined expected output is a schema.
      const words = typeof last.expectedOutput === 'string' ? `\n\n## Expected output\n${last.expectedOutput.trim()}` : '';
      tasks[tasks.length - 1] = { ...last, description: last.description + words, expectedOutput: alsoMatching(outputSchemaOf(last), expected) };
    }
    if (spec.process !== 'sequential' && spec.process !== 'two-agent') output = alsoMatching(output ?? z.string(), expected);
  }
  const members = () => [...roles.values()].filter((role): role is Agent<any> => role instanceof Agent);
  const optional = <T extends object>(values: T) => Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as T;

  const crew = build();
  return options.output ? withOutput(crew, options.output) : crew;

  function build(): Crew<unknown> {
    try {
      switch (spec.process) {
        case 'sequential':
          return sequentialCrew<unknown>({ name: spec.name, agents: members(), tasks });
        case 'hierarchical':
          return hierarchicalCrew<unknown>(
            optional({
              name: spec.name,
              agents: members(),
              tasks,
              manager: spec.manager && optional(spec.manager),
              output,
              maxDelegations: spec.max_delegations,
              maxDepth: spec.max_depth,
              maxIdenticalRepeats: spec.max_identical_repeats,
            }) as Parameters<typeof hierarchicalCrew<unknown>>[0],
          );
        case 'group-chat':
          return groupChatCrew<unknown>(
            optional({
              name: spec.name,
              agents: members(),
              output,
              selector: spec.selector === undefined || spec.selector === 'round-robin' ? 'round-robin' : { manager: managerOf(spec.selector.manager) },
              managerFinishes: typeof spec.selector === 'object' && typeof spec.selector.manager === 'object' ? spec.selector.manager.finishes : undefined,
              allowedTransitions: spec.allowed_transitions,
              finishers: spec.finishers,
              firstSpeaker: spec.first_speaker,
              maxRounds: spec.max_rounds,
            }) as Parameters<typeof groupChatCrew<unknown>>[0],
          );
        case 'consensual':
          return consensualCrew<unknown>(
            optional({
              name: spec.name,
              // The judge is listed with the agents but decides; it does not propose.
              agents: members().filter((member) => member.name !== spec.judge),
              output,
              maxRounds: spec.max_rounds,
              judge: spec.judge === undefined ? undefined : agent(spec.judge, ['judge']),
            }) as Parameters<typeof consensualCrew<unknown>>[0],
          );
        case 'two-agent': {
          if (!spec.assistant) throw file.error(['assistant'], 'a two-agent crew names its assistant');
          if (!spec.user_proxy) throw file.error(['user_proxy'], 'a two-agent crew names its user proxy');
          const proxy = roles.get(spec.user_proxy);
          if (!(proxy instanceof UserProxy)) throw file.error(['user_proxy'], `"${spec.user_proxy}" is not a role of kind user-proxy`);
          const chat = twoAgentCrew({
            name: spec.name,
            assistant: agent(spec.assistant, ['assistant']),
            userProxy: proxy,
            ...(spec.max_rounds ? { maxRounds: spec.max_rounds } : {}),
          });
          return chat;
        }
      }
    } catch (error) {
      // Errors from the crew constructors name a field but not the file.
      if (error instanceof Error && 'where' in error && !(error as { where: { file?: string } }).where.file) {
        const field = (error as { where: { field?: string } }).where.field;
        const path: PropertyKey[] = field ? field.split('.') : [];
        // Constructors name their options (maxDepth); the file spells them in snake_case (max_depth).
        if (typeof path[0] === 'string') path[0] = path[0].replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
        // Constructors name tasks by name (tasks.<name>.context); the file knows them by position.
        if (path[0] === 'tasks' && typeof path[1] === 'string') {
          const index = specTasks.findIndex((task) => task.name === path[1]);
          if (index >= 0) path[1] = index;
        }
        throw file.error(path, error.message.replace(/^field "[^"]*": /, ''));
      }
      throw error;
    }
  }
}

type CrewFile = z.output<ReturnType<typeof buildCrewSchemas>['crewFileSchema']>;

/** The crew's final output as the file declares it. */
function declaredOutput(spec: CrewFile): DeclaredOutput {
  if (spec.process === 'sequential') {
    const index = spec.tasks.length - 1;
    const last = spec.tasks[index]?.expected_output;
    if (typeof last === 'object') return { schema: last.schema, field: ['tasks', index, 'expected_output', 'schema'], what: "the last task's expected output" };
    return { schema: { type: 'string' }, field: index < 0 ? ['tasks'] : ['tasks', index, 'expected_output'], what: "the last task's output (words: a string)" };
  }
  if (spec.process === 'two-agent') {
    // The chat's output; the assistant of a role file finishes with a string.
    const properties = { summary: { type: 'string' }, result: { type: 'string' }, rounds: { type: 'integer' } };
    return { schema: { type: 'object', properties, required: Object.keys(properties) }, field: ['process'], what: 'the output of a two-agent chat' };
  }
  if (spec.output) return { schema: spec.output.schema, field: ['output', 'schema'], what: "the crew's output schema" };
  return { schema: { type: 'string' }, field: ['process'], what: `the output of a ${spec.process} crew without an output schema (a string)` };
}

/** A group chat's manager as the file gives it: a model string as is, or the parts of the manager made for the chat. */
function managerOf(manager: string | { name?: string | undefined; model?: string | undefined; instructions?: string | undefined }): SpeakerSelectionManager {
  if (typeof manager === 'string') return manager;
  const { name, model, instructions } = manager;
  return Object.fromEntries(Object.entries({ name, model, instructions }).filter(([, value]) => value !== undefined));
}

type SpeakerSelectionManager = Extract<SpeakerSelection, { manager: unknown }>['manager'];

function defaultAgentsDir(crewFile: string): string {
  // crews/<name>/crew.yaml -> agents/ at the project root
  const crewsDir = dirname(dirname(resolve(crewFile)));
  return join(dirname(crewsDir), 'agents');
}
