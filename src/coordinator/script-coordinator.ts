import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { Agent } from '../agent/agent.js';
import type { RunContext } from '../agent/run-context.js';
import type { TerminationCondition } from '../agent/termination.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { HaltError } from '../core/errors/halt-error.js';
import { TroupeError } from '../core/errors/troupe-error.js';
import type { Tool } from '../tools/define-tool.js';
import { executeToolCall } from '../tools/execute-tool-call.js';
import { ToolSet } from '../tools/tool-set.js';
import type { Trigger } from './trigger.js';
import type { VirtualFiles } from './virtual-files.js';

/** What a coordinator script receives: the same trigger, approved tools and files an llm coordinator gets. */
export interface ScriptContext {
  trigger: Trigger;
  files: VirtualFiles;
  /** The approved tools by name, each an async function of its input returning its output. Others are not there. */
  tools: Record<string, (input: unknown) => Promise<any>>;
  /** Calls an approved tool by name (the same as `tools[name](input)`). */
  call(name: string, input: unknown): Promise<any>;
  /** Uses a model where the script chooses to: an agent with its instructions and some of the approved tools, ending through its finish tool. */
  subagent<Output = string>(options: { name?: string; instructions: string; input: string; tools?: string[]; output?: z.ZodType<Output> }): Promise<Output>;
  signal: AbortSignal;
}

/** A coordinator script's default export. Its return value (a string, or `{ answer }`) is the final answer. */
export type CoordinatorScript = (context: ScriptContext) => Promise<string | { answer?: string } | undefined>;

/** The script called a tool its configuration does not approve: a mistake in reviewed code, so it stops the run. */
export class UnapprovedToolError extends TroupeError {
  readonly code = 'tool_not_approved';
  readonly fault = 'configuration' as const;

  constructor(configuration: string, tool: string, approved: readonly string[]) {
    super(
      `configuration "${configuration}" does not approve tool "${tool}", so its coordinator script cannot call it (approved: ${approved.join(', ') || 'none'}). Add it to tools: if the script should use it.`,
    );
  }
}

/** A tool the script called failed; scripts are code, so this is an exception rather than a message to a model. */
export class ScriptToolError extends TroupeError {
  readonly code = 'script_tool_failed';
  readonly fault = 'tool' as const;

  constructor(tool: string, message: string) {
    super(`tool "${tool}" failed for the coordinator script: ${message}`);
  }
}

export interface ScriptRun {
  configuration: string;
  scriptPath: string;
  trigger: Trigger;
  files: VirtualFiles;
  tools: readonly Tool[];
  /** The trigger's run: the script's tool calls and subagents run in it. */
  run: RunContext;
  /** Aborts on the run's signal and on the configuration's time limit. */
  signal: AbortSignal;
  maxToolCalls: number;
  subagentTermination: TerminationCondition;
  onSubagentRun: (result: { costUsd: number; turns: number }) => void;
}

/** Runs a reviewed coordinator script with the same tools, trigger and files, in the same trace as an llm run. */
export async function runScript(run: ScriptRun): Promise<string | undefined> {
  const script = await loadScript(run.scriptPath);
  const outputs = new Map<string, unknown>();
  // Each tool's raw return value is kept for the script, while the call itself goes through the
  // same executor as a model's call: same validation, timeouts, approvals and trace events.
  const capturing = new ToolSet(
    run.tools.map((tool) =>
      Object.freeze({
        ...tool,
        run: async (input: unknown, context: { callId: string }) => {
          const value = await tool.run(input, context as never);
          outputs.set(context.callId, value);
          return value;
        },
      }),
    ),
  );
  const approved = capturing.names;
  let calls = 0;
  const call = async (name: string, input: unknown): Promise<unknown> => {
    if (!capturing.has(name)) throw new UnapprovedToolError(run.configuration, name, approved);
    if (calls >= run.maxToolCalls)
      throw new HaltError('max-tool-calls', `the coordinator script made ${calls} tool calls, the limit`, { limit: run.maxToolCalls });
    const callId = `script_${++calls}`;
    const result = await executeToolCall({ type: 'tool-call', id: callId, name, input }, capturing, { ...run.run, agent: 'coordinator', files: run.files });
    if (result.isError) throw new ScriptToolError(name, result.output);
    // A call answered from the outbox (a redelivered trigger) did not run: its recorded result is all there is.
    return outputs.has(callId) ? outputs.get(callId) : parseRecorded(result.output);
  };
  const tools = new Proxy({} as Record<string, (input: unknown) => Promise<unknown>>, {
    get: (_, name) => (typeof name === 'string' ? (input: unknown) => call(name, input) : undefined),
    has: (_, name) => typeof name === 'string' && capturing.has(name),
    ownKeys: () => approved,
    getOwnPropertyDescriptor: (_, name) => (typeof name === 'string' && capturing.has(name) ? { enumerable: true, configurable: true } : undefined),
  });
  const subagent: ScriptContext['subagent'] = async (options) => {
    for (const name of options.tools ?? []) if (!capturing.has(name)) throw new UnapprovedToolError(run.configuration, name, approved);
    const agent = new Agent({
      name: options.name ?? 'subagent',
      instructions: options.instructions,
      tools: run.tools.filter((tool) => (options.tools ?? []).includes(tool.name)),
      termination: run.subagentTermination,
      ...(options.output ? { output: options.output } : {}),
    } as ConstructorParameters<typeof Agent>[0]);
    // As before the run context existed, a subagent's calls are not recorded in the trigger's outbox.
    const { effects: _notRecorded, ...subagentRun } = run.run;
    const result = await agent.run(options.input, { ...subagentRun, files: run.files });
    run.onSubagentRun({ costUsd: result.costUsd, turns: result.turns });
    if (result.status !== 'finished') throw new HaltError(result.stop.condition, `subagent "${agent.name}" stopped: ${result.stop.reason}`, result.stop.detail);
    return result.output as never;
  };
  const answer = await script({ trigger: run.trigger, files: run.files, tools, call, subagent, signal: run.signal });
  if (answer === undefined || answer === null) return undefined;
  return typeof answer === 'string' ? answer : answer.answer;
}

async function loadScript(path: string): Promise<CoordinatorScript> {
  let module: { default?: unknown; handler?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as typeof module;
  } catch (error) {
    // Plain Node cannot load a .ts script: use its compiled copy under dist/ when there is one.
    const compiled = resolve('dist', relative(process.cwd(), path)).replace(/\.ts$/, '.js');
    if (!(path.endsWith('.ts') && existsSync(compiled)))
      throw new ConfigurationError(`the coordinator script cannot be loaded: ${(error as Error).message}`, { file: path });
    module = (await import(pathToFileURL(compiled).href)) as typeof module;
  }
  const script = module.default ?? module.handler;
  if (typeof script !== 'function') throw new ConfigurationError('the coordinator script must export a default function (context) => answer', { file: path });
  return script as CoordinatorScript;
}

function parseRecorded(output: string): unknown {
  try {
    return JSON.parse(output);
  } catch {
    return output;
  }
}
