import { createHash } from 'node:crypto';
import { validateName } from '../store/store-validation.js';
import { Agent } from '../agent/agent.js';
import { deriveRunContext, mergeRunOptions, runContext, type RunOptions } from '../agent/run-context.js';
import { costBudget, maxToolCalls, maxTurns, timeout, tokenBudget, type TerminationCondition } from '../agent/termination.js';
import { HaltError } from '../core/errors/halt-error.js';
import { isTroupeError } from '../core/errors/troupe-error.js';
import type { Crew } from '../crew/crew.js';
import { fanOutTrace, type TraceEvent, type TraceSink } from '../observe/trace-event.js';
import { recordRun } from '../workflow/run-record.js';
import type { StateStore } from '../store/state-store.js';
import { defineRecord } from '../store/record-schema.js';
import type { Tool } from '../tools/define-tool.js';
import type { ToolRegistry } from '../agent/role-loader.js';
import { z } from 'zod';
import type { WorkflowTask } from '../workflow/workflow-task.js';
import { matchTrigger, type Configuration } from './configuration.js';
import { adhocAgentTool, crewTool, defaultAgentTermination, taskTool, type DelegateContext } from './delegates.js';
import { runScript } from './script-coordinator.js';
import type { Trigger } from './trigger.js';
import { fileTools, VirtualFiles } from './virtual-files.js';
import { Worklist, type WorkEntry } from './worklist.js';
import { EffectScope } from '../tools/outbox.js';
import { storeOutbox } from '../workflow/store-outbox.js';

/** A handler's defaults for every trigger's run (any part of a `RunContext` but its id, which is each run's own), and what it handles triggers with. */
export interface HandlerOptions extends Omit<RunOptions, 'runId'> {
  configurations: readonly Configuration[];
  /** Where approved tools come from, by name. */
  tools: ToolRegistry;
  /** Workflow tasks and crews a configuration may offer its llm coordinator, by name. */
  delegates?: { tasks?: readonly WorkflowTask[]; crews?: readonly Crew<any>[] };
  /** Relative file references of triggers are read from here (default: the working directory). */
  fileRoot?: string;
  /** Outcomes, worklists and their changes are recorded here when given. */
  store?: StateStore;
  /** Also record each trigger's run (timeline, model and tool calls) in `store`, for `troupe runs` and the dashboard (run-record.ts). */
  recordRuns?: boolean;
  /** Where `final_answer: post` answers go: back to where the trigger came from. `model` replaces every configuration's model. */
  post?: (answer: string, trigger: Trigger, configuration: Configuration) => void | Promise<void>;
}

/** One trigger's run: its context (given parts replace the handler's defaults) and, optionally, the coordinator to use. */
export interface HandleOptions extends RunOptions {
  coordinator?: 'llm' | 'script';
}

export interface ToolCallRecord {
  tool: string;
  input: unknown;
  output: string;
  isError: boolean;
  /** `coordinator`, or the subagent or ad-hoc agent that made the call. */
  by: string;
}

/** What happened to a trigger, explained: every outcome, including "no configuration" and "two configurations", is recorded. */
export interface HandlerOutcome {
  runId: string;
  trigger: string;
  status: 'done' | 'stopped' | 'failed' | 'no-match' | 'ambiguous';
  why: string;
  configuration?: string;
  coordinator?: 'llm' | 'script';
  answer?: string;
  disposition?: 'used' | 'posted' | 'discarded';
  toolCalls: ToolCallRecord[];
  stop?: { condition: string; reason: string; detail: Record<string, unknown> };
  files: { listed: string[]; read: number };
  worklist?: WorkEntry[];
  agentsCreated?: Array<{ name: string; tools: string[]; status: string }>;
  costUsd: number;
  turns: number;
}

export const handlerRunsCollection = 'handler-runs';

/** What one trigger's handling came to, kept per run id. Written without a version field before: those read as version 1. */
export const handlerRunRecords = defineRecord<HandlerOutcome>({
  kind: 'handler run',
  version: 1,
  unversioned: 1,
  schema: z.looseObject({
    runId: z.string(),
    trigger: z.string(),
    status: z.enum(['done', 'stopped', 'failed', 'no-match', 'ambiguous']),
    why: z.string(),
    toolCalls: z.array(z.unknown()),
    files: z.looseObject({ listed: z.array(z.string()), read: z.number() }),
    costUsd: z.number(),
    turns: z.number(),
  }),
});

/**
 * Receives triggers, picks the one configuration that matches, builds the trigger's virtual files
 * and runs the configuration with its coordinator: a model choosing among the approved tools
 * (`llm`), or reviewed code using the same tools (`script`). Both leave the same kind of trace.
 */
export class Handler {
  readonly #options: HandlerOptions;

  constructor(options: HandlerOptions) {
    this.#options = options;
  }

  /** The configurations it chooses among: a worker reads their queue triggers to know which queues to serve. */
  get configurations(): readonly Configuration[] {
    return this.#options.configurations;
  }

  /**
   * This handler with `defaults` for whatever its own options leave unset: how a worker gives a
   * module's handler the backend's store and its progress trace without overriding the module's choices.
   */
  withDefaults(defaults: Partial<HandlerOptions>): Handler {
    const own = Object.fromEntries(Object.entries(this.#options).filter(([, value]) => value !== undefined));
    return new Handler({ ...defaults, ...own } as HandlerOptions);
  }

  async handle(trigger: Trigger, run: HandleOptions = {}): Promise<HandlerOutcome> {
    const { store, recordRuns, configurations } = this.#options;
    if (!store || !recordRuns) return this.#handle(trigger, run);
    const name = configurations.find((configuration) => matchTrigger(configuration, trigger).matches)?.name ?? 'no configuration';
    const recorder = recordRun(store, { kind: 'handler', name, input: trigger, ...(run.runId ? { id: run.runId } : {}) });
    try {
      const outcome = await this.#handle(trigger, { ...run, runId: recorder.id, trace: fanOutTrace(run.trace ?? this.#options.trace, recorder.trace) });
      await recorder.finish({ status: outcome.status === 'done' ? 'finished' : outcome.status === 'stopped' ? 'stopped' : 'failed', stopReason: outcome.why });
      return outcome;
    } catch (error) {
      await recorder.finish({ status: 'failed', stopReason: (error as Error).message });
      throw error;
    }
  }

  /**
   * Records that `trigger` ends without being handled: its queue gave up on it because the
   * processes handling it died (`ProcessOptions.onAbandoned`). A failed outcome saying why, under
   * a run id made from the trigger's, so a report made twice is kept once.
   */
  async abandon(trigger: Trigger, why: string): Promise<HandlerOutcome> {
    const files = { listed: (trigger.files ?? []).map((file) => file.name), read: 0 };
    return this.#record({ runId: abandonedRunId(trigger.id), trigger: trigger.id, status: 'failed', why, toolCalls: [], files, costUsd: 0, turns: 0 });
  }

  async #handle(trigger: Trigger, run: HandleOptions): Promise<HandlerOutcome> {
    const options = this.#options;
    const context = runContext(mergeRunOptions(options, run), 'handler');
    const { runId } = context;
    const base = { runId, trigger: trigger.id, toolCalls: [], files: { listed: (trigger.files ?? []).map((f) => f.name), read: 0 }, costUsd: 0, turns: 0 };
    const matches = options.configurations.map((configuration) => ({ configuration, result: matchTrigger(configuration, trigger) }));
    const chosen = matches.filter((m) => m.result.matches).map((m) => m.configuration);
    if (chosen.length !== 1) {
      const why =
        chosen.length === 0
          ? `no configuration handles this ${trigger.kind} trigger: ${matches.map((m) => `${m.configuration.name} (${m.result.matches ? '' : m.result.why})`).join('; ') || 'none are defined'}`
          : `${chosen.length} configurations match this trigger (${chosen.map((c) => c.name).join(', ')}); make their trigger conditions exclusive`;
      return this.#record({ ...base, status: chosen.length === 0 ? 'no-match' : 'ambiguous', why });
    }
    const configuration = chosen[0]!;
    const coordinator = run.coordinator ?? configuration.coordinator;
    const files = new VirtualFiles(trigger.files ?? [], options.fileRoot);
    const approved = this.#approvedTools(configuration);
    const toolCalls: ToolCallRecord[] = [];
    // A script's tool calls do not pass through an agent, whose sink scrubs secrets: scrub here too.
    const trace = recordToolCalls(toolCalls, context.trace);
    const controller = new AbortController();
    const limits = configuration.limits;
    // The llm coordinator's own timeout condition aborts its calls; the script needs this timer.
    const timer =
      limits.timeout_ms && coordinator === 'script'
        ? setTimeout(() => controller.abort(new Error(`the configuration's time limit of ${limits.timeout_ms} ms passed`)), limits.timeout_ms)
        : undefined;
    const signal = context.signal ? AbortSignal.any([context.signal, controller.signal]) : controller.signal;
    const spent = { costUsd: 0, turns: 0 };
    // Keyed by the trigger, not the run: a redelivered trigger (a retried queue job) gets a new run
    // id but must not repeat what the first delivery already did.
    const effects = options.store
      ? new EffectScope(storeOutbox(options.store), `trigger.${configuration.name}.${trigger.kind}.${trigger.source ?? ''}.${trigger.id}`)
      : undefined;
    // The coordinator's run, and through it every delegate's: the configuration's model unless the handler's replaces it.
    const coordinatorRun = deriveRunContext(context, { trace, signal, effects, model: context.model ?? configuration.model });
    const outcome: HandlerOutcome = { ...base, toolCalls, status: 'done', why: '', configuration: configuration.name, coordinator };
    try {
      if (coordinator === 'script') {
        const answer = await runScript({
          configuration: configuration.name,
          scriptPath: configuration.scriptPath!,
          trigger,
          files,
          tools: [...approved, ...fileTools(files)],
          run: coordinatorRun,
          signal,
          maxToolCalls: limits.max_tool_calls,
          subagentTermination: termination(configuration, spent),
          onSubagentRun: (result) => {
            spent.costUsd += result.costUsd;
            spent.turns += result.turns;
          },
        });
        if (answer !== undefined) outcome.answer = answer;
        outcome.why = `the script of ${configuration.name} finished`;
      } else {
        const delegation: DelegateContext = {
          run: { ...coordinatorRun, approver: coordinatorRun.approver ?? (() => ({ approved: false, note: 'no approver is configured' })) },
          termination: defaultAgentTermination,
          files,
        };
        const delegates = this.#delegateTools(configuration, delegation, approved, outcome);
        const worklist = configuration.delegates?.worklist ? new Worklist(options.store, runId) : undefined;
        const agent = new Agent({
          name: 'coordinator',
          instructions: `${configuration.prompt.trim()}\n\nUse only the tools you have. ${files.list().length ? 'The trigger came with files: read them with read_file when you need them.' : ''}${worklist ? '\nKeep a worklist with plan_work and update_work: plan first, re-prioritize as results come in, and finish only when nothing is open.' : ''}`,
          tools: [...approved, ...fileTools(files), ...delegates, ...(worklist?.tools() ?? [])],
          output: z.object({ answer: z.string().describe('Your final answer') }).superRefine((_, check) => {
            const open = worklist?.open() ?? [];
            if (open.length) check.addIssue({ code: 'custom', message: `the worklist still has open items: ${open.map((e) => e.id).join(', ')}` });
          }),
          termination: termination(configuration, spent),
        });
        const result = await agent.run(describeTrigger(trigger, files), { ...coordinatorRun, files });
        spent.costUsd += result.costUsd;
        spent.turns += result.turns;
        if (worklist) outcome.worklist = worklist.sorted();
        if (result.status === 'finished') {
          outcome.answer = result.output.answer;
          outcome.why = `the coordinator of ${configuration.name} finished`;
        } else {
          outcome.status = 'stopped';
          outcome.stop = { condition: result.stop.condition, reason: result.stop.reason, detail: result.stop.detail };
          outcome.why = `the coordinator of ${configuration.name} was stopped: ${result.stop.reason}`;
        }
      }
    } catch (error) {
      if (error instanceof HaltError) {
        outcome.status = 'stopped';
        outcome.stop = error.verdict;
        outcome.why = error.message;
      } else if (signal.aborted && !isTroupeError(error)) {
        outcome.status = 'stopped';
        outcome.stop = { condition: 'timeout', reason: (signal.reason as Error)?.message ?? 'aborted', detail: { limitMs: limits.timeout_ms } };
        outcome.why = outcome.stop.reason;
      } else if (isTroupeError(error) && (error.fault === 'configuration' || error.fault === 'user')) {
        throw error;
      } else {
        outcome.status = 'failed';
        outcome.why = (error as Error).message;
      }
    } finally {
      if (timer) clearTimeout(timer);
    }
    outcome.costUsd = spent.costUsd;
    outcome.turns = spent.turns;
    outcome.files.read = files.readCount;
    await this.#dispose(outcome, configuration, trigger);
    return this.#record(outcome);
  }

  /** Whether a registered tool changes the world (`write` or `external`): what golden expectations compare. */
  hasSideEffects(name: string): boolean {
    const registry = this.#options.tools;
    const tool = Array.isArray(registry) ? (registry as readonly Tool[]).find((t) => t.name === name) : (registry as Record<string, Tool>)[name];
    return tool?.sideEffects === 'write' || tool?.sideEffects === 'external';
  }

  #approvedTools(configuration: Configuration): Tool[] {
    const registry = this.#options.tools;
    const lookup = (name: string) =>
      Array.isArray(registry) ? (registry as readonly Tool[]).find((tool) => tool.name === name) : (registry as Record<string, Tool>)[name];
    return configuration.tools.map((name) => {
      const tool = lookup(name);
      if (!tool) throw new HaltError('unregistered-tool', `configuration ${configuration.name} approves tool "${name}", which is not registered`);
      return tool;
    });
  }

  #delegateTools(configuration: Configuration, context: DelegateContext, approved: Tool[], outcome: HandlerOutcome): Tool[] {
    const wanted = configuration.delegates;
    if (!wanted) return [];
    const tools: Tool[] = [];
    for (const name of wanted.tasks) {
      const task = this.#options.delegates?.tasks?.find((t) => t.name === name);
      if (!task) throw new HaltError('unregistered-task', `configuration ${configuration.name} offers task "${name}", which the handler was not given`);
      tools.push(taskTool(task, context));
    }
    for (const name of wanted.crews) {
      const crew = this.#options.delegates?.crews?.find((c) => c.name === name);
      if (!crew) throw new HaltError('unregistered-crew', `configuration ${configuration.name} offers crew "${name}", which the handler was not given`);
      tools.push(crewTool(crew, context));
    }
    if (wanted.adhoc_agents) tools.push(adhocAgentTool(approved, context, (outcome.agentsCreated = [])));
    return tools;
  }

  async #dispose(outcome: HandlerOutcome, configuration: Configuration, trigger: Trigger): Promise<void> {
    if (outcome.answer === undefined || outcome.status !== 'done') return;
    if (configuration.final_answer === 'discard') {
      outcome.disposition = 'discarded';
      delete outcome.answer;
    } else if (configuration.final_answer === 'post') {
      await this.#options.post?.(outcome.answer, trigger, configuration);
      outcome.disposition = 'posted';
    } else outcome.disposition = 'used';
  }

  async #record(outcome: HandlerOutcome): Promise<HandlerOutcome> {
    // Through JSON first: a stop's detail may hold values (dates, errors) that are not JSON as they are.
    if (this.#options.store) await handlerRunRecords.put(this.#options.store, handlerRunsCollection, outcome.runId, JSON.parse(JSON.stringify(outcome)));
    return outcome;
  }
}

/** The configuration's limits as termination conditions; budgets count what subagents already spent. */
function termination(configuration: Configuration, spent: { costUsd: number }): TerminationCondition {
  const limits = configuration.limits;
  let condition = maxTurns(limits.max_turns).or(maxToolCalls(limits.max_tool_calls));
  if (limits.token_budget) condition = condition.or(tokenBudget(limits.token_budget));
  if (limits.cost_budget) condition = condition.or(costBudget(Math.max(0, limits.cost_budget - spent.costUsd)));
  if (limits.timeout_ms) condition = condition.or(timeout(limits.timeout_ms));
  return condition;
}

function describeTrigger(trigger: Trigger, files: VirtualFiles): string {
  const listed = files.list();
  return [
    `A ${trigger.kind} trigger${trigger.source ? ` from ${trigger.source}` : ''} (id ${trigger.id}):`,
    JSON.stringify(trigger.data, null, 2),
    listed.length ? `Files: ${listed.map((f) => f.name).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
}

/** Keeps each completed tool call (who, what, result) while passing every event on. */
function recordToolCalls(into: ToolCallRecord[], next: TraceSink | undefined): TraceSink {
  const inputs = new Map<string, unknown>();
  return (event: TraceEvent) => {
    if (event.type === 'tool-call-start') inputs.set(event.callId, event.input);
    if (event.type === 'tool-call-end')
      into.push({ tool: event.tool, input: inputs.get(event.callId), output: event.output, isError: event.isError, by: event.agent ?? 'coordinator' });
    // A call to a tool the configuration does not approve is refused, and kept with the others.
    if (event.type === 'validation-failure' && event.issues.some((issue) => issue.code === 'unknown_tool')) {
      into.push({ tool: event.tool, input: null, output: `refused: ${event.issues[0]!.message}`, isError: true, by: event.agent ?? 'coordinator' });
    }
    next?.(event);
  };
}

/** The run id of a trigger given up on: `<trigger id>.abandoned` when that is a valid store name, else one made from its hash. */
function abandonedRunId(triggerId: string): string {
  const readable = `${triggerId}.abandoned`;
  try {
    return validateName('id', readable);
  } catch {
    return `abandoned-${createHash('sha256').update(triggerId).digest('hex').slice(0, 24)}`;
  }
}
