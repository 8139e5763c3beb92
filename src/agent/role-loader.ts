import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DefinitionFile } from '../core/definition-file.js';
import { lazy } from '../core/lazy.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { DefinitionFileError, type FileIssue } from '../core/errors/definition-file-error.js';
import { checkModelString } from '../model/check-model-string.js';
import type { Tool } from '../tools/define-tool.js';
import { Agent, type AgentOptions } from './agent.js';
import { maxTurns } from './termination.js';
import { UserProxy } from './user-proxy.js';

/** Tools a definition file may name, by name. */
export type ToolRegistry = Readonly<Record<string, Tool>> | readonly Tool[];

/**
 * A role file under `agents/`. Keys are snake_case, as in configuration files (and as CrewAI users
 * write them). Unknown fields are errors, so a typo never silently does nothing.
 */
const buildRoleFileSchema = () =>
  z
    .object({
      name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'use 1 to 64 letters, digits, "_" or "-"'),
      kind: z.enum(['assistant', 'user-proxy']).default('assistant'),
      description: z.string().min(1).optional(),
      role: z.string().min(1).optional(),
      goal: z.string().min(1).optional(),
      backstory: z.string().min(1).optional(),
      instructions: z.string().min(1).optional(),
      tools: z.array(z.string()).default([]),
      model: z.string().min(1).optional(),
      allow_delegation: z.boolean().default(false),
      max_finish_attempts: z.number().int().positive().optional(),
      max_turns: z.number().int().positive().optional(),
    })
    .strict();

/** The role file schema, built on first use (see lazy). */
export const roleFileSchema = lazy(buildRoleFileSchema);

/**
 * A role file's fields as read (snake_case, as in the YAML).
 *
 * @useDeclaredType
 */
export type RoleFile = z.infer<ReturnType<typeof buildRoleFileSchema>>;

/** What a role file builds: an assistant (finishing with text) or a user proxy. */
export type LoadedRole = Agent<string> | UserProxy;

export interface LoadRoleOptions {
  /** Tools the role may name. */
  tools?: ToolRegistry;
}

/**
 * Loads one role file (YAML or JSON) into an Agent, or a UserProxy for `kind: user-proxy`. The
 * typed forms say which one is expected, checked against the file's `kind`: `{ kind: 'assistant' }`
 * gives an `Agent<string>`, `{ kind: 'user-proxy' }` a `UserProxy`, and `{ output: schema }` an
 * agent that finishes with a value of that schema.
 */
export function loadRole<Schema extends z.ZodType>(path: string, options: LoadRoleOptions & { output: Schema }): Agent<z.output<Schema>>;
export function loadRole(path: string, options: LoadRoleOptions & { kind: 'assistant' }): Agent<string>;
export function loadRole(path: string, options: LoadRoleOptions & { kind: 'user-proxy' }): UserProxy;
export function loadRole(path: string, options?: LoadRoleOptions): LoadedRole;
export function loadRole(path: string, options: LoadRoleOptions & { kind?: RoleFile['kind']; output?: z.ZodType } = {}): Agent<unknown> | UserProxy {
  const file = DefinitionFile.read(path, { what: 'role file', keyCase: 'snake_case' });
  const role = file.validate(roleFileSchema(), 'role');
  const expected = options.output ? 'assistant' : options.kind;
  if (expected && role.kind !== expected) {
    throw file.error(['kind'], `the role is of kind ${role.kind}, but was loaded as ${expected === 'assistant' ? 'an assistant' : 'a user proxy'}`);
  }
  const built = roleFromDefinition(role, file, options.tools ?? {});
  return options.output && built instanceof Agent ? built.with({ output: options.output }) : built;
}

/** Loads every `*.yaml`, `*.yml` and `*.json` file of a folder, by role name. */
export function loadRoles(dir: string, options: { tools?: ToolRegistry } = {}): Map<string, LoadedRole> {
  const roles = new Map<string, LoadedRole>();
  for (const [name, { file, role }] of readRoleFiles(dir)) roles.set(name, roleFromDefinition(role, file, options.tools ?? {}));
  return roles;
}

/**
 * Reads and validates every role file of a folder without building the agents, so a crew can
 * build only the roles it names (with its own tools) while a broken file is still reported.
 */
export function readRoleFiles(dir: string): Map<string, { file: DefinitionFile; role: RoleFile }> {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((file) => /\.(ya?ml|json)$/.test(file))
      .sort();
  } catch (error) {
    throw new ConfigurationError(`cannot read the roles folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: dir });
  }
  const roles = new Map<string, { file: DefinitionFile; role: RoleFile }>();
  // Every broken file of the folder is reported at once.
  const issues: FileIssue[] = [];
  for (const fileName of names) {
    let file: DefinitionFile;
    try {
      file = DefinitionFile.read(join(dir, fileName), { what: 'role file', keyCase: 'snake_case' });
    } catch (error) {
      if (!(error instanceof DefinitionFileError)) throw error;
      issues.push(...error.issues);
      continue;
    }
    const role = file.check(roleFileSchema(), file.data, [], issues, 'role');
    if (!role) continue;
    if (roles.has(role.value.name)) issues.push(file.issue(['name'], `a second role is named "${role.value.name}"`));
    else roles.set(role.value.name, { file, role: role.value });
  }
  if (issues.length > 0) throw new DefinitionFileError(issues);
  return roles;
}

/**
 * Builds the agent of a validated role. `at` is where the role stands in its file (`agents.0` for
 * a role inline in a crew file), so every problem names its line and its full path. All problems
 * are reported at once.
 */
export function roleFromDefinition(role: RoleFile, file: DefinitionFile, registry: ToolRegistry, at: readonly PropertyKey[] = []): LoadedRole {
  const issues: FileIssue[] = [];
  const built = buildRole(role, file, registry, at, issues);
  if (!built) throw new DefinitionFileError(issues);
  return built;
}

/** Like roleFromDefinition, but adds its problems to `issues` and returns undefined when there are any. */
export function buildRole(
  role: RoleFile,
  file: DefinitionFile,
  registry: ToolRegistry,
  at: readonly PropertyKey[],
  issues: FileIssue[],
): LoadedRole | undefined {
  const before = issues.length;
  const problem = (path: PropertyKey[], message: string) => issues.push(file.issue([...at, ...path], message));
  if (role.model) {
    try {
      checkModelString(role.model);
    } catch (error) {
      problem(['model'], (error as Error).message.replace(/^field "model": /, ''));
    }
  }
  if (role.kind === 'user-proxy') {
    if (!role.goal) problem(['goal'], 'a user-proxy role needs a goal: it is the one who knows what the user wants');
    if (role.tools.length > 0) problem(['tools'], 'a user-proxy role has no tools: it reviews and steers, the assistant does the work');
    if (issues.length > before) return undefined;
    return new UserProxy({
      name: role.name,
      goal: role.goal!,
      ...(role.instructions ? { instructions: role.instructions } : {}),
      ...(role.model ? { model: role.model } : {}),
      ...(role.max_turns ? { termination: maxTurns(role.max_turns) } : {}),
      ...(role.max_finish_attempts ? { maxFinishAttempts: role.max_finish_attempts } : {}),
    });
  }
  if (!role.instructions && !role.role) problem(['role'], 'give either instructions, or a role (with a goal and backstory)');
  const tools: Tool[] = [];
  for (const [index, toolName] of role.tools.entries()) {
    const tool = findTool(registry, toolName);
    if (tool) {
      tools.push(tool);
      continue;
    }
    const known = toolNames(registry);
    problem(['tools', index], `unknown tool "${toolName}"; registered tools: ${known.length ? known.join(', ') : 'none'}`);
  }

  if (issues.length > before) return undefined;
  const options: AgentOptions<string> = { name: role.name, tools, allowDelegation: role.allow_delegation };
  for (const key of ['description', 'role', 'goal', 'backstory', 'instructions', 'model'] as const) {
    if (role[key] !== undefined) options[key] = role[key];
  }
  if (role.max_finish_attempts) options.maxFinishAttempts = role.max_finish_attempts;
  if (role.max_turns) options.termination = maxTurns(role.max_turns);
  return new Agent(options);
}

function findTool(registry: ToolRegistry, toolName: string): Tool | undefined {
  if (Array.isArray(registry)) return (registry as readonly Tool[]).find((tool) => tool.name === toolName);
  return Object.hasOwn(registry, toolName) ? (registry as Record<string, Tool>)[toolName] : undefined;
}

function toolNames(registry: ToolRegistry): string[] {
  return Array.isArray(registry) ? (registry as readonly Tool[]).map((tool) => tool.name) : Object.keys(registry);
}
