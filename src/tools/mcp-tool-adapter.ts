import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { JsonSchema } from '../core/json.js';
import type { SideEffects, Tool, ToolContext } from './define-tool.js';
import { serialize } from './execute-tool-call.js';

/** A tool as an MCP server lists it (the fields Troupe reads). */
export interface McpToolInfo {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: { type: 'object'; [key: string]: unknown };
  annotations?: { title?: string | undefined; readOnlyHint?: boolean | undefined; [key: string]: unknown } | undefined;
}

/** A tool call result as MCP servers send it; `toolResult` is the pre-2024-11-05 protocol's shape. */
export interface McpCallResult {
  content?: ReadonlyArray<McpContentPart>;
  structuredContent?: Record<string, unknown> | undefined;
  isError?: boolean | undefined;
  toolResult?: unknown;
  [key: string]: unknown;
}

type McpContentPart =
  | { type: 'text'; text: string }
  | { type: 'image' | 'audio'; mimeType: string }
  | { type: 'resource'; resource: { uri: string; mimeType?: string | undefined; text?: string; blob?: string } }
  | { type: 'resource_link'; uri: string; name: string; mimeType?: string | undefined }
  | { type: string; [key: string]: unknown };

/** Calls the tool on the server; the connection supplies it. */
export type McpCall = (name: string, input: Record<string, unknown>, context: ToolContext) => Promise<McpCallResult>;

/** A Troupe tool backed by a tool of an MCP server. */
export interface McpTool extends Tool<Record<string, unknown>, string> {
  /** The tool's name on its server (the Troupe name may carry a prefix or have characters replaced). */
  readonly mcpName: string;
  /** The `name` given to `connectMcpServer`. */
  readonly server: string;
  /**
   * `schema` when the server's JSON Schema was converted to zod and arguments are checked against
   * it before the call; `object` when it could not be converted and only "is an object" is checked
   * (the server still validates).
   */
  readonly localValidation: 'schema' | 'object';
}

export interface McpToolSettings {
  server: string;
  prefix: string | undefined;
  timeoutMs: number;
  sideEffects: SideEffects | undefined;
  needsApproval: boolean;
}

const toolName = /^[a-zA-Z0-9_-]{1,64}$/;
const maxNameLength = 64;

/**
 * The name the model sees. MCP allows characters (`.`, `/`) that model vendors reject, and a
 * prefix can push a name past 64 characters, so names are made safe here; a name cut short gets
 * a hash of the full name so that two long names sharing a start stay distinct.
 */
export function mcpToolName(mcpName: string, prefix?: string): string {
  const joined = prefix ? `${prefix}_${mcpName}` : mcpName;
  const safe = joined.replace(/[^a-zA-Z0-9_-]/g, '_');
  if (safe.length <= maxNameLength) return safe;
  const hash = createHash('sha256').update(joined).digest('hex').slice(0, 8);
  return `${safe.slice(0, maxNameLength - hash.length - 1)}_${hash}`;
}

/**
 * The zod schema that checks arguments before they leave the process. zod 4's converter does not
 * cover all of JSON Schema (if/then/else, `not`, external `$ref`s): for those tools only the object
 * shape is checked here and the server remains the judge. A private registry keeps the converted
 * schemas' metadata out of zod's global one, which would otherwise grow with every connection.
 */
export function inputValidator(inputSchema: JsonSchema): { schema: z.ZodType<Record<string, unknown>>; converted: boolean } {
  try {
    const schema = z.fromJSONSchema(inputSchema as Parameters<typeof z.fromJSONSchema>[0], { registry: z.registry() });
    return { schema: schema as z.ZodType<Record<string, unknown>>, converted: true };
  } catch {
    return { schema: z.looseObject({}), converted: false };
  }
}

/** Turns a listed MCP tool into a Troupe tool whose `run` goes through `call`. */
export function mcpToolToTool(info: McpToolInfo, settings: McpToolSettings, call: McpCall): McpTool {
  const name = mcpToolName(info.name, settings.prefix);
  if (!toolName.test(name)) {
    throw new ConfigurationError(`MCP server "${settings.server}" lists a tool with the unusable name "${info.name}".`, {
      field: 'name',
    });
  }
  const { $schema: _dialect, ...inputSchema } = info.inputSchema;
  const { schema, converted } = inputValidator(info.inputSchema);
  const description = info.description?.trim() || info.title || info.annotations?.title || `Tool "${info.name}" of the MCP server "${settings.server}".`;
  return Object.freeze({
    name,
    description,
    input: schema,
    run: async (input: Record<string, unknown>, context: ToolContext) => mcpResultText(await call(info.name, input, context)),
    timeoutMs: settings.timeoutMs,
    needsApproval: settings.needsApproval,
    // Hints come from the server and are not guarantees; only "read-only" is taken from them, and
    // anything else is treated as reaching outside the process, which is never repeated on resume.
    sideEffects: settings.sideEffects ?? (info.annotations?.readOnlyHint === true ? 'read' : 'external'),
    spec: { name, description, inputSchema },
    mcpName: info.name,
    server: settings.server,
    localValidation: converted ? 'schema' : 'object',
  });
}

/**
 * What the model reads from a call result: text parts as they are, other parts as a short
 * summary, structured content as JSON when there is no text. A result marked `isError` throws,
 * so the executor reports it to the model as a failed call.
 */
export function mcpResultText(result: McpCallResult): string {
  if (result.content === undefined && 'toolResult' in result) return serialize(result.toolResult);
  const content = result.content ?? [];
  const parts = content.map(describePart);
  const hasText = content.some((part) => part.type === 'text');
  if (!hasText && result.structuredContent !== undefined) parts.unshift(JSON.stringify(result.structuredContent));
  const text = parts.join('\n');
  if (result.isError) throw new Error(text || 'the MCP tool reported an error without a message');
  return text;
}

function describePart(part: McpContentPart): string {
  switch (part.type) {
    case 'text':
      return (part as { text: string }).text;
    case 'image':
    case 'audio':
      return `[${part.type} ${String(part.mimeType)}]`;
    case 'resource': {
      const { resource } = part as Extract<McpContentPart, { type: 'resource' }>;
      if (typeof resource.text === 'string') return `[resource ${resource.uri}]\n${resource.text}`;
      return `[resource ${resource.uri}${resource.mimeType ? ` ${resource.mimeType}` : ''}]`;
    }
    case 'resource_link': {
      const link = part as Extract<McpContentPart, { type: 'resource_link' }>;
      return `[resource link ${link.uri}${link.name ? ` (${link.name})` : ''}]`;
    }
    default:
      return `[${part.type}]`;
  }
}
