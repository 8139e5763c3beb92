import type { Agent } from '../agent/agent.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { Crew, CrewRunOptions } from './crew.js';
import { CrewContext } from './crew-context.js';
import type { CrewResult } from './crew-result.js';
import { agentNameOf, checkTasks, outputSchemaOf, taskPrompt, type Task } from './task.js';

export interface SequentialCrewOptions<Output = unknown> {
  name: string;
  agents: readonly Agent<any>[];
  /**
   * Run in order; the crew's output is the last task's output, so the crew's output type is the
   * last task's (a task described in words gives a string).
   */
  tasks: readonly [...Task<any>[], Task<Output>] | readonly Task<Output>[];
}

/**
 * A pipeline: tasks run in order, each given the outputs of the tasks it names as context. A task
 * whose agent stops or returns an invalid result ends the crew there, with the earlier outputs kept.
 */
export function sequentialCrew<Output = string>(
  options: Omit<SequentialCrewOptions<Output>, 'tasks'> & { tasks: readonly [...Task<any>[], Task<Output>] },
): Crew<Output>;
/** Tasks built as a list (e.g. by `map`): the output type is their common one. */
export function sequentialCrew<Output = string>(options: Omit<SequentialCrewOptions<Output>, 'tasks'> & { tasks: readonly Task<Output>[] }): Crew<Output>;
export function sequentialCrew<Output>(options: SequentialCrewOptions<Output>): Crew<Output> {
  const members = membersByName(options.name, options.agents);
  if (options.tasks.length === 0) throw new ConfigurationError(`Crew "${options.name}" has no tasks.`, { field: 'tasks' });
  checkTasks(options.name, options.tasks, new Set(members.keys()));
  // Each task's agent (its member, finishing with the task's schema) is made once, not per run.
  const workers = options.tasks.map((task) => members.get(agentNameOf(task))!.with({ output: outputSchemaOf(task) }));

  return {
    name: options.name,
    process: 'sequential',
    async run(input?: string, runOptions: CrewRunOptions = {}): Promise<CrewResult<Output>> {
      const context = new CrewContext(options.name, 'sequential', runOptions);
      const outputs = new Map<string, unknown>();
      let last: unknown;
      for (const [index, task] of options.tasks.entries()) {
        const agentName = agentNameOf(task);
        const agent = workers[index]!;
        const started = context.clock.now();
        context.emit({ type: 'task-start', crew: options.name, task: task.name, agent: agentName });
        const request = index === 0 && input ? `## Request\n${input}` : undefined;
        const outcome = await context.runMember(agent, taskPrompt(task, outputs, request));
        const durationMs = context.clock.now() - started;
        context.recorder.task({ task: task.name, agent: agentName, status: outcome.status, output: outcome.output, reason: outcome.reason });
        context.emit({ type: 'task-end', crew: options.name, task: task.name, agent: agentName, status: outcome.status, durationMs, reason: outcome.reason });
        if (outcome.status !== 'finished') {
          return context.finish({
            kind: outcome.status,
            condition: outcome.condition,
            reason: `task "${task.name}" (${agentName}) ${outcome.status}: ${outcome.reason}`,
            detail: { task: task.name, ...outcome.detail },
          });
        }
        outputs.set(task.name, outcome.output);
        last = outcome.output;
      }
      return context.finish({ kind: 'finish', reason: `all ${options.tasks.length} tasks finished` }, last as Output);
    },
  };
}

/** Members by name; two with one name is a configuration error. */
export function membersByName(crew: string, agents: readonly Agent<any>[]): Map<string, Agent<any>> {
  const members = new Map<string, Agent<any>>();
  for (const agent of agents) {
    if (members.has(agent.name)) throw new ConfigurationError(`Crew "${crew}" has two agents named "${agent.name}".`, { field: 'agents' });
    members.set(agent.name, agent);
  }
  if (members.size === 0) throw new ConfigurationError(`Crew "${crew}" has no agents.`, { field: 'agents' });
  return members;
}
