import { z } from 'zod';
import type { ModelClient } from '../../model/model-client.js';
import { textOf } from '../../model/model-client.js';
import { toJsonSchema } from '../../tools/define-tool.js';
import { claim } from '../claim.js';
import type { TaskBase, WorkflowTask } from '../workflow-task.js';
import { callModel, renderTemplate, retryNote } from './model-step.js';

export interface PromptTaskOptions<Input, Output> extends TaskBase<Input, Output> {
  /** The prompt, with `{{field}}` placeholders filled from the input. */
  prompt: string;
  system?: string;
  model?: string | ModelClient;
  /** Turns the completion into the output. Default: the text for string outputs, else the JSON in it. */
  parse?: (completion: string, input: Input) => unknown;
}

/**
 * A templated prompt: inputs interpolated, one completion, post-processed into the output. For an
 * object output the model is asked for structured JSON matching the schema.
 */
export function promptTask<Input, Output>(options: PromptTaskOptions<Input, Output>): WorkflowTask<Input, Output> {
  const structured =
    options.output instanceof z.ZodObject
      ? { name: `${options.name}_output`.slice(0, 64), schema: toJsonSchema(options.output, `task "${options.name}" output`) }
      : undefined;
  return {
    ...options,
    kind: 'prompt',
    async execute(input, context) {
      const request = {
        messages: [{ role: 'user' as const, content: renderTemplate(options.prompt, input) + retryNote(context) }],
        ...(options.system ? { system: options.system } : {}),
        ...(structured ? { output: structured } : {}),
      };
      const { response, model, costUsd } = await callModel(options.model, request, context);
      const text = textOf(response.content);
      const parse = options.parse ?? (structured ? parseJson : (completion: string) => completion.trim());
      return claim(parse(text, input), [], { model, costUsd });
    },
  };
}

/** The JSON in a completion, tolerating a code fence around it; text that is not JSON is returned as is for validation to reject. */
export function parseJson(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const body = (fenced ? fenced[1]! : text).trim();
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
