import { AsyncLocalStorage } from 'node:async_hooks';
import { z } from 'zod';
import { Agent } from '../agent/agent.js';
import type { TerminationCondition } from '../agent/termination.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { HaltError } from '../core/errors/halt-error.js';
import type { ModelClient } from '../model/model-client.js';
import { defineTool, type Tool } from '../tools/define-tool.js';
import type { Crew, CrewRunOptions } from './crew.js';
import { CrewContext } from './crew-context.js';
import type { CrewResult } from './crew-result.js';
import { membersByName } from './sequential.js';
import { outputSchemaOf, render, type Task } from './task.js';

export interface HierarchicalCrewOptions<Output> {
  name: string;
  /** The members the manager delegates to. Members with `allowDelegation` may delegate further. */
  agents: readonly Agent<any>[];
  /** Tasks the manager may delegate by name (with their expected output); it may also delegate free-form work. */
  tasks?: readonly Task[];
  /** A given manager agent, or the model (and instructions) of one made for the crew. */
  manager?: Agent<any> | { name?: string; model?: string | ModelClient; instructions?: string };
  /** The crew's result, which the manager returns through its finish tool. Default: a string. */
  output?: z.ZodType<Output>;
  /** Delegations in the whole run, at every depth (default 10). */
  maxDelegations?: number;
  /** How deep delegation may nest: 1 means only the manager delegates (default 2). */
  maxDepth?: number;
  /** How often one agent may repeat the very same delegation (member, task, context) before the run stops (default 1). */
  maxIdenticalRepeats?: number;
  /** Termination of the manager's own run (default: its agent's). */
  managerTermination?: TerminationCondition;
}

interface DelegationState {
  count: number;
  identical: Map<string, number>;
  /** A bound hit deep down must end the whole crew, not just the member that hit it. */
  halted: HaltError | undefined;
}

/**
 * A manager receives the goal and delegates tasks to members through a typed delegation tool,
 * checks each result and finishes with the crew's output. The usual failure of this pattern — a
 * manager that delegates forever — is bounded three ways (total delegations, depth, identical
 * repeats); hitting a bound ends the run with a stop that names it.
 */
export function hierarchicalCrew<Output = string>(options: HierarchicalCrewOptions<Output>): Crew<Output> {
  const members = membersByName(options.name, options.agents);
  const tasks = new Map((options.tasks ?? []).map((task) => [task.name, task]));
  const maxDelegations = options.maxDelegations ?? 10;
  const maxDepth = options.maxDepth ?? 2;
  const maxRepeats = options.maxIdenticalRepeats ?? 1;
  const managerSpec = options.manager;
  const managerName = managerSpec instanceof Agent ? managerSpec.name : (managerSpec?.name ?? 'manager');
  if (members.has(managerName)) {
    throw new ConfigurationError(`The manager of crew "${options.name}" is named "${managerName}", like one of its members.`, { field: 'manager.name' });
  }
  if (maxDepth < 1) throw new ConfigurationError(`maxDepth of crew "${options.name}" must be at least 1.`, { field: 'maxDepth' });

  // Built once per crew, not per run: the manager, its delegation tools and each member's copy per
  // task. A delegation finds its run's state in the async context of that run, so concurrent runs
  // (even under one run id, as a workflow's items are) never see each other's counts.
  const runs = new AsyncLocalStorage<{ context: CrewContext; state: DelegationState }>();
  const delegationTools = new Map<string, Tool>();
  const workers = new Map<string, Agent<any>>();

  const workerFor = (member: string, defined: Task | undefined, depth: number): Agent<any> => {
    const key = `${member}|${defined?.name ?? ''}|${depth}`;
    let worker = workers.get(key);
    if (!worker) {
      const base = members.get(member)!;
      const canDelegate = base.options.allowDelegation === true && depth + 1 <= maxDepth;
      worker = base.with({
        output: defined ? outputSchemaOf(defined) : z.string().min(1),
        tools: canDelegate ? [...(base.options.tools ?? []), delegationTool(member, depth + 1)] : [...(base.options.tools ?? [])],
      });
      workers.set(key, worker);
    }
    return worker;
  };

  const delegationTool = (from: string, depth: number): Tool => {
    const key = `${from}@${depth}`;
    const existing = delegationTools.get(key);
    if (existing) return existing;
    const candidates = [...members.keys()].filter((name) => name !== from);
    const roster = candidates.map((name) => `- ${name}: ${members.get(name)!.description}`).join('\n');
    const tool = defineTool({
      name: 'delegate_task',
      description: `Hand one task to a crew member and get their result back. They see only what you write in task and context.\nMembers:\n${roster}`,
      input: z.object({
        member: z.enum(candidates as [string, ...string[]]).describe('Who does the task'),
        task: z
          .string()
          .min(1)
          .describe(tasks.size ? `A task name (${[...tasks.keys()].join(', ')}) or a full description of the work` : 'A full description of the work'),
        context: z.string().default('').describe('Everything the member needs to know: facts, earlier results, constraints'),
      }),
      run: async ({ member, task, context: given }) => {
        const current = runs.getStore();
        if (!current) throw new Error(`delegate_task of crew "${options.name}" was called outside one of its runs`);
        const { context, state } = current;
        const halt = (condition: string, reason: string, detail: Record<string, unknown>) => {
          state.halted = new HaltError(condition, reason, detail);
          context.emit({ type: 'delegation-end', crew: options.name, agent: from, member, status: 'refused', reason });
          throw state.halted;
        };
        if (state.count >= maxDelegations) {
          halt('max-delegations', `${from} tried a delegation past the limit of ${maxDelegations} for this run`, { limit: maxDelegations, from, member });
        }
        const identical = JSON.stringify([from, member, task.trim(), given.trim()]);
        const repeats = state.identical.get(identical) ?? 0;
        if (repeats > maxRepeats) {
          halt('repeated-delegation', `${from} delegated the same task to ${member} ${repeats + 1} times with the same context; a loop, so the run stops`, {
            from,
            member,
            task,
            times: repeats + 1,
            limit: maxRepeats,
          });
        }
        state.identical.set(identical, repeats + 1);
        state.count++;

        const defined = tasks.get(task.trim());
        const worker = workerFor(member, defined, depth);
        const prompt = [
          `# Task from ${from}`,
          defined ? defined.description : task,
          defined && typeof defined.expectedOutput === 'string' ? `## Expected output\n${defined.expectedOutput}` : '',
          given ? `## Context\n${given}` : '',
        ]
          .filter(Boolean)
          .join('\n\n');
        const label = defined?.name ?? task.slice(0, 80);
        context.emit({ type: 'delegation-start', crew: options.name, agent: from, member, task: label, depth });
        const outcome = await context.runMember(worker, prompt);
        context.recorder.task({ task: label, agent: member, status: outcome.status, output: outcome.output, reason: outcome.reason });
        context.emit({ type: 'delegation-end', crew: options.name, agent: from, member, status: outcome.status, reason: outcome.reason });
        if (state.halted) throw state.halted;
        if (outcome.status === 'finished') return render(outcome.output);
        // The delegator decides what to do about a member that could not deliver: retry with better instructions, ask another, or give up.
        throw new Error(`${member} did not deliver (${outcome.status}): ${outcome.reason}`);
      },
    });
    delegationTools.set(key, tool);
    return tool;
  };

  let manager: Agent<Output> | undefined;

  return {
    name: options.name,
    process: 'hierarchical',
    async run(input?: string, runOptions: CrewRunOptions = {}): Promise<CrewResult<Output>> {
      const context = new CrewContext(options.name, 'hierarchical', runOptions);
      const state: DelegationState = { count: 0, identical: new Map(), halted: undefined };
      return runs.run({ context, state }, async () => {
        manager ??= buildManager(options, managerName, [...members.values()], [...tasks.values()], delegationTool(managerName, 1));
        const goal = input ? `# Goal\n${input}` : "# Goal\nComplete the crew's tasks.";
        const outcome = await context.runMember(manager, goal, options.managerTermination ? { termination: options.managerTermination } : {});
        if (outcome.status === 'finished') {
          return context.finish({ kind: 'finish', reason: `${managerName} finished after ${state.count} delegations` }, outcome.output as Output);
        }
        return context.finish({
          kind: outcome.status,
          condition: outcome.condition,
          reason: `${managerName} ${outcome.status}: ${outcome.reason}`,
          detail: { delegations: state.count, ...outcome.detail },
        });
      });
    },
  };
}

function buildManager<Output>(options: HierarchicalCrewOptions<Output>, name: string, members: Agent<any>[], tasks: Task[], delegate: Tool): Agent<Output> {
  const output = (options.output ?? z.string()) as z.ZodType<Output>;
  const roster = members.map((member) => `- ${member.name}: ${member.description}`).join('\n');
  const taskList = tasks.length
    ? `\n\nDefined tasks (delegate them by name):\n${tasks.map((task) => `- ${task.name} (usually ${typeof task.agent === 'string' ? task.agent : task.agent.name}): ${task.description}`).join('\n')}`
    : '';
  const instructions =
    `You manage the crew "${options.name}". You do not do the work yourself: you delegate it with delegate_task, ` +
    `one clear task at a time, giving each member all the context they need. Check every result against the goal; ` +
    `when a result is wrong or incomplete, delegate a correction with specific feedback. Never repeat an identical delegation. ` +
    `When you have what the goal needs, finish with the crew's output.\n\nMembers:\n${roster}${taskList}`;
  const spec = options.manager;
  if (spec instanceof Agent) {
    return spec.with<Output>({ name, output, tools: [...(spec.options.tools ?? []), delegate] });
  }
  const agent: ConstructorParameters<typeof Agent<Output>>[0] = {
    name,
    description: 'Manages the crew: delegates tasks and checks results.',
    instructions: spec?.instructions ? `${spec.instructions}\n\n${instructions}` : instructions,
    tools: [delegate],
    output,
  };
  if (spec?.model !== undefined) agent.model = spec.model;
  return new Agent<Output>(agent);
}
