import type { Agent } from '../../agent/agent.js';
import { deriveRunContext } from '../../agent/run-context.js';
import type { Crew } from '../../crew/crew.js';
import { EffectScope } from '../../tools/outbox.js';
import { claim } from '../claim.js';
import type { TaskBase, TaskContext, TaskEnd, WorkflowTask } from '../workflow-task.js';
import { retryNote } from './model-step.js';

/** A step done by an agent: its finish tool is validated against the task's output schema. */
export function agentTask<Input, Output>(
  options: TaskBase<Input, Output> & { agent: Agent<any>; prompt: (input: Input, context: TaskContext) => string },
): WorkflowTask<Input, Output> {
  const agent = options.agent.with<Output>({ output: options.output });
  return {
    ...options,
    kind: 'agent',
    async execute(input, context) {
      const result = await agent.run(options.prompt(input, context) + retryNote(context), stepRun(context));
      if (result.status !== 'finished') return stopped(options.name, result.stop.reason);
      return claim(result.output, [], { model: result.model, costUsd: result.costUsd });
    },
  };
}

/** A step done by a crew; its output is the crew's output. */
export function crewTask<Input, Output>(
  options: TaskBase<Input, Output> & { crew: Crew<any>; request: (input: Input, context: TaskContext) => string },
): WorkflowTask<Input, Output> {
  return {
    ...options,
    kind: 'crew',
    async execute(input, context) {
      const result = await options.crew.run(options.request(input, context) + retryNote(context), stepRun(context));
      if (result.status !== 'finished') return stopped(options.name, result.stop.reason);
      return claim(result.output, [], { costUsd: result.usage.total.costUsd });
    },
  };
}

/** The step's run: its side-effecting tool calls are keyed by the step's idempotency key, the same on every attempt and resume. */
function stepRun(context: TaskContext) {
  return deriveRunContext(context, { effects: context.outbox && new EffectScope(context.outbox, context.idempotencyKey) });
}

/** An agent or crew step ended without a result (a termination condition or bound fired). */
function stopped(task: string, reason: string): TaskEnd {
  return { kind: 'stopped', reason: `task "${task}" ended without a result: ${reason}` };
}
