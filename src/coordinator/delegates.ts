import { z } from 'zod';
import { Agent } from '../agent/agent.js';
import type { RunContext } from '../agent/run-context.js';
import { maxTurns, type TerminationCondition } from '../agent/termination.js';
import { AwaitingReviewError } from '../core/errors/awaiting-review-error.js';
import { formatIssues } from '../core/validation-issue.js';
import type { Crew } from '../crew/crew.js';
import type { Approver } from '../tools/approval.js';
import { defineTool, type FileAccess, type Tool } from '../tools/define-tool.js';
import { isTaskEnd, type WorkflowTask } from '../workflow/workflow-task.js';

export interface DelegateContext {
  /** The trigger's run: every delegate's run derives from it; its `effects` is the trigger's record of side-effecting calls. */
  run: RunContext & { approver: Approver };
  /** Limits for agents the coordinator creates. */
  termination: TerminationCondition;
  files?: FileAccess;
}

/** A workflow task offered to a coordinator as a tool: its input schema is the tool's, its validated output the result. */
export function taskTool(task: WorkflowTask, context: DelegateContext): Tool {
  const object = task.input instanceof z.ZodObject;
  return defineTool({
    name: `task_${task.name}`.slice(0, 64),
    description: `Runs the workflow task "${task.name}" (${task.kind}) and returns its validated output.`,
    input: object ? task.input : z.object({ input: task.input }),
    sideEffects: task.sideEffects ?? 'none',
    run: async (args: any) => {
      const input = object ? args : args.input;
      const { run } = context;
      const result = await task.execute(input, {
        ...run,
        itemId: 'coordinator',
        task: task.name,
        attempt: 1,
        idempotencyKey: `${run.effects?.scope ?? run.runId}.coordinator.${task.name}`,
        ...(run.effects ? { outbox: run.effects.outbox } : {}),
      });
      // A coordinator has no review queue: a pause stops the trigger's run, a stopped step is a failed call.
      if (isTaskEnd(result)) {
        if (result.kind === 'stopped') throw new Error(result.reason);
        const { pause } = result;
        throw pause.kind === 'input'
          ? new AwaitingReviewError(pause.question)
          : new AwaitingReviewError(`Tool "${pause.approval.tool}" needs approval before it runs.`, undefined, { approval: pause.approval });
      }
      const parsed = task.output.safeParse(result.value);
      if (!parsed.success) throw new Error(`task "${task.name}" gave an invalid output: ${formatIssues(parsed.error.issues)}`);
      return parsed.data;
    },
  });
}

/** A crew offered as a tool: it takes a request in words and returns the crew's output. */
export function crewTool(crew: Crew<any>, context: DelegateContext): Tool {
  return defineTool({
    name: `crew_${crew.name}`.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64),
    description: `Hands a request to the ${crew.process} crew "${crew.name}" and returns its output.`,
    input: z.object({ request: z.string().min(1) }),
    run: async ({ request }) => {
      const result = await crew.run(request, context.run);
      if (result.status !== 'finished') throw new Error(`crew "${crew.name}" ${result.status}: ${result.stop.reason}`);
      return result.output;
    },
  });
}

/**
 * Lets the coordinator create a task agent on the spot: a system message it writes and tools it
 * picks from the approved ones. The agent must end through its finish tool, within the limits.
 */
export function adhocAgentTool(approved: readonly Tool[], context: DelegateContext, created: Array<{ name: string; tools: string[]; status: string }>): Tool {
  const names = approved.map((tool) => tool.name);
  return defineTool({
    name: 'create_agent',
    description: `Creates a task agent with instructions you write and tools chosen from: ${names.join(', ') || 'none'}. It works on the task and returns its result.`,
    input: z.object({
      name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
      instructions: z.string().min(1).describe("The agent's system message"),
      tools: z.array(names.length ? z.enum(names as [string, ...string[]]) : z.never()).default([]),
      task: z.string().min(1),
    }),
    run: async ({ name, instructions, tools, task }) => {
      const agent = new Agent({
        name,
        instructions,
        tools: approved.filter((tool) => tools.includes(tool.name)),
        termination: context.termination,
      });
      // The run's model (the configuration's, or the handler's override) is this agent's model.
      const result = await agent.run(task, { ...context.run, files: context.files });
      created.push({ name, tools, status: result.status });
      if (result.status !== 'finished') throw new Error(`agent "${name}" stopped: ${result.stop.reason}`);
      return result.output;
    },
  });
}

export const defaultAgentTermination = maxTurns(10);
