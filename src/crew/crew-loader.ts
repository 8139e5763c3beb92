import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { Agent } from '../agent/agent.js';
import { buildRole, readRoleFiles, roleFileSchema, type LoadedRole, type RoleFile, type ToolRegistry } from '../agent/role-loader.js';
import { UserProxy } from '../agent/user-proxy.js';
import { DefinitionFile } from '../core/definition-file.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { DefinitionFileError, type FileIssue } from '../core/errors/definition-file-error.js';
import { checkModelString } from '../model/check-model-string.js';
import type { Crew } from './crew.js';
import { consensualCrew } from './consensual.js';
import { groupChat } from './group-chat.js';
import { hierarchicalCrew } from './hierarchical.js';
import { sequentialCrew } from './sequential.js';
import { defineTask, type Task } from './task.js';
import { twoAgentChat } from './two-agent.js';

/** An output shape in a file: words describing it, or a JSON Schema it must match. */
const expectedOutput = z.union([z.string().min(1), z.object({ schema: z.record(z.string(), z.unknown()) }).strict()]);

const taskSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().min(1),
    expectedOutput,
    agent: z.string().min(1),
    context: z.array(z.string()).default([]),
  })
  .strict();

/** A crew file, e.g. `crews/research/crew.yaml`. Agents are named (from the agents folder) or defined inline. */
const crewFileSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    process: z.enum(['sequential', 'hierarchical', 'group-chat', 'consensual', 'two-agent']),
    // Inline roles are checked against the role schema on their own, so their problems keep full paths.
    agents: z.array(z.union([z.string(), z.record(z.string(), z.unknown())])).min(1),
    tasks: z.array(taskSchema).default([]),
    output: z
      .object({ schema: z.record(z.string(), z.unknown()) })
      .strict()
      .optional(),
    // hierarchical
    manager: z.object({ name: z.string().optional(), model: z.string().optional(), instructions: z.string().optional() }).strict().optional(),
    maxDelegations: z.number().int().positive().optional(),
    maxDepth: z.number().int().positive().optional(),
    maxIdenticalRepeats: z.number().int().nonnegative().optional(),
    // group-chat
    selector: z.union([z.literal('round-robin'), z.object({ manager: z.string().min(1) }).strict()]).optional(),
    allowedTransitions: z.record(z.string(), z.array(z.string())).optional(),
    finishers: z.array(z.string()).optional(),
    firstSpeaker: z.string().optional(),
    maxRounds: z.number().int().positive().optional(),
    // consensual
    judge: z.string().optional(),
    // two-agent
    assistant: z.string().optional(),
    userProxy: z.string().optional(),
  })
  .strict();

export interface LoadCrewOptions {
  /** Tools the crew's agents may name. */
  tools?: ToolRegistry;
  /** Where named agents are found (default: `agents/` beside the `crews/` folder holding the file, else `./agents`). */
  agentsDir?: string;
}

/**
 * Loads a crew definition (YAML or JSON). Every problem names the file, line and full field path;
 * all the problems found before the crew is built are reported at once.
 */
export function loadCrew<Output = unknown>(path: string, options: LoadCrewOptions = {}): Crew<Output> {
  const file = DefinitionFile.read(path, { what: 'crew file' });
  const issues: FileIssue[] = [];
  const problem = (field: PropertyKey[], message: string) => void issues.push(file.issue(field, message));
  const checked = file.check(crewFileSchema, file.data, [], issues, 'crew');
  const inline = new Map<number, RoleFile>();
  const agentsData = (file.data as { agents?: unknown } | null)?.agents;
  if (Array.isArray(agentsData)) {
    agentsData.forEach((entry: unknown, index) => {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return;
      const role = file.check(roleFileSchema, entry, ['agents', index], issues, 'crew');
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
  checkModel(spec.manager?.model, ['manager', 'model']);
  if (typeof spec.selector === 'object') checkModel(spec.selector.manager, ['selector', 'manager']);

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
  const tasks: Task[] = [];
  spec.tasks.forEach((task, index) => {
    // A missing agent is reported only when the roles themselves were fine: otherwise it repeats their problem.
    const why = roles.size === spec.agents.length ? memberProblem(task.agent) : undefined;
    if (why) problem(['tasks', index, 'agent'], why);
    const expected =
      typeof task.expectedOutput === 'string' ? task.expectedOutput : schemaAt(task.expectedOutput.schema, ['tasks', index, 'expectedOutput', 'schema']);
    if (expected !== undefined)
      tasks.push(defineTask({ name: task.name, description: task.description, expectedOutput: expected, agent: task.agent, context: task.context }));
  });
  const output = spec.output ? schemaAt(spec.output.schema, ['output', 'schema']) : undefined;
  if (issues.length > 0) throw new DefinitionFileError(issues);
  const members = () => [...roles.values()].filter((role): role is Agent<any> => role instanceof Agent);
  const optional = <T extends object>(values: T) => Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as T;

  try {
    switch (spec.process) {
      case 'sequential':
        return sequentialCrew({ name: spec.name, agents: members(), tasks }) as Crew<Output>;
      case 'hierarchical':
        return hierarchicalCrew<Output>(
          optional({
            name: spec.name,
            agents: members(),
            tasks,
            manager: spec.manager && optional(spec.manager),
            output: output as z.ZodType<Output> | undefined,
            maxDelegations: spec.maxDelegations,
            maxDepth: spec.maxDepth,
            maxIdenticalRepeats: spec.maxIdenticalRepeats,
          }) as Parameters<typeof hierarchicalCrew<Output>>[0],
        );
      case 'group-chat':
        return groupChat<Output>(
          optional({
            name: spec.name,
            agents: members(),
            output: output as z.ZodType<Output> | undefined,
            selector: spec.selector === undefined || spec.selector === 'round-robin' ? 'round-robin' : { manager: spec.selector.manager },
            allowedTransitions: spec.allowedTransitions,
            finishers: spec.finishers,
            firstSpeaker: spec.firstSpeaker,
            maxRounds: spec.maxRounds,
          }) as Parameters<typeof groupChat<Output>>[0],
        );
      case 'consensual':
        return consensualCrew<Output>(
          optional({
            name: spec.name,
            // The judge is listed with the agents but decides; it does not propose.
            agents: members().filter((member) => member.name !== spec.judge),
            output: output as z.ZodType<Output> | undefined,
            maxRounds: spec.maxRounds,
            judge: spec.judge === undefined ? undefined : agent(spec.judge, ['judge']),
          }) as Parameters<typeof consensualCrew<Output>>[0],
        );
      case 'two-agent': {
        if (!spec.assistant) throw file.error(['assistant'], 'a two-agent crew names its assistant');
        if (!spec.userProxy) throw file.error(['userProxy'], 'a two-agent crew names its user proxy');
        const proxy = roles.get(spec.userProxy);
        if (!(proxy instanceof UserProxy)) throw file.error(['userProxy'], `"${spec.userProxy}" is not a role of kind user-proxy`);
        return twoAgentChat({
          name: spec.name,
          assistant: agent(spec.assistant, ['assistant']),
          userProxy: proxy,
          ...(spec.maxRounds ? { maxRounds: spec.maxRounds } : {}),
        }) as unknown as Crew<Output>;
      }
    }
  } catch (error) {
    // Errors from the crew constructors name a field but not the file.
    if (error instanceof Error && 'where' in error && !(error as { where: { file?: string } }).where.file) {
      const field = (error as { where: { field?: string } }).where.field;
      const path: PropertyKey[] = field ? field.split('.') : [];
      // Constructors name tasks by name (tasks.<name>.context); the file knows them by position.
      if (path[0] === 'tasks' && typeof path[1] === 'string') {
        const index = spec.tasks.findIndex((task) => task.name === path[1]);
        if (index >= 0) path[1] = index;
      }
      throw file.error(path, error.message.replace(/^field "[^"]*": /, ''));
    }
    throw error;
  }
}

function defaultAgentsDir(crewFile: string): string {
  // crews/<name>/crew.yaml -> agents/ at the project root
  const crewsDir = dirname(dirname(resolve(crewFile)));
  return join(dirname(crewsDir), 'agents');
}
