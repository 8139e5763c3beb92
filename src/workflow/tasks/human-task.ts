import type { TaskBase, TaskContext, WorkflowTask } from '../workflow-task.js';

/**
 * A step a person does: the item waits in `awaiting-review` with the question; `troupe review
 * approve <id> --value '<json>'` (or `decideReview`) gives the answer, validated against the output schema.
 */
export function humanTask<Input, Output>(
  options: TaskBase<Input, Output> & { question: (input: Input, context: TaskContext) => string },
): WorkflowTask<Input, Output> {
  return {
    ...options,
    kind: 'human',
    async execute(input, context) {
      return { kind: 'awaiting-review', pause: { kind: 'input', question: options.question(input, context), input } };
    },
  };
}
