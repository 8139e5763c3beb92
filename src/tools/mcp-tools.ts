import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { SideEffects } from './define-tool.js';
import { mcpToolToTool, type McpCallResult, type McpTool, type McpToolInfo } from './mcp-tool-adapter.js';

export { mcpResultText, mcpToolName, type McpTool, type McpToolInfo } from './mcp-tool-adapter.js';

/**
 * Start a local server as a child process and talk to it over stdin/stdout. The child gets only
 * a safe part of this process's environment (PATH, HOME, ...) plus `env`: pass what it needs.
 */
export interface McpStdioTransport {
  command: string;
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
}

/** Talk to a running server over streamable HTTP. `headers` (e.g. authorization) go with every request. */
export interface McpHttpTransport {
  url: string | URL;
  headers?: Readonly<Record<string, string>>;
}

export interface McpServerOptions {
  /** Names the server in errors and on its tools (`McpTool.server`). */
  name: string;
  transport: McpStdioTransport | McpHttpTransport;
  /** Put before every tool name, joined with `_`: prefix `fs` makes `read_file` into `fs_read_file`. */
  prefix?: string;
  /** Which of the server's tools to use, by their names on the server; all by default. */
  include?: readonly string[] | ((tool: McpToolInfo) => boolean);
  /** Each call is abandoned after this many milliseconds and reported to the model as timed out. Default 60 000. */
  timeoutMs?: number;
  /** How long starting, connecting and listing tools may take. Default 30 000. */
  connectTimeoutMs?: number;
  /**
   * For all tools, or per tool name on the server. Without it a tool the server marks read-only is
   * `read` and any other is `external`.
   */
  sideEffects?: SideEffects | Readonly<Record<string, SideEffects>>;
  /** For all tools, or per tool name on the server. */
  needsApproval?: boolean | Readonly<Record<string, boolean>>;
  /** Receives what a stdio server writes to stderr; by default it goes to this process's stderr. */
  onStderr?: (text: string) => void;
}

/** A connected server and its tools. Close it when done: for stdio this ends the child process. */
export interface McpServerConnection {
  readonly name: string;
  readonly tools: readonly McpTool[];
  /** What the server says about using it, if anything; worth putting in a system prompt. */
  readonly instructions: string | undefined;
  close(): Promise<void>;
}

const defaultTimeoutMs = 60_000;
const defaultConnectTimeoutMs = 30_000;
// Given to the SDK on top of the tool's timeout, so that the executor's own timeout (which
// reports a clean "timed out" result) fires first, and the SDK's 60 s default never cuts in.
const sdkTimeoutMarginMs = 1_000;
const stderrTailLength = 2_000;
const maxPages = 1_000;
const prefixPattern = /^[a-zA-Z0-9_-]{1,48}$/;

/**
 * Connects to an MCP server and returns its tools as Troupe tools. Their input schemas are the
 * server's own; arguments are checked against them before the call, so a bad call goes back to
 * the model without reaching the server. Fails with a ConfigurationError naming the server and
 * its command or URL when the server cannot be started, reached or listed.
 */
export async function connectMcpServer(options: McpServerOptions): Promise<McpServerConnection> {
  checkOptions(options);
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const requestOptions = { timeout: options.connectTimeoutMs ?? defaultConnectTimeoutMs };
  // The MCP SDK is loaded when a server is first connected, not with `import 'troupe'`.
  const [{ Client }, { StdioClientTransport }, { StreamableHTTPClientTransport }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]);
  const opened = openTransport(options, { StdioClientTransport, StreamableHTTPClientTransport });
  const client = new Client({ name: 'troupe', version: '0.1.0' });

  const callTool = (name: string, input: Record<string, unknown>, context: { signal: AbortSignal }) =>
    client.callTool({ name, arguments: input }, undefined, {
      signal: context.signal,
      timeout: timeoutMs + sdkTimeoutMarginMs,
    }) as Promise<McpCallResult>;

  const shutdown = async () => {
    // Tell an HTTP server the session is over so it can free it; a server may refuse (405).
    if (opened.transport instanceof StreamableHTTPClientTransport) {
      await opened.transport.terminateSession().catch(() => undefined);
    }
    await client.close();
  };

  let listed: McpToolInfo[];
  try {
    await client.connect(opened.transport, requestOptions);
    listed = await listAllTools(client, requestOptions);
  } catch (error) {
    await shutdown().catch(() => undefined);
    throw connectionError(options, error, opened.stderrTail());
  }

  let tools: McpTool[];
  try {
    tools = selectTools(options, listed).map((info) =>
      mcpToolToTool(
        info,
        {
          server: options.name,
          prefix: options.prefix,
          timeoutMs,
          sideEffects: perTool(options.sideEffects, info.name),
          needsApproval: perTool(options.needsApproval, info.name) ?? false,
        },
        callTool,
      ),
    );
    checkUniqueNames(options.name, tools);
  } catch (error) {
    // The server is running (for stdio, a child process): a bad setting must not leave it behind.
    await shutdown().catch(() => undefined);
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    name: options.name,
    tools,
    instructions: client.getInstructions(),
    close: () => (closing ??= shutdown()),
  };
}

function isStdio(transport: McpServerOptions['transport']): transport is McpStdioTransport {
  return 'command' in transport;
}

function openTransport(
  options: McpServerOptions,
  sdk: { StdioClientTransport: typeof StdioClientTransport; StreamableHTTPClientTransport: typeof StreamableHTTPClientTransport },
): {
  transport: StdioClientTransport | StreamableHTTPClientTransport;
  stderrTail: () => string;
} {
  const { transport } = options;
  if (isStdio(transport)) {
    const stdio = new sdk.StdioClientTransport({
      command: transport.command,
      args: [...(transport.args ?? [])],
      ...(transport.env ? { env: { ...transport.env } } : {}),
      ...(transport.cwd ? { cwd: transport.cwd } : {}),
      stderr: 'pipe',
    });
    // The end of the server's error output explains most failures to start; keep it for the error.
    let tail = '';
    const forward = options.onStderr ?? ((text: string) => process.stderr.write(text));
    stdio.stderr?.on('data', (chunk: Buffer | string) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-stderrTailLength);
      forward(text);
    });
    return { transport: stdio, stderrTail: () => tail.trim() };
  }
  const url = parseUrl(options.name, transport.url);
  const http = new sdk.StreamableHTTPClientTransport(url, transport.headers ? { requestInit: { headers: { ...transport.headers } } } : {});
  return { transport: http, stderrTail: () => '' };
}

async function listAllTools(client: Client, requestOptions: { timeout: number }): Promise<McpToolInfo[]> {
  const tools: McpToolInfo[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const result = await client.listTools(cursor === undefined ? {} : { cursor }, requestOptions);
    tools.push(...(result.tools as McpToolInfo[]));
    cursor = result.nextCursor;
    if (cursor === undefined) return tools;
    // A server that hands out the same cursor twice would keep this loop going forever.
    if (seen.has(cursor)) throw new Error(`the server repeated the pagination cursor "${cursor}" while listing tools`);
    seen.add(cursor);
  }
  throw new Error(`the server's tool list did not end after ${maxPages} pages`);
}

function selectTools(options: McpServerOptions, listed: McpToolInfo[]): McpToolInfo[] {
  const names = new Set(listed.map((tool) => tool.name));
  const unknown = (field: string, name: string) =>
    new ConfigurationError(`MCP server "${options.name}" has no tool named "${name}". Its tools: ${[...names].join(', ') || 'none'}.`, { field });
  const { include } = options;
  if (Array.isArray(include)) for (const name of include) if (!names.has(name)) throw unknown('include', name);
  for (const field of ['sideEffects', 'needsApproval'] as const) {
    const setting = options[field];
    if (typeof setting === 'object') for (const name of Object.keys(setting)) if (!names.has(name)) throw unknown(field, name);
  }
  if (include === undefined) return listed;
  if (typeof include === 'function') return listed.filter((tool) => include(tool));
  const wanted = new Set(include);
  return listed.filter((tool) => wanted.has(tool.name));
}

function perTool<Value extends string | boolean>(setting: Value | Readonly<Record<string, Value>> | undefined, name: string): Value | undefined {
  if (setting === undefined || typeof setting !== 'object') return setting;
  return Object.hasOwn(setting, name) ? setting[name] : undefined;
}

function checkUniqueNames(server: string, tools: readonly McpTool[]): void {
  const byName = new Map<string, string>();
  for (const tool of tools) {
    const earlier = byName.get(tool.name);
    if (earlier !== undefined) {
      throw new ConfigurationError(
        `MCP server "${server}" has tools "${earlier}" and "${tool.mcpName}" that both become "${tool.name}" as Troupe names; leave one out with "include".`,
        { field: 'include' },
      );
    }
    byName.set(tool.name, tool.mcpName);
  }
}

function checkOptions(options: McpServerOptions): void {
  if (!options.name?.trim()) throw new ConfigurationError('An MCP server needs a name.', { field: 'name' });
  const { transport } = options;
  if (isStdio(transport)) {
    if (!transport.command?.trim()) {
      throw new ConfigurationError(`MCP server "${options.name}" needs a command to start it.`, { field: 'transport.command' });
    }
  } else if (!('url' in transport)) {
    throw new ConfigurationError(`MCP server "${options.name}" needs a transport with a "command" (stdio) or a "url" (HTTP).`, {
      field: 'transport',
    });
  }
  if (options.prefix !== undefined && !prefixPattern.test(options.prefix)) {
    throw new ConfigurationError(`The prefix "${options.prefix}" of MCP server "${options.name}" must be 1 to 48 letters, digits, "_" or "-".`, {
      field: 'prefix',
    });
  }
  for (const field of ['timeoutMs', 'connectTimeoutMs'] as const) {
    const value = options[field];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new ConfigurationError(`${field} of MCP server "${options.name}" must be a positive number of milliseconds.`, { field });
    }
  }
}

function parseUrl(server: string, url: string | URL): URL {
  try {
    return new URL(url);
  } catch {
    throw new ConfigurationError(`MCP server "${server}" has an invalid URL: ${safeUrl(String(url))}.`, { field: 'transport.url' });
  }
}

/** A URL without credentials or query, which may carry tokens. */
function safeUrl(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return String(url)
      .replace(/[?#].*$/, '')
      .replace(/\/\/[^/@]*@/, '//');
  }
}

function connectionError(options: McpServerOptions, error: unknown, stderr: string): ConfigurationError {
  const { transport } = options;
  const reason = error instanceof Error ? error.message : String(error);
  const output = stderr ? ` Its error output ends with:\n${stderr}\n` : ' ';
  if (isStdio(transport)) {
    const commandLine = [transport.command, ...(transport.args ?? [])].join(' ');
    return new ConfigurationError(
      `MCP server "${options.name}" could not be started with the command "${commandLine}": ${reason}.${output}Check that the command exists and starts an MCP server on stdio.`,
      { field: 'transport.command' },
      { cause: error },
    );
  }
  // fetch's own messages may quote the URL, credentials and all.
  const url = safeUrl(transport.url);
  const scrubbed = [String(transport.url), new URL(transport.url).href].reduce((text, raw) => text.replaceAll(raw, url), reason);
  return new ConfigurationError(
    `MCP server "${options.name}" could not be reached at ${url}: ${scrubbed}. Check that the server is running, the URL is its MCP endpoint, and the headers authorize the client.`,
    { field: 'transport.url' },
    { cause: error },
  );
}
