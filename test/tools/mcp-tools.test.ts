// Against real MCP server processes: test/fixtures/mcp/*.mjs, built on the SDK's McpServer.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, type ToolCallPart, type ToolExecution } from 'troupe';
import { manualClock } from 'troupe/testing';
// Not yet exported from the package entry point.
import { connectMcpServer, type McpServerConnection, type McpServerOptions } from '../../src/tools/mcp-tools.js';
import { executeToolCall } from '../../src/tools/execute-tool-call.js';
import { ToolSet } from '../../src/tools/tool-set.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/mcp/${name}`, import.meta.url));
const stdioServer = { command: process.execPath, args: [fixture('stdio-server.mjs')] };
const token = 'fixture-secret-token';

let callCount = 0;
function call(name: string, input: unknown): ToolCallPart {
  return { type: 'tool-call', id: `call_${++callCount}`, name, input };
}

function execution(signal?: AbortSignal): ToolExecution {
  return { runId: 'run_1', clock: manualClock(), signal };
}

async function run(server: McpServerConnection, name: string, input: unknown, signal?: AbortSignal) {
  return executeToolCall(call(name, input), new ToolSet(server.tools), execution(signal));
}

/** The `tools/call` requests and cancellations that reached the server, as it recorded them. */
async function serverLog(server: McpServerConnection, callsTool = 'calls'): Promise<string[]> {
  const result = await run(server, callsTool, {});
  expect(result.isError).toBeUndefined();
  return (JSON.parse(result.output) as string[]).filter((entry) => entry !== `call:calls`);
}

/** Polls the server's log until the entry shows, for a bounded time: cancellation reaches the server asynchronously. */
async function waitForLog(server: McpServerConnection, entry: string): Promise<string[]> {
  // Generous: on two loaded cores the server may take seconds to see the cancellation.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const log = await serverLog(server);
    if (log.includes(entry) || Date.now() > deadline) return log;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function connectError(options: McpServerOptions): Promise<ConfigurationError> {
  const error = await connectMcpServer(options).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigurationError);
  return error as ConfigurationError;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

describe('MCP server over stdio', () => {
  let server: McpServerConnection;
  beforeAll(async () => {
    server = await connectMcpServer({ name: 'fixture', transport: stdioServer });
  });
  afterAll(() => server?.close());

  it('lists the server tools with its own JSON Schema', () => {
    expect(server.name).toBe('fixture');
    expect(server.instructions).toBe('Use add for sums.');
    expect(server.tools.map((tool) => tool.name)).toEqual(['add', 'echo', 'stats', 'fail', 'sleep', 'calls', 'pid']);
    const add = server.tools[0]!;
    expect(add.spec).toEqual({
      name: 'add',
      description: 'Adds two numbers.',
      inputSchema: {
        type: 'object',
        properties: { a: { type: 'number', description: 'The first number' }, b: { type: 'number', description: 'The second number' } },
        required: ['a', 'b'],
      },
    });
    expect(add).toMatchObject({ mcpName: 'add', server: 'fixture', localValidation: 'schema', sideEffects: 'read', needsApproval: false });
    expect(server.tools[1]!.sideEffects).toBe('external');
  });

  it('calls a tool through executeToolCall', async () => {
    expect(await run(server, 'add', { a: 2, b: 3.5 })).toEqual({ type: 'tool-result', callId: expect.any(String), name: 'add', output: '5.5' });
  });

  it('joins text parts and summarises other parts', async () => {
    expect((await run(server, 'echo', { text: 'hello' })).output).toBe('hello\n[image image/png]');
  });

  it('gives structured content as JSON when there is no text', async () => {
    expect((await run(server, 'stats', { text: 'one two three' })).output).toBe('{"words":3}');
  });

  it('rejects bad arguments locally: the server never sees the call', async () => {
    const before = await serverLog(server);
    const wrongType = await run(server, 'add', { a: 'two', b: 3 });
    const notInteger = await run(server, 'sleep', { ms: 1.5 });
    expect(wrongType.isError).toBe(true);
    expect(wrongType.output).toMatch(/^Invalid arguments for "add": a: .*expected number/);
    expect(notInteger.isError).toBe(true);
    expect(notInteger.output).toMatch(/^Invalid arguments for "sleep": ms: /);
    expect(await serverLog(server)).toEqual(before);
  });

  it('turns an isError result into an error result with the server text', async () => {
    expect(await run(server, 'fail', { reason: 'testing' })).toMatchObject({
      isError: true,
      output: 'Tool "fail" failed: failed on purpose: testing',
    });
  });

  it('cancels the call on the server when the run is cancelled', async () => {
    const controller = new AbortController();
    const reason = new Error('run cancelled');
    const running = run(server, 'sleep', { ms: 10_000 }, controller.signal);
    setTimeout(() => controller.abort(reason), 50);
    await expect(running).rejects.toBe(reason);
    expect(await waitForLog(server, 'aborted:sleep')).toEqual(expect.arrayContaining(['call:sleep', 'cancelled', 'aborted:sleep']));
  });
});

describe('connectMcpServer options', () => {
  it('abandons a call after timeoutMs and cancels it on the server', async () => {
    const server = await connectMcpServer({ name: 'fixture', transport: stdioServer, timeoutMs: 150, include: ['sleep', 'calls'] });
    try {
      expect(server.tools.map((tool) => tool.name)).toEqual(['sleep', 'calls']);
      expect(await run(server, 'sleep', { ms: 10_000 })).toMatchObject({ isError: true, output: 'Tool "sleep" timed out after 150 ms.' });
      expect(await waitForLog(server, 'aborted:sleep')).toEqual(['call:sleep', 'cancelled', 'aborted:sleep']);
    } finally {
      await server.close();
    }
  });

  it('prefixes tool names, and calls the tool by its server name', async () => {
    const server = await connectMcpServer({
      name: 'calculator',
      transport: stdioServer,
      prefix: 'calc',
      include: (tool) => tool.name === 'add' || tool.name === 'echo',
      sideEffects: { echo: 'none' },
      needsApproval: { add: true },
    });
    try {
      expect(server.tools.map((tool) => [tool.name, tool.mcpName, tool.spec.name, tool.sideEffects, tool.needsApproval])).toEqual([
        ['calc_add', 'add', 'calc_add', 'read', true],
        ['calc_echo', 'echo', 'calc_echo', 'none', false],
      ]);
      const approve = { ...execution(), approver: () => ({ approved: true }) };
      expect(await executeToolCall(call('calc_add', { a: 1, b: 1 }), new ToolSet(server.tools), approve)).toMatchObject({
        name: 'calc_add',
        output: '2',
      });
    } finally {
      await server.close();
    }
  });

  it('follows pagination cursors when listing tools', async () => {
    const server = await connectMcpServer({ name: 'paged', transport: { ...stdioServer, env: { FIXTURE_PAGE_SIZE: '2' } } });
    try {
      expect(server.tools.map((tool) => tool.name)).toEqual(['add', 'echo', 'stats', 'fail', 'sleep', 'calls', 'pid']);
    } finally {
      await server.close();
    }
  });

  it('refuses tool names in include or per-tool settings that the server does not have', async () => {
    const error = await connectError({ name: 'fixture', transport: stdioServer, include: ['add', 'subtract'] });
    expect(error.message).toContain('MCP server "fixture" has no tool named "subtract". Its tools: add, echo,');
    expect(error.where.field).toBe('include');
    expect((await connectError({ name: 'fixture', transport: stdioServer, needsApproval: { ad: true } })).where.field).toBe('needsApproval');
  });

  it('stops the server it started when a setting turns out wrong', async () => {
    let stderr = '';
    await connectError({
      name: 'fixture',
      transport: { ...stdioServer, env: { FIXTURE_ANNOUNCE_PID: '1' } },
      include: ['nope'],
      onStderr: (text) => (stderr += text),
    });
    const pid = Number(/pid (\d+)/.exec(stderr)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(processExists(pid)).toBe(false);
  });

  it('refuses a prefix that would make invalid names', async () => {
    expect((await connectError({ name: 'fixture', transport: stdioServer, prefix: 'my.prefix' })).where.field).toBe('prefix');
  });

  it('fails clearly when the command does not exist', async () => {
    const error = await connectError({ name: 'missing', transport: { command: 'troupe-no-such-mcp-server', args: ['--stdio'] } });
    expect(error.message).toContain('MCP server "missing" could not be started with the command "troupe-no-such-mcp-server --stdio"');
    expect(error.message).toContain('ENOENT');
    expect(error.where.field).toBe('transport.command');
    expect(error.exitCode).toBe(2);
  });

  it('fails clearly when the server exits, quoting its error output', async () => {
    const stderr: string[] = [];
    const error = await connectError({
      name: 'broken',
      transport: { command: process.execPath, args: ['-e', 'console.error("no config file found"); process.exit(2)'] },
      onStderr: (text) => stderr.push(text),
    });
    expect(error.message).toContain('MCP server "broken" could not be started');
    expect(error.message).toContain('no config file found');
    expect(stderr.join('')).toContain('no config file found');
  });

  it('ends the child process on close, after which calls fail as results', async () => {
    const server = await connectMcpServer({ name: 'fixture', transport: stdioServer, include: ['pid'] });
    const pid = Number((await run(server, 'pid', {})).output);
    expect(processExists(pid)).toBe(true);
    await server.close();
    await server.close();
    expect(processExists(pid)).toBe(false);
    expect(await run(server, 'pid', {})).toMatchObject({ isError: true, output: 'Tool "pid" failed: Not connected' });
  });
});

describe('MCP server over streamable HTTP', () => {
  let child: ChildProcess;
  let url: string;
  let server: McpServerConnection;

  beforeAll(async () => {
    child = spawn(process.execPath, [fixture('http-server.mjs')], {
      env: { ...process.env, FIXTURE_TOKEN: token },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`the HTTP fixture did not start: ${output}`)), 60_000);
      child.once('exit', (code) => reject(new Error(`the HTTP fixture exited with ${code}: ${output}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening (\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
    url = `http://127.0.0.1:${port}/mcp`;
    server = await connectMcpServer({ name: 'remote', transport: { url, headers: { authorization: `Bearer ${token}` } }, prefix: 'remote' });
  });

  afterAll(async () => {
    await server?.close();
    if (child && child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('lists and calls tools, sending the headers', async () => {
    expect(server.tools.map((tool) => tool.name)).toContain('remote_add');
    expect(await run(server, 'remote_add', { a: 40, b: 2 })).toMatchObject({ output: '42' });
    expect(await run(server, 'remote_fail', { reason: 'over http' })).toMatchObject({
      isError: true,
      output: 'Tool "remote_fail" failed: failed on purpose: over http',
    });
  });

  it('rejects bad arguments locally over HTTP too', async () => {
    const before = await serverLog(server, 'remote_calls');
    expect((await run(server, 'remote_add', { a: 1 })).output).toMatch(/^Invalid arguments for "remote_add": b: /);
    expect(await serverLog(server, 'remote_calls')).toEqual(before);
  });

  it('fails clearly without the credentials, without putting them in the message', async () => {
    const error = await connectError({ name: 'remote', transport: { url: `${url}?key=${token}` } });
    const withUserInfo = await connectError({ name: 'remote', transport: { url: url.replace('//', `//user:${token}@`) } });
    expect(withUserInfo.message).not.toContain(token);
    expect(error.message).toContain(`MCP server "remote" could not be reached at ${url}:`);
    expect(error.message).not.toContain(token);
    expect(error.where.field).toBe('transport.url');
  });

  it('fails clearly when nothing listens at the URL', async () => {
    const error = await connectError({ name: 'nowhere', transport: { url: 'http://127.0.0.1:1/mcp' }, connectTimeoutMs: 5_000 });
    expect(error.message).toContain('MCP server "nowhere" could not be reached at http://127.0.0.1:1/mcp');
  });

  it('refuses a URL that does not parse', async () => {
    expect((await connectError({ name: 'bad', transport: { url: 'not a url' } })).where.field).toBe('transport.url');
  });
});
