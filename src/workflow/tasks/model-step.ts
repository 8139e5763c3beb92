import type { ModelClient, ModelRequest, ModelResponse } from '../../model/model-client.js';
import { resolveModel } from '../../model/resolve-model.js';
import { withTracing } from '../../model/with-tracing.js';
import { costOf } from '../../observe/pricing.js';
import type { TaskContext } from '../workflow-task.js';

/** One model call for a task, traced like an agent's, on the attempt's model (escalation may change it). */
export async function callModel(
  own: string | ModelClient | undefined,
  request: ModelRequest,
  context: TaskContext,
): Promise<{ response: ModelResponse; model: string; costUsd: number }> {
  const model = resolveModel(context.model ?? own, { where: { field: `tasks.${context.task}.model` } });
  const { trace } = context;
  const traced = trace
    ? withTracing(model, {
        trace,
        runId: context.runId,
        agent: context.task,
        turn: () => context.attempt,
        ...(context.clock ? { clock: context.clock } : {}),
        ...(context.streaming ? { streaming: true } : {}),
      })
    : model;
  const caller = { agent: context.task, runId: context.runId };
  const response = await traced.generate(request, context.signal ? { signal: context.signal, caller } : { caller });
  return { response, model: model.id, costUsd: costOf(model.id, response.usage) };
}

/** `{{field}}` and `{{field.sub}}` in a template, from the input; objects are written as JSON. */
export function renderTemplate(template: string, input: unknown): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, path: string) => {
    let value: unknown = input;
    for (const key of path.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (value === undefined) return `{{${path}}}`;
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/** What the model is told when the task runs again. */
export function retryNote(context: TaskContext): string {
  if (!context.feedback) return '';
  const previous =
    context.previous === undefined
      ? ''
      : `\n\nYour previous answer:\n${typeof context.previous === 'string' ? context.previous : JSON.stringify(context.previous)}`;
  return `\n\n## This is attempt ${context.attempt}. Fix the following:\n${context.feedback}${previous}`;
}
