import { claim, isClaim, type Claim } from '../claim.js';
import type { TaskBase, TaskContext, WorkflowTask } from '../workflow-task.js';

/** A step done by plain code. `run` returns the output, or a `claim(value, evidence)` to attach evidence. */
export function codeTask<Input, Output>(
  options: TaskBase<Input, Output> & { run: (input: Input, context: TaskContext) => Output | Claim | Promise<Output | Claim> },
): WorkflowTask<Input, Output> {
  return {
    ...options,
    kind: 'code',
    async execute(input, context) {
      const result = await options.run(input, context);
      return isClaim(result) ? result : claim(result);
    },
  };
}
