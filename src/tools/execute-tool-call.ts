import { AwaitingReviewError } from '../core/errors/awaiting-review-error.js';
import { HaltError } from '../core/errors/halt-error.js';
import { isTroupeError } from '../core/errors/troupe-error.js';
import type { ValidationIssue } from '../core/validation-issue.js';
import { formatIssues } from '../core/validation-issue.js';
import type { Clock } from '../core/ids.js';
import type { ToolCallPart, ToolResultPart } from '../model/model-client.js';
import type { TraceSink } from '../observe/trace-event.js';
import type { Approver } from './approval.js';
import type { FileAccess, Tool, ToolContext } from './define-tool.js';
import { hasLastingEffects, type EffectScope } from './outbox.js';
import type { ToolSet } from './tool-set.js';

export interface ToolExecution {
  runId: string;
  agent?: string;
  clock: Clock;
  trace?: TraceSink | undefined;
  signal?: AbortSignal | undefined;
  approver?: Approver | undefined;
  files?: FileAccess | undefined;
  /** Records side-effecting calls and answers repeated ones from the record (see `Outbox`). */
  effects?: EffectScope | undefined;
}

const traceOutputLimit = 2000;

/**
 * Runs one tool call the model asked for and returns the result the model will see. Nothing the
 * model can do makes this throw: an unknown tool, arguments that are not JSON or fail the
 * schema, a tool that throws or times out all become error results the model can react to, plus
 * trace events. The exceptions are deliberate control flow: a call that needs approval with no
 * approver (AwaitingReviewError), and a run cancelled by its caller.
 */
export async function executeToolCall(call: ToolCallPart, tools: ToolSet, execution: ToolExecution): Promise<ToolResultPart> {
  const { trace, clock } = execution;
  // A cancelled run starts nothing (an already-aborted signal would never fire its abort event).
  execution.signal?.throwIfAborted();
  const tool = tools.get(call.name);
  if (!tool) {
    const available = tools.names.join(', ') || 'none';
    // Recorded, not only answered: a model asking for a tool it was not given (perhaps told to
    // by a page it read) is worth seeing in the trace.
    reportInvalid(execution, call, 'tool-input', [
      { path: [], message: `no tool "${call.name}" is available here (available: ${available})`, code: 'unknown_tool' },
    ]);
    return errorResult(call, `Unknown tool "${call.name}". Available tools: ${available}.`);
  }
  if (call.invalidInput) {
    const { error, cutOff } = call.invalidInput;
    reportInvalid(execution, call, 'tool-input', [{ path: [], message: error, ...(cutOff ? { code: 'cut_off' } : {}) }]);
    if (cutOff) {
      return errorResult(
        call,
        `The call to "${call.name}" was not run: your answer hit the output limit (max tokens) while writing its arguments, so they were cut off. ` +
          `Make the call shorter, or split the work into several smaller calls.`,
      );
    }
    return errorResult(call, `The call to "${call.name}" was not run. ${sentence(error)} Send a JSON object that matches the tool's schema.`);
  }
  const parsed = tool.input.safeParse(call.input);
  if (!parsed.success) {
    reportInvalid(execution, call, 'tool-input', parsed.error.issues);
    return errorResult(call, `Invalid arguments for "${call.name}": ${formatIssues(parsed.error.issues)}. Fix them and call again.`);
  }
  const input = parsed.data;
  // Taken before any await, so parallel calls get their keys in the order the model made them.
  const effectKey = execution.effects && hasLastingEffects(tool.sideEffects) ? execution.effects.keyFor(tool.name, input) : undefined;
  if (effectKey) {
    const recorded = await execution.effects!.outbox.get(effectKey);
    if (recorded) {
      trace?.({
        type: 'tool-call-end',
        at: clock.now(),
        runId: execution.runId,
        ...agentOf(execution),
        callId: call.id,
        tool: tool.name,
        durationMs: 0,
        isError: recorded.isError === true,
        output: cut(recorded.output),
        replayed: true,
      });
      return { type: 'tool-result', callId: call.id, name: call.name, output: recorded.output, ...(recorded.isError ? { isError: true } : {}) };
    }
  }

  if (tool.needsApproval && (tool.needsApproval === true || tool.needsApproval(input))) {
    const rejection = await askApproval(tool, call, input, execution);
    if (rejection !== undefined) return errorResult(call, rejection);
  }

  const startedAt = clock.now();
  if (trace) trace({ type: 'tool-call-start', at: startedAt, runId: execution.runId, ...agentOf(execution), callId: call.id, tool: tool.name, input });
  const result = await runTool(tool, call, input, execution, effectKey);
  // Recorded the moment it ends, errors too: a repeated conversation must see what the first one saw.
  if (effectKey)
    await execution.effects!.outbox.record(effectKey, {
      tool: tool.name,
      output: result.output,
      ...(result.isError ? { isError: true } : {}),
      at: clock.now(),
    });
  if (trace) {
    const endedAt = clock.now();
    trace({
      type: 'tool-call-end',
      at: endedAt,
      runId: execution.runId,
      ...agentOf(execution),
      callId: call.id,
      tool: tool.name,
      durationMs: endedAt - startedAt,
      isError: result.isError === true,
      output: cut(result.output),
    });
  }
  return result;
}

// Handed to tools run with neither a timeout nor a cancellable run: nothing can abort them.
const neverAborted = new AbortController().signal;

function cut(output: string): string {
  return output.length > traceOutputLimit ? `${output.slice(0, traceOutputLimit)}…` : output;
}

async function runTool(tool: Tool, call: ToolCallPart, input: unknown, execution: ToolExecution, idempotencyKey: string | undefined): Promise<ToolResultPart> {
  try {
    const output =
      tool.timeoutMs || execution.signal
        ? await runCancellable(tool, call, input, execution, idempotencyKey)
        : await tool.run(input, contextFor(call, execution, neverAborted, idempotencyKey));
    if (tool.output) {
      const checked = tool.output.safeParse(output);
      if (!checked.success) {
        reportInvalid(execution, call, 'tool-output', checked.error.issues);
        return errorResult(call, `Tool "${tool.name}" returned a result that does not match its output schema: ${formatIssues(checked.error.issues)}.`);
      }
      return { type: 'tool-result', callId: call.id, name: call.name, output: serialize(checked.data) };
    }
    return { type: 'tool-result', callId: call.id, name: call.name, output: serialize(output) };
  } catch (error) {
    if (execution.signal?.aborted) throw execution.signal.reason ?? error;
    if (error instanceof AwaitingReviewError || error instanceof HaltError) throw error;
    // A nested agent's provider or configuration failure (a crew member, a delegate) is not the
    // model's to fix: telling it would let the run "finish" on top of a broken setup.
    if (isTroupeError(error) && (error.fault === 'provider' || error.fault === 'configuration')) throw error;
    if (error instanceof ToolTimedOut) {
      return errorResult(call, `Tool "${tool.name}" timed out after ${error.timeoutMs} ms.`);
    }
    const message = error instanceof Error ? error.message : String(error);
    return errorResult(call, `Tool "${tool.name}" failed: ${message}`);
  }
}

/**
 * Both a timeout and the caller's cancellation abort the tool's signal, and the call stops
 * waiting then even if the tool ignores the signal.
 */
async function runCancellable(tool: Tool, call: ToolCallPart, input: unknown, execution: ToolExecution, idempotencyKey: string | undefined): Promise<unknown> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(execution.signal?.reason);
  execution.signal?.addEventListener('abort', onAbort, { once: true });
  const stopped = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  const timer = tool.timeoutMs ? setTimeout(() => controller.abort(new ToolTimedOut(tool.timeoutMs!)), tool.timeoutMs) : undefined;
  try {
    return await Promise.race([Promise.resolve().then(() => tool.run(input, contextFor(call, execution, controller.signal, idempotencyKey))), stopped]);
  } finally {
    if (timer) clearTimeout(timer);
    execution.signal?.removeEventListener('abort', onAbort);
  }
}

function contextFor(call: ToolCallPart, execution: ToolExecution, signal: AbortSignal, idempotencyKey: string | undefined): ToolContext {
  const context: ToolContext = { callId: call.id, signal, runId: execution.runId };
  if (execution.agent !== undefined) context.agent = execution.agent;
  if (execution.files) context.files = execution.files;
  if (idempotencyKey !== undefined) context.idempotencyKey = idempotencyKey;
  return context;
}

async function askApproval(tool: Tool, call: ToolCallPart, input: unknown, execution: ToolExecution): Promise<string | undefined> {
  const request = { tool: tool.name, callId: call.id, input, sideEffects: tool.sideEffects, runId: execution.runId, ...agentOf(execution) };
  if (!execution.approver) {
    throw new AwaitingReviewError(`Tool "${tool.name}" needs approval before it runs, and no approver is configured.`, undefined, {
      approval: request,
    });
  }
  const decision = await execution.approver(request);
  if (decision.approved) return undefined;
  const by = decision.by ? ` by ${decision.by}` : '';
  return `The call to "${tool.name}" was rejected${by}${decision.note ? `: ${decision.note}` : '.'} Do not retry it unchanged.`;
}

function reportInvalid(execution: ToolExecution, call: ToolCallPart, target: 'tool-input' | 'tool-output', issues: readonly ValidationIssue[]): void {
  if (!execution.trace) return;
  execution.trace({
    type: 'validation-failure',
    at: execution.clock.now(),
    runId: execution.runId,
    ...agentOf(execution),
    target,
    tool: call.name,
    callId: call.id,
    issues: issues.map(({ path, message, code }) => (code === undefined ? { path, message } : { path, message, code })),
  });
}

function agentOf(execution: ToolExecution): { agent?: string } {
  return execution.agent === undefined ? {} : { agent: execution.agent };
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function errorResult(call: ToolCallPart, output: string): ToolResultPart {
  return { type: 'tool-result', callId: call.id, name: call.name, output, isError: true };
}

/** What the model reads: strings as they are, everything else as JSON. */
export function serialize(output: unknown): string {
  if (typeof output === 'string') return output;
  if (output === undefined) return '';
  try {
    // JSON.stringify gives undefined (not a string) for functions and symbols.
    return JSON.stringify(output) ?? String(output);
  } catch {
    return String(output);
  }
}

class ToolTimedOut extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}
