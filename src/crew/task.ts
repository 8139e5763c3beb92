import { z } from 'zod';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { Agent } from '../agent/agent.js';

/**
 * A unit of work for one agent. `expectedOutput` is a zod schema (the agent's finish tool
 * validates against it) or a text describing the shape (the result is then a string checked to
 * be non-empty); either way nothing downstream sees an output that was not validated.
 */
export interface Task<Output = unknown> {
  name: string;
  description: string;
  expectedOutput: z.ZodType<Output> | string;
  /** The member that does it, by name (or the agent itself). */
  agent: string | Agent<any>;
  /** Names of earlier tasks whose outputs this task receives as context. */
  context?: readonly string[];
}

/** A checked task; its output type follows from `expectedOutput` (a string when the shape is described in words). */
export function defineTask<Output = string>(task: Task<Output>): Task<Output> {
  if (!task.name?.trim()) throw new ConfigurationError('A task needs a name.', { field: 'tasks[].name' });
  if (!task.description?.trim()) throw new ConfigurationError(`Task "${task.name}" needs a description.`, { field: `tasks.${task.name}.description` });
  return task;
}

export function agentNameOf(task: Task): string {
  return typeof task.agent === 'string' ? task.agent : task.agent.name;
}

/** The schema a task's result is validated against. */
export function outputSchemaOf(task: Task): z.ZodType {
  return typeof task.expectedOutput === 'string' ? z.string().min(1, 'the result must not be empty') : task.expectedOutput;
}

/** What an agent is asked to do for a task: the description, the expected shape, and the outputs it was given as context. */
export function taskPrompt(task: Task, context: ReadonlyMap<string, unknown>, extra?: string): string {
  const parts = [`# Task: ${task.name}`, task.description.trim()];
  if (typeof task.expectedOutput === 'string') parts.push(`## Expected output\n${task.expectedOutput.trim()}`);
  const given = (task.context ?? []).filter((name) => context.has(name));
  if (given.length > 0) {
    parts.push(`## Context from earlier tasks\n${given.map((name) => `### ${name}\n${render(context.get(name))}`).join('\n\n')}`);
  }
  if (extra) parts.push(extra);
  return parts.join('\n\n');
}

export function render(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** Checks a task list: unique names, context naming only earlier tasks, members that exist. */
export function checkTasks(crew: string, tasks: readonly Task[], members: ReadonlySet<string>, where = 'tasks'): void {
  const seen = new Set<string>();
  for (const task of tasks) {
    if (seen.has(task.name)) throw new ConfigurationError(`Crew "${crew}" has two tasks named "${task.name}".`, { field: `${where}.${task.name}` });
    const agent = agentNameOf(task);
    if (!members.has(agent)) {
      throw new ConfigurationError(`Task "${task.name}" names agent "${agent}", who is not a member of crew "${crew}" (members: ${[...members].join(', ')}).`, {
        field: `${where}.${task.name}.agent`,
      });
    }
    for (const name of task.context ?? []) {
      if (!seen.has(name)) {
        throw new ConfigurationError(`Task "${task.name}" takes context from "${name}", which is not an earlier task of crew "${crew}".`, {
          field: `${where}.${task.name}.context`,
        });
      }
    }
    seen.add(task.name);
  }
}
