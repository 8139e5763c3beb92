import { z } from 'zod';
import type { ModelClient, ToolCallPart } from '../../model/model-client.js';
import { toJsonSchema } from '../../tools/define-tool.js';
import { claim, type Evidence } from '../claim.js';
import type { TaskBase, WorkflowTask } from '../workflow-task.js';
import { callModel, renderTemplate, retryNote } from './model-step.js';

export interface ExtractTaskOptions<Input, Output> extends TaskBase<Input, Output> {
  /** What to extract, with `{{field}}` placeholders filled from the input. */
  prompt: string;
  system?: string;
  model?: string | ModelClient;
}

const evidenceSchema = z
  .array(z.object({ source: z.string(), quote: z.string().describe('The exact words that support the value') }))
  .describe('Where each value was found');

/**
 * Tool-based extraction: the model must call one tool whose arguments are the output, plus the
 * evidence for it. The arguments are a claim: the workflow validates them and checks the evidence.
 */
export function extractTask<Input, Output>(options: ExtractTaskOptions<Input, Output>): WorkflowTask<Input, Output> {
  const toolName = `record_${options.name}`.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  const value = options.output instanceof z.ZodObject ? options.output : z.object({ value: options.output });
  const spec = {
    name: toolName,
    description: 'Record what you extracted, with the evidence for it.',
    inputSchema: toJsonSchema(z.object({ value, evidence: evidenceSchema }), `task "${options.name}" output`),
  };
  const unwrap = options.output instanceof z.ZodObject ? (v: unknown) => v : (v: unknown) => (v as { value?: unknown } | undefined)?.value;
  return {
    ...options,
    kind: 'extract',
    async execute(input, context) {
      const request = {
        messages: [{ role: 'user' as const, content: renderTemplate(options.prompt, input) + retryNote(context) }],
        tools: [spec],
        toolChoice: { name: toolName },
        ...(options.system ? { system: options.system } : {}),
      };
      const { response, model, costUsd } = await callModel(options.model, request, context);
      const call = response.content.find((part): part is ToolCallPart => part.type === 'tool-call' && part.name === toolName);
      if (!call) return claim(undefined, [], { model, costUsd, status: 'unsupported' });
      const args = (call.input ?? {}) as { value?: unknown; evidence?: Evidence[] };
      const evidence = Array.isArray(args.evidence) ? args.evidence.filter((e) => e && typeof e.source === 'string') : [];
      return claim(unwrap(args.value), evidence, { model, costUsd });
    },
  };
}
