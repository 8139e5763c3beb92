import type { z } from 'zod';
import { defineTool, type Tool } from './define-tool.js';

export const defaultFinishToolName = 'finish';

/**
 * The tool an agent calls to end its work with a result. Its arguments are the result, validated
 * against `output`; the agent loop recognises the call by name and does not run it as a tool.
 */
export function finishTool<Output>(output: z.ZodType<Output>, options: { name?: string; description?: string } = {}): Tool<Output, Output> {
  return defineTool({
    name: options.name ?? defaultFinishToolName,
    description: options.description ?? 'Call this when the work is done, with the final result as the arguments. Nothing else ends the work.',
    input: output,
    run: (value) => value,
    sideEffects: 'none',
  });
}
