import { z } from 'zod';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { ValidationIssue } from '../core/validation-issue.js';
import { formatIssues } from '../core/validation-issue.js';
import { HaltError } from '../core/errors/halt-error.js';
import { isTroupeError } from '../core/errors/troupe-error.js';
import {
  addUsage,
  emptyUsage,
  textOf,
  type AssistantMessage,
  type Message,
  type ModelCallOptions,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
  type TokenUsage,
  type ToolCallPart,
  type ToolChoice,
  type ToolResultPart,
} from '../model/model-client.js';
import { defaultMaxOutputTokens } from '../model/provider-options.js';
import { resolveModel } from '../model/resolve-model.js';
import { withTracing } from '../model/with-tracing.js';
import { costOf, priceOf } from '../observe/pricing.js';
import type { FileAccess, Tool } from '../tools/define-tool.js';
import { executeToolCall, type ToolExecution } from '../tools/execute-tool-call.js';
import { defaultFinishToolName, finishTool } from '../tools/finish-tool.js';
import { ToolSet } from '../tools/tool-set.js';
import { CallEstimator } from './call-estimator.js';
import { FinishValidationError } from './finish-validation-error.js';
import { runContext, type RunContext, type RunOptions } from './run-context.js';
import { streamRun, type RunStreamEvent } from './stream-run.js';
import { systemMessage, type Persona } from './instructions.js';
import { abortSignal, anyOf, maxTurns, type NextStep, type RunProgress, type TerminationCondition, type TerminationVerdict } from './termination.js';

/** One way for an agent to end its work: a tool whose arguments, validated against `output`, are the result. */
export interface ExitTool<Value = unknown> {
  description?: string;
  output: z.ZodType<Value>;
}

/** The result of an agent with several exits: which one it took, and the validated value. */
export type ExitResult<Exits extends Record<string, ExitTool>> = {
  [Name in keyof Exits & string]: { exit: Name; value: Exits[Name] extends ExitTool<infer Value> ? Value : never };
}[keyof Exits & string];

export interface AgentOptions<Output> extends Persona {
  name: string;
  /** One line on what this agent is for; managers choose speakers and delegates by it. */
  description?: string;
  tools?: readonly Tool[];
  /** May hand work to other members of its crew (hierarchical crews give it a delegation tool). */
  allowDelegation?: boolean;
  /** A model string (`anthropic:claude-sonnet-5-5`, `replay:cassette.json`, ...) or client; default `TROUPE_MODEL`. */
  model?: string | ModelClient;
  /** The result's schema. The finish tool's arguments are validated against it. Default: a string. */
  output?: z.ZodType<Output>;
  finishToolName?: string;
  /**
   * Several ways to end instead of one finish tool (a UserProxy replies or declares the goal met;
   * a group member speaks or ends the chat). The result is `{ exit, value }`; see `agentWithExits`.
   */
  exits?: Record<string, ExitTool>;
  /** How many invalid finish calls are answered with the errors before the run fails (default 3). */
  maxFinishAttempts?: number;
  /** When the run must stop if the agent has not finished. Default: 50 model calls. */
  termination?: TerminationCondition;
  toolChoice?: ToolChoice;
  maxOutputTokens?: number;
  temperature?: number;
}

/**
 * A run's context (any part of it: `runId`, `clock`, `ids`, `trace`, `signal`, `approver`, `model`,
 * `effects`, budgets as `termination`; see `RunContext`) and what only an agent run takes.
 */
export interface AgentRunOptions extends RunOptions {
  /** The files of the trigger being handled, passed on to every tool call (`context.files`). */
  files?: FileAccess | undefined;
  /** Earlier messages of this conversation; the run continues it. */
  history?: readonly Message[];
}

interface RunRecord {
  runId: string;
  agent: string;
  model: string;
  /** Every message of the conversation, the system message excepted. */
  transcript: Message[];
  usage: TokenUsage;
  costUsd: number;
  turns: number;
  toolCalls: number;
  durationMs: number;
}

export interface AgentFinished<Output> extends RunRecord {
  status: 'finished';
  output: Output;
  stop: { kind: 'finish'; reason: string };
}

export interface AgentStopped extends RunRecord {
  status: 'stopped';
  output: undefined;
  stop: { kind: 'termination' } & TerminationVerdict;
}

export type AgentRunResult<Output> = AgentFinished<Output> | AgentStopped;

const defaultTermination = maxTurns(50);

/**
 * A conversational agent: it calls tools until it calls its finish tool with a valid result, or a
 * termination condition stops it. Everything the model can get wrong (unknown tools, bad
 * arguments, an invalid result) is reported back to it; only control flow and provider failures throw.
 */
export class Agent<Output = string> {
  readonly name: string;
  readonly description: string;
  readonly model: string | ModelClient | undefined;
  readonly tools: ToolSet;
  readonly outputSchema: z.ZodType<Output>;
  readonly systemMessage: string;
  readonly #options: AgentOptions<Output>;

  /** The options this agent was made from (its own tools, without the finish tools). */
  get options(): Readonly<AgentOptions<Output>> {
    return this.#options;
  }
  readonly #exits = new Map<string, { input: z.ZodType; result: (value: any) => Output }>();
  readonly #exitNames: string;
  #resolvedModel: ModelClient | undefined;
  #modelFrom: Agent<any> | undefined;

  constructor(options: AgentOptions<Output>) {
    if (!options.name?.trim()) throw new ConfigurationError('An agent needs a name.', { field: 'name' });
    this.#options = options;
    this.name = options.name;
    this.description = options.description ?? options.goal ?? options.role ?? options.name;
    this.model = options.model;
    this.outputSchema = options.output ?? (z.string() as unknown as z.ZodType<Output>);
    this.tools = new ToolSet(options.tools ?? []);
    const exits: Record<string, ExitTool> = options.exits ?? { [options.finishToolName ?? defaultFinishToolName]: { output: this.outputSchema } };
    const several = options.exits !== undefined;
    for (const [name, exit] of Object.entries(exits)) {
      if (this.tools.has(name)) {
        throw new ConfigurationError(`Agent "${this.name}" has a tool named "${name}", the name of one of its finish tools.`, { field: 'tools' });
      }
      // Both vendors want an object as tool input: other result schemas travel wrapped as { result }.
      const wrapped = !(exit.output instanceof z.ZodObject);
      const input = wrapped ? z.object({ result: exit.output }) : exit.output;
      const unwrap = wrapped ? (value: { result: unknown }) => value.result : (value: unknown) => value;
      this.#exits.set(name, { input, result: several ? (value) => ({ exit: name, value: unwrap(value) }) as Output : (value) => unwrap(value) as Output });
      this.tools.add(finishTool(input, exit.description === undefined ? { name } : { name, description: exit.description }));
    }
    const names = [...this.#exits.keys()].map((name) => `\`${name}\``);
    this.#exitNames = names.length === 1 ? `the ${names[0]} tool` : `one of the tools ${names.join(' or ')}`;
    this.systemMessage = systemMessage(this.name, options, this.#exitNames);
  }

  /**
   * A copy of this agent with some options replaced, e.g. a task's output schema. The output schema
   * and the finish tools (`exits`) go together: an override of either replaces both, and a copy
   * that overrides neither keeps this agent's.
   */
  with<Other = Output>(overrides: Partial<AgentOptions<Other>>): Agent<Other> {
    const { output, exits, ...rest } = this.#options;
    const replacesResult = overrides.output !== undefined || overrides.exits !== undefined;
    const copy = new Agent<Other>({
      ...(rest as AgentOptions<Other>),
      ...(replacesResult ? {} : ({ ...(output ? { output } : {}), ...(exits ? { exits } : {}) } as unknown as Partial<AgentOptions<Other>>)),
      ...overrides,
    });
    // The copy talks to the same model: it shares the client (and a replay cassette's position),
    // resolved when first needed, instead of building another.
    if (!('model' in overrides)) copy.#modelFrom = this;
    return copy;
  }

  /** Runs the agent on `input` (a request in words) and returns its typed result or why it stopped. */
  async run(input?: string, options: AgentRunOptions = {}): Promise<AgentRunResult<Output>> {
    const context = runContext(options);
    const { clock, runId, trace } = context;
    const model = context.model === undefined ? this.#ownModel() : context.models(context.model, { where: { field: 'model' } });
    const termination = this.#terminationFor(context);
    const transcript: Message[] = options.history ? [...options.history] : [];
    if (input !== undefined) transcript.push({ role: 'user', content: input });
    if (transcript.length === 0) {
      throw new ConfigurationError(`Agent "${this.name}" was run with no input and no history.`, { field: 'input' });
    }

    if (termination.needsPrice && !priceOf(model.id)) {
      throw new ConfigurationError(
        `Agent "${this.name}" has a cost budget, but model "${model.id}" has no known price, so the budget could never fire. ` +
          `Register one before the run with registerPrice('${model.id}', { inputPerMillion, outputPerMillion }), or use tokenBudget.`,
        { field: 'termination' },
      );
    }

    const startedAt = clock.now();
    const usage = emptyUsage();
    const progress: RunProgress = { turns: 0, toolCalls: 0, usage, costUsd: 0, startedAt, now: startedAt, lastText: '', next: modelCallStep };
    const cancel = cancellation(termination, startedAt);
    // Tool calls run in this run's context, cancelled with it (its deadline included), with the trigger's files.
    const execution: ToolExecution = { ...context, agent: this.name, signal: cancel?.signal, files: options.files };
    const request: ModelRequest = this.#request(transcript);
    const callOptions: ModelCallOptions = { caller: { agent: this.name, runId } };
    if (cancel) callOptions.signal = cancel.signal;
    // Model calls are traced by a wrapper, so a workflow model step reports them the same way.
    const traced = trace
      ? withTracing(model, { trace, clock, runId, agent: this.name, turn: () => progress.turns + 1, ...(context.streaming ? { streaming: true } : {}) })
      : model;
    const estimator = termination.needsEstimates ? new CallEstimator(request, this.#options.maxOutputTokens) : undefined;
    const maxFinishAttempts = this.#options.maxFinishAttempts ?? 3;
    let finishFailures = 0;

    const record = (): RunRecord => ({
      runId,
      agent: this.name,
      model: model.id,
      transcript,
      usage,
      costUsd: progress.costUsd,
      turns: progress.turns,
      toolCalls: progress.toolCalls,
      durationMs: clock.now() - startedAt,
    });
    const stopped = (verdict: TerminationVerdict): AgentStopped => {
      answerDanglingCalls(transcript, `not run: ${verdict.reason}`);
      if (trace) trace({ type: 'termination', at: clock.now(), runId, agent: this.name, ...verdict });
      return { ...record(), status: 'stopped', output: undefined, stop: { kind: 'termination', ...verdict } };
    };

    try {
      for (;;) {
        progress.now = clock.now();
        progress.next = estimator ? estimator.next(model.id, progress, transcript) : modelCallStep;
        const verdict = termination.check(progress);
        if (verdict) return stopped(verdict);

        let response: ModelResponse;
        try {
          response = await traced.generate(estimator ? bounded(request, termination.outputAllowance?.(progress)) : request, callOptions);
        } catch (error) {
          if (cancel?.signal.aborted) return stopped(cancel.verdict(clock.now()));
          throw error;
        }
        progress.turns += 1;
        addUsage(usage, response.usage);
        const cost = costOf(model.id, response.usage);
        progress.costUsd += cost;
        estimator?.observe(response.usage, transcript);

        const content = response.stopReason === 'max-tokens' ? markCutOff(response.content) : response.content;
        const assistant: AssistantMessage = { role: 'assistant', content, name: this.name };
        transcript.push(assistant);
        progress.lastText = textOf(content);
        const calls = content.filter((part): part is ToolCallPart => part.type === 'tool-call');

        if (calls.length === 0) {
          const cut = response.stopReason === 'max-tokens' ? 'Your answer hit the output limit and was cut off; keep the next one shorter. ' : '';
          transcript.push({
            role: 'user',
            content: `${cut}Continue. When the work is done, call ${this.#exitNames} with the result; text alone does not end the work.`,
          });
          continue;
        }

        const finishCall = calls.find((call) => this.#exits.has(call.name));
        const work = finishCall ? calls.filter((call) => !this.#exits.has(call.name)) : calls;
        if (work.length > 0) {
          progress.now = clock.now();
          progress.next = { kind: 'tool-calls', count: work.length };
          const refused = termination.check(progress);
          if (refused) {
            transcript.push({ role: 'tool', content: calls.map((call) => notRun(call, `not run: ${refused.reason}`)) });
            return stopped(refused);
          }
        }
        const results = new Map<string, ToolResultPart>();
        if (work.length === 1) results.set(work[0]!.id, await executeToolCall(work[0]!, this.tools, execution));
        else if (work.length > 1) {
          const done = await Promise.all(work.map((call) => executeToolCall(call, this.tools, execution)));
          for (let i = 0; i < work.length; i++) results.set(work[i]!.id, done[i]!);
        }
        progress.toolCalls += work.length;

        let finished: { output: Output } | undefined;
        if (finishCall) {
          const checked = this.#checkFinish(finishCall);
          if (checked.ok) {
            finished = { output: checked.output };
            results.set(finishCall.id, { type: 'tool-result', callId: finishCall.id, name: finishCall.name, output: 'Finished.' });
          } else {
            finishFailures++;
            if (trace)
              trace({
                type: 'validation-failure',
                at: clock.now(),
                runId,
                agent: this.name,
                target: 'finish',
                tool: finishCall.name,
                callId: finishCall.id,
                issues: checked.issues,
              });
            results.set(finishCall.id, {
              type: 'tool-result',
              callId: finishCall.id,
              name: finishCall.name,
              output: `The result is invalid: ${formatIssues(checked.issues)}. Fix it and call \`${finishCall.name}\` again.`,
              isError: true,
            });
            if (finishFailures >= maxFinishAttempts) {
              transcript.push({ role: 'tool', content: calls.map((call) => results.get(call.id) ?? notRun(call, 'not run')) });
              throw new FinishValidationError(this.name, finishFailures, checked.issues, transcript, {
                usage,
                costUsd: progress.costUsd,
                turns: progress.turns,
              });
            }
          }
        }
        transcript.push({
          role: 'tool',
          content: calls.map((call) => results.get(call.id) ?? notRun(call, `ignored: only the first call of ${this.#exitNames} counts`)),
        });

        if (finished) {
          if (trace) trace({ type: 'agent-finish', at: clock.now(), runId, agent: this.name, output: finished.output });
          return { ...record(), status: 'finished', output: finished.output, stop: { kind: 'finish', reason: `${this.name} called ${finishCall!.name}` } };
        }
      }
    } catch (error) {
      if (error instanceof HaltError) return stopped(error.verdict);
      if (cancel?.signal.aborted && !isTroupeError(error)) return stopped(cancel.verdict(clock.now()));
      throw error;
    } finally {
      cancel?.dispose();
    }
  }

  /**
   * Runs the agent as `run` does, as events while it works: the run's trace events as they
   * happen, the model's text among them as it is written (`model-text-delta`; models are asked to
   * stream), then `{ type: 'run-end', result }`. A failed run throws from the iteration. Leaving
   * the loop early aborts the run. `options.trace`, when given, receives the same events.
   */
  stream(input?: string, options: AgentRunOptions = {}): AsyncGenerator<RunStreamEvent<AgentRunResult<Output>>, void, undefined> {
    return streamRun((streaming) => this.run(input, { ...options, ...streaming }), options);
  }

  // Resolved once: a model string builds an SDK client (or reads a cassette), which runs should share.
  #ownModel(): ModelClient {
    return (this.#resolvedModel ??= this.#modelFrom
      ? this.#modelFrom.#ownModel()
      : resolveModel(this.model, { where: { field: `agents.${this.name}.model` } }));
  }

  #terminationFor(options: RunContext): TerminationCondition {
    const own = this.#options.termination ?? defaultTermination;
    const extra: TerminationCondition[] = [];
    if (options.termination) extra.push(options.termination);
    if (options.signal) extra.push(abortSignal(options.signal));
    return extra.length === 0 ? own : anyOf(own, ...extra);
  }

  #request(transcript: Message[]): ModelRequest {
    const request: ModelRequest = { system: this.systemMessage, messages: transcript, tools: this.tools.specs };
    const { toolChoice, maxOutputTokens, temperature } = this.#options;
    if (toolChoice !== undefined) request.toolChoice = toolChoice;
    if (maxOutputTokens !== undefined) request.maxOutputTokens = maxOutputTokens;
    if (temperature !== undefined) request.temperature = temperature;
    return request;
  }

  #checkFinish(call: ToolCallPart): { ok: true; output: Output } | { ok: false; issues: ValidationIssue[] } {
    if (call.invalidInput) {
      const message = call.invalidInput.cutOff
        ? 'the answer hit the output limit (max tokens) while writing the arguments, so they are cut off; give a shorter result'
        : call.invalidInput.error;
      return { ok: false, issues: [{ path: [], message }] };
    }
    const exit = this.#exits.get(call.name)!;
    const parsed = exit.input.safeParse(call.input);
    if (!parsed.success) return { ok: false, issues: parsed.error.issues.map(({ path, message, code }) => ({ path, message, code })) };
    return { ok: true, output: exit.result(parsed.data) };
  }
}

/**
 * The request with its max output tokens lowered to what the budgets leave. Without a maximum of
 * its own the request is capped at the providers' default, which a budget must not silently raise.
 */
function bounded(request: ModelRequest, allowance: number | undefined): ModelRequest {
  if (allowance === undefined) return request;
  const cap = Math.max(1, Math.floor(Math.min(allowance, request.maxOutputTokens ?? defaultMaxOutputTokens)));
  return cap === request.maxOutputTokens ? request : { ...request, maxOutputTokens: cap };
}

/**
 * A reply stopped by the output limit ends in the middle of its last block: a tool call there
 * has cut-off arguments, even when what arrived happens to parse. It is marked so the model is
 * told to make the call shorter instead of being told only that its JSON is broken.
 */
function markCutOff(content: AssistantMessage['content']): AssistantMessage['content'] {
  const last = content.at(-1);
  if (last?.type !== 'tool-call') return content;
  const raw = last.invalidInput?.raw ?? JSON.stringify(last.input ?? {});
  return [
    ...content.slice(0, -1),
    {
      ...last,
      input: undefined,
      invalidInput: { raw, error: 'The answer hit the output limit (max tokens) while writing these arguments, so they are cut off.', cutOff: true },
    },
  ];
}

const modelCallStep: NextStep = {
  kind: 'model-call',
  estimatedTokens: 0,
  estimatedCostUsd: 0,
  estimatedInputTokens: 0,
  expectedOutputTokens: 0,
  estimatedInputCostUsd: 0,
  outputTokenCostUsd: 0,
};

/**
 * A run stopped between a model's tool calls and their results (a timeout or a bound during the
 * calls) would leave calls unanswered, and providers refuse such a conversation when it is
 * continued: answer them as not run.
 */
function answerDanglingCalls(transcript: Message[], why: string): void {
  const last = transcript.at(-1);
  if (last?.role !== 'assistant') return;
  const calls = last.content.filter((part): part is ToolCallPart => part.type === 'tool-call');
  if (calls.length > 0) transcript.push({ role: 'tool', content: calls.map((call) => notRun(call, why)) });
}

function notRun(call: ToolCallPart, why: string): ToolResultPart {
  return { type: 'tool-result', callId: call.id, name: call.name, output: why, isError: true };
}

/**
 * One controller that aborts the call in flight when the run's deadline passes or its caller's
 * signal aborts. Created only when the termination has a deadline or a signal, to keep plain runs cheap.
 */
function cancellation(termination: TerminationCondition, startedAt: number) {
  const deadline = termination.deadline?.(startedAt);
  const outer = termination.signal;
  if (deadline === undefined && !outer) return undefined;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let firedBy: 'deadline' | 'signal' | undefined;
  const onAbort = () => {
    firedBy ??= 'signal';
    controller.abort(outer?.reason);
  };
  if (outer) {
    if (outer.aborted) onAbort();
    else outer.addEventListener('abort', onAbort, { once: true });
  }
  if (deadline !== undefined && !controller.signal.aborted) {
    timer = setTimeout(
      () => {
        firedBy ??= 'deadline';
        controller.abort(new Error('deadline passed'));
      },
      Math.max(0, deadline - startedAt),
    );
  }
  return {
    signal: controller.signal,
    verdict(now: number): TerminationVerdict {
      if (firedBy === 'deadline') {
        return {
          condition: 'timeout',
          reason: `the run passed its deadline (${deadline! - startedAt} ms) during a call`,
          detail: { limitMs: deadline! - startedAt, elapsedMs: now - startedAt },
        };
      }
      const reason = outer?.reason instanceof Error ? `: ${outer.reason.message}` : '';
      return { condition: 'abort-signal', reason: `aborted by the caller${reason}`, detail: {} };
    },
    dispose() {
      if (timer) clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

/** An agent with several finish tools; its result says which one it called: `{ exit, value }`. */
export function agentWithExits<Exits extends Record<string, ExitTool>>(
  options: Omit<AgentOptions<ExitResult<Exits>>, 'output' | 'exits' | 'finishToolName'> & { exits: Exits },
): Agent<ExitResult<Exits>> {
  return new Agent<ExitResult<Exits>>(options);
}
