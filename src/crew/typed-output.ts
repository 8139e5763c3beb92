import { z } from 'zod';
import type { DefinitionFile } from '../core/definition-file.js';
import type { Crew } from './crew.js';
import type { CrewResult } from './crew-result.js';
import { schemaMisfit } from './schema-misfit.js';

/** The output a crew file declares, as a JSON Schema (words and the default are a string), and where. */
export interface DeclaredOutput {
  schema: Record<string, unknown>;
  field: PropertyKey[];
  /** Says what declares it, for the message ("the last task's expected output"). */
  what: string;
}

/** A load-time error when the schema a caller expects cannot fit what the file declares (see schemaMisfit). */
export function checkOutputFits(file: DefinitionFile, declared: DeclaredOutput, expected: z.ZodType): void {
  let json: Record<string, unknown>;
  try {
    json = z.toJSONSchema(expected, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return; // nothing to compare at load; the run still validates
  }
  const why = schemaMisfit(json, declared.schema);
  if (why) throw file.error(declared.field, `the output schema given to loadCrew does not fit ${declared.what}: ${why}`);
}

/**
 * The finish schema, refined by the expected one, so a result the caller's schema rejects goes
 * back to the model to fix like any invalid result. A refinement keeps the schema's kind (an
 * object stays an object), so the finish tool the model sees is the file's.
 */
export function alsoMatching(schema: z.ZodType, expected: z.ZodType): z.ZodType {
  return schema.superRefine((value, context) => {
    const parsed = expected.safeParse(value);
    if (!parsed.success) for (const issue of parsed.error.issues) context.addIssue({ code: 'custom', message: issue.message, path: [...issue.path] });
  });
}

/**
 * The crew, its finished output parsed with the expected schema (so its transforms and defaults
 * apply and the type holds). An output that does not parse fails the run with `invalid-output`.
 */
export function withOutput<Output>(crew: Crew<unknown>, expected: z.ZodType<Output>): Crew<Output> {
  return {
    name: crew.name,
    process: crew.process,
    async run(input, options): Promise<CrewResult<Output>> {
      const result = await crew.run(input, options);
      if (result.status !== 'finished') return result;
      const parsed = expected.safeParse(result.output);
      if (parsed.success) return { ...result, output: parsed.data };
      return {
        ...result,
        status: 'failed',
        output: undefined,
        stop: {
          kind: 'failed',
          condition: 'invalid-output',
          reason: `the crew's output does not match the schema given to loadCrew: ${z.prettifyError(parsed.error)}`,
          detail: { issues: parsed.error.issues },
        },
      };
    },
  };
}
