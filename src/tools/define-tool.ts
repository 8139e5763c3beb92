import { z } from 'zod';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { JsonSchema } from '../core/json.js';
import type { ToolSpec } from '../model/model-client.js';

/** What a tool's `run` receives besides its input. */
export interface ToolContext {
  /** The id of this call, as the model gave it. */
  callId: string;
  /** Aborted when the call times out or the run is cancelled: long tools should honour it. */
  signal: AbortSignal;
  runId?: string;
  agent?: string;
  /** The files that came with the trigger being handled, when there is one: read lazily, by name. */
  files?: FileAccess;
  /**
   * For tools with `write` or `external` side effects run inside recorded work (a workflow step,
   * a handled trigger): the same on every delivery of this call. Pass it to the system you call
   * (an `Idempotency-Key` header, a `Message-ID`, a file name created with `wx`) so a repeat after
   * a crash is refused there. See `Outbox`.
   */
  idempotencyKey?: string;
}

/** Read access to a handler run's virtual files (attachments given by reference). */
export interface FileAccess {
  list(): Array<{ name: string; mediaType?: string }>;
  read(name: string): Promise<string>;
}

/**
 * What a tool does to the world. Workflows use it to decide what needs review and what must not
 * be repeated on resume: `none` and `read` are safe to repeat; `write` and `external` are not.
 */
export type SideEffects = 'none' | 'read' | 'write' | 'external';

export interface ToolDefinition<Input, Output> {
  /** Letters, digits, `_` and `-`, at most 64 characters (what both vendors accept). */
  name: string;
  description: string;
  input: z.ZodType<Input>;
  /** When given, what `run` returns is validated too; a mismatch is reported to the model as an error. */
  output?: z.ZodType<Output>;
  run(input: Input, context: ToolContext): Output | Promise<Output>;
  /** After this many milliseconds the call is abandoned and reported to the model as timed out. */
  timeoutMs?: number;
  /** Calls must be approved by a person (or an approver function) before `run`. */
  needsApproval?: boolean | ((input: Input) => boolean);
  sideEffects?: SideEffects;
}

/** A defined tool: its definition plus the spec the model sees, computed once. */
export interface Tool<Input = any, Output = any> extends Readonly<ToolDefinition<Input, Output>> {
  readonly spec: ToolSpec;
}

const toolName = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Defines a tool. The JSON Schema the model sees comes from zod 4's own converter, so the
 * schema that validates the arguments and the one the model reads cannot drift apart.
 */
export function defineTool<Input, Output>(definition: ToolDefinition<Input, Output>): Tool<Input, Output> {
  if (!toolName.test(definition.name)) {
    throw new ConfigurationError(`Tool name "${definition.name}" is not allowed: use 1 to 64 letters, digits, "_" or "-".`, { field: 'name' });
  }
  if (!definition.description.trim()) {
    throw new ConfigurationError(`Tool "${definition.name}" needs a description: the model chooses tools by it.`, {
      field: 'description',
    });
  }
  const inputSchema = toJsonSchema(definition.input, `tool "${definition.name}" input`);
  return Object.freeze({
    ...definition,
    spec: { name: definition.name, description: definition.description, inputSchema },
  });
}

/** Converts a zod schema to the JSON Schema sent to models; an object schema is required by both vendors for tool input. */
export function toJsonSchema(schema: z.ZodType, what: string): JsonSchema {
  let json: JsonSchema;
  try {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } catch (error) {
    throw new ConfigurationError(`The schema of ${what} cannot be expressed as JSON Schema: ${(error as Error).message}`, {
      field: 'input',
    });
  }
  delete json.$schema;
  if (json.type !== 'object') {
    throw new ConfigurationError(`The schema of ${what} must be a zod object (z.object({...})), got type "${String(json.type)}".`, {
      field: 'input',
    });
  }
  return json;
}
