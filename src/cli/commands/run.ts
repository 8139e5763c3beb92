import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Agent, type AgentRunOptions } from '../../agent/agent.js';
import { loadRole, type ToolRegistry } from '../../agent/role-loader.js';
import { defaultModel } from '../../model/default-model.js';
import type { TokenUsage } from '../../model/model-client.js';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import { ExitCode } from '../../core/errors/troupe-error.js';
import { loadCrew } from '../../crew/crew-loader.js';
import type { CrewRunOptions } from '../../crew/crew.js';
import type { Approver } from '../../tools/approval.js';
import { randomIds } from '../../core/ids.js';
import { redactSecretsDeep } from '../../observe/redact-secrets.js';
import { fanOutTrace } from '../../observe/trace-event.js';
import { checkModelString } from '../../model/check-model-string.js';
import { openStateStore } from '../../store/open-state-store.js';
import { resolveBackend, type Backend } from '../../store/backend.js';
import { openJobQueue } from '../../queue/open-job-queue.js';
import { maskRedisUrl } from '../../core/redis-url.js';
import { requeueRun, workflowRunsQueue } from '../../workflow/queued-run.js';
import type { StateStore } from '../../store/state-store.js';
import { recordExamples } from '../../workflow/eval/record-examples.js';
import { listReviews } from '../../workflow/review.js';
import { loadRun } from '../../workflow/run-state.js';
import type { RunLeaseHeldError } from '../../workflow/run-lease.js';
import type { CorruptRecordError } from '../../store/errors/corrupt-record-error.js';
import type { RunSummary, RunWorkflowOptions } from '../../workflow/run-workflow.js';
import { liveOutput, wantsLiveOutput } from '../live-output.js';
import { progressPrinter } from '../progress.js';
import { importUserModule, loadToolsModule } from '../user-module.js';
import { compiledCopies, findRunnable, isRunnablePath, type Runnable } from '../find-runnable.js';
import { runGraph } from '../run-graph.js';
import { recordedStatus, withRecordedRun } from '../recorded-run.js';
import { exitCodeOf, loadWorkflowModule, type WorkflowModule, offlineModel, readCrewRequest, readWorkItems } from '../workflow-module.js';
import { printSummary } from '../workflow-report.js';
import { watchedItems } from '../watch-folder.js';
import { runHandlerConfiguration } from './run-handler.js';

/**
 * `troupe run <name | path>`: runs what findRunnable finds (src/cli/find-runnable.ts): a crew, a
 * workflow, a work graph, a single role file, or a handler configuration (with --trigger).
 * `troupe run --resume <run-id>` continues a workflow run after a crash or a review decision.
 * Only one process continues a run at a time (a lease in the store): while another one runs it,
 * resumes it or waits in it for reviews, `--resume` says who holds it and exits 2, or with
 * `--wait` waits for it to finish and then goes on.
 */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run a crew, a workflow, a work graph or a role file, by name or by path, or continue a workflow run (--resume <run-id>)')
    .argument('[crew]', 'a name (crews/<name>, agents/<name>.yaml) or a path (a crew, role or configuration file, a .js/.ts module, or their folder)')
    .option('--input <file>', 'crew or role: JSON request (a string or { "input": "..." }); workflow: JSON array of items, { "id"?, "input" } or plain inputs')
    .option('--request <text>', 'the request, in words (crews, roles; for a work graph, the message to --item)')
    .option('--item <id>', 'work graph: the item whose agent gets the request (default: the example the graph module exports)')
    .option('--model <provider:model>', `use this model for every agent or model task (e.g. ${defaultModel}, replay:cassette.json, scripted:replies.yaml)`)
    .option(
      '--resume <run-id>',
      'continue this workflow run: decided reviews are applied, done steps are not repeated. If another process is continuing it, exit 2 naming that process (with --wait: wait for it)',
    )
    .option(
      '--wait',
      'keep items that wait for review in this process and go on when someone decides (workflows); with --resume, also wait while another process holds the run',
    )
    .option(
      '--detach',
      'workflows on Redis (REDIS_URL): queue the items for `troupe worker` processes, print the run id and return (follow it: troupe runs show <id> --wait)',
    )
    .option('--watch <folder>', 'workflows: also take items from files as they arrive in this folder, until Ctrl-C or SIGTERM (see itemFromFile)')
    .option('--record-examples <file>', "append each accepted task's input and output to this file, as golden examples (workflows)")
    .option('--trigger <file.json>', 'handler configurations: the trigger to handle, { "source"?, "id"?, "data" }')
    .option('--coordinator <llm|script>', "handler configurations: the coordinator to use instead of the configuration's")
    .option('--json', 'print the whole result as JSON on stdout')
    .option('--quiet', 'no progress lines on stderr')
    .option('--live', "show the models' text on stderr as it streams, with a progress line (default: when stderr is a terminal, without --json or --quiet)")
    .option('--no-live', 'plain progress lines instead of live output')
    .action(async (name: string | undefined, flags: RunFlags) => {
      if (flags.detach && flags.wait)
        throw new ConfigurationError('--detach returns at once; follow the run with troupe runs show <id> --wait instead of --wait', { field: '--wait' });
      if (flags.resume !== undefined) {
        process.exitCode = await resumeWorkflowRun(flags.resume, name, flags);
        return;
      }
      if (name === undefined) throw new ConfigurationError('name a crew, workflow or role to run, or pass --resume <run-id>', { field: 'crew' });
      const runnable = findRunnable(name);
      if (flags.detach && runnable.kind !== 'workflow')
        throw new ConfigurationError(`--detach queues workflow runs for workers; a ${runnable.kind} runs in this process`, { field: '--detach' });
      if (flags.item !== undefined && runnable.kind !== 'graph')
        throw new ConfigurationError(`--item names an item of a work graph; ${runnable.file} is a ${runnable.kind}`, { field: '--item' });
      if (flags.watch !== undefined && runnable.kind !== 'workflow')
        throw new ConfigurationError(`--watch feeds items to a workflow; ${runnable.file} is a ${runnable.kind}`, { field: '--watch' });
      // An option for another kind of runnable would be ignored without a word: say so instead.
      if (flags.recordExamples !== undefined && runnable.kind !== 'workflow')
        throw new ConfigurationError(`--record-examples records a workflow's accepted tasks; ${runnable.file} is a ${runnable.kind}`, {
          field: '--record-examples',
        });
      for (const [flag, given] of [
        ['--trigger', flags.trigger],
        ['--coordinator', flags.coordinator],
      ] as const)
        if (given !== undefined && runnable.kind !== 'handler')
          throw new ConfigurationError(`${flag} is for handler configurations (a YAML file with trigger:); ${runnable.file} is a ${runnable.kind}`, {
            field: flag,
          });
      process.exitCode = await runRunnable(name, runnable, flags);
    });
}

/** Runs what was found; the exit code (DESIGN.md: 0 done, 1 failed, 2 bad input, 3 waiting for review). */
async function runRunnable(target: string, runnable: Runnable, flags: RunFlags): Promise<number> {
  switch (runnable.kind) {
    case 'crew':
      return runCrew(runnable.file, flags);
    case 'workflow':
      return runWorkflowFile(target, runnable, flags);
    case 'role':
      return runRole(runnable.file, flags);
    case 'graph':
      return runGraph(runnable, flags);
    case 'handler':
      return runHandlerConfiguration(runnable.file, flags);
  }
}

export interface RunFlags {
  input?: string;
  request?: string;
  item?: string;
  model?: string;
  resume?: string;
  wait?: boolean;
  detach?: boolean;
  recordExamples?: string;
  watch?: string;
  json?: boolean;
  quiet?: boolean;
  trigger?: string;
  coordinator?: string;
  live?: boolean;
}

async function runCrew(file: string, flags: RunFlags): Promise<number> {
  const { tools, approver } = await toolsBeside(file, "crew's tools module");
  const crew = loadCrew(file, { tools });
  const options: CrewRunOptions = approver ? { approver } : {};
  const model = runModel(flags, dirname(file));
  if (model) options.model = model;
  const live = wantsLiveOutput(flags) ? liveOutput() : undefined;
  if (live) {
    options.trace = live.trace;
    options.streaming = true;
  } else if (!flags.quiet) options.trace = progressPrinter();
  const request = requestFrom(flags);
  // What a model said can quote a key it saw: what is printed is scrubbed of known secrets.
  const result = redactSecretsDeep(
    await withRecordedRun(
      { kind: 'crew', name: crew.name, input: request },
      (recorder) => crew.run(request, recorder ? { ...options, runId: recorder.id, trace: fanOutTrace(options.trace, recorder.trace) } : options),
      (done) => ({ status: recordedStatus(done.status), stopReason: done.stop.reason }),
    ).finally(() => live?.close()),
  );
  if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    process.stdout.write(`${crew.name}: ${result.status} — ${result.stop.reason}\n`);
    printOutput(result.output);
    const total = result.usage.total;
    printUsage(total.turns, total.usage, total.costUsd, result.durationMs);
  }
  return result.status === 'finished' ? ExitCode.done : ExitCode.failed;
}

/**
 * One role file run on a request: the agent alone, with the tools of `tools.js` beside the role
 * file (or its compiled copy), so a new role can be tried before it joins a crew.
 */
async function runRole(file: string, flags: RunFlags): Promise<number> {
  const request = requestFrom(flags);
  if (request === undefined) throw new ConfigurationError(`the role ${file} needs a request: --request "<text>" or --input <file>`, { field: '--request' });
  const { tools, approver } = await toolsBeside(file, "role's tools module");
  const role = loadRole(file, { tools });
  if (!(role instanceof Agent))
    throw new ConfigurationError(`${role.name} is a user-proxy role: it plays the user inside a two-agent crew; run that crew instead`, {
      file,
      field: 'kind',
    });
  const options: AgentRunOptions = approver ? { approver } : {};
  const model = runModel(flags, dirname(file));
  if (model) options.model = model;
  if (!flags.quiet) options.trace = progressPrinter();
  const result = redactSecretsDeep(
    await withRecordedRun(
      { kind: 'agent', name: role.name, input: request },
      (recorder) => role.run(request, recorder ? { ...options, runId: recorder.id, trace: fanOutTrace(options.trace, recorder.trace) } : options),
      (done) => ({ status: recordedStatus(done.status), stopReason: done.stop.reason }),
    ),
  );
  if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    process.stdout.write(`${role.name}: ${result.status} — ${result.stop.reason}\n`);
    printOutput(result.output);
    printUsage(result.turns, result.usage, result.costUsd, result.durationMs);
  }
  return result.status === 'finished' ? ExitCode.done : ExitCode.failed;
}

/** The model of a crew or role run: `--model`, else its folder's cassette when there is no key; checked before anything runs. */
function runModel(flags: RunFlags, home: string): string | undefined {
  const model = flags.model ?? offlineModel(home);
  if (model) checkModelString(model, { field: '--model' });
  return model;
}

function printOutput(output: unknown): void {
  if (output !== undefined) process.stdout.write(`${typeof output === 'string' ? output : JSON.stringify(output, null, 2)}\n`);
}

function printUsage(turns: number, usage: TokenUsage, costUsd: number, durationMs: number): void {
  process.stdout.write(`${turns} model calls, ${usage.inputTokens + usage.outputTokens} tokens, $${costUsd.toFixed(4)}, ${(durationMs / 1000).toFixed(1)}s\n`);
}

async function runWorkflowFile(name: string, runnable: Runnable, flags: RunFlags): Promise<number> {
  if (flags.request !== undefined) throw new ConfigurationError('a workflow takes its items from --input <file>, not --request', { field: '--request' });
  if (flags.input === undefined && flags.watch === undefined)
    throw new ConfigurationError(`workflow "${name}" needs its items: --input <file> with a JSON array, or --watch <folder>`, { field: '--input' });
  if (flags.watch !== undefined && flags.detach)
    throw new ConfigurationError('--watch takes items in this process; run it without --detach', { field: '--watch' });
  const { file } = runnable;
  const module = await loadWorkflowModule(name, file, runnable.home);
  const items = flags.input === undefined ? [] : readWorkItems(flags.input, module.workflow);
  const runId = randomIds('run');
  // Options (the model string, its cassette) are checked before the store is opened: a run rejected at load leaves no trace.
  const options = workflowOptions(module.home, flags, runId);
  const backend = detachableBackend(flags);
  const store = await openStateStore();
  // Loaded by path: the run remembers the file, so `--resume` (and `review approve --resume`) find it.
  const source = isRunnablePath(name) ? resolve(file) : undefined;
  try {
    if (backend) {
      const queue = await openJobQueue({ name: workflowRunsQueue, backend });
      try {
        const started = await module.workflow.enqueue(items, { ...options, store, queue, ...(source ? { source } : {}) });
        if (flags.json) process.stdout.write(`${JSON.stringify(started)}\n`);
        else process.stdout.write(`${started.runId}\n`);
        if (!flags.quiet)
          process.stderr.write(
            `[troupe] queued ${started.queued} of ${items.length} items of ${module.workflow.name} for troupe worker processes on ${maskRedisUrl(backend.url)}; follow the run with: troupe runs show ${started.runId} --wait\n`,
          );
        return ExitCode.done;
      } finally {
        await queue.close({ graceMs: 0 });
      }
    }
    const tell = flags.quiet ? undefined : (text: string) => void process.stderr.write(text);
    const watch = flags.watch === undefined ? undefined : await watchedItems(flags.watch, module, items, runId, tell);
    const live = wantsLiveOutput(flags) ? liveOutput({ items: items.length }) : undefined;
    if (live) {
      options.trace = live.trace;
      options.streaming = true;
    }
    try {
      const summary = await module.workflow.run(watch?.items ?? items, { ...options, store, ...(source ? { source } : {}) });
      return await report(summary, store, flags);
    } finally {
      live?.close();
      watch?.release();
    }
  } finally {
    await store.close();
  }
}

/**
 * Continues a run; its workflow is the one given (a name or a path), else the file it was loaded
 * from (kept in the run record), else the name in the run record. Used by `review approve --resume` too.
 */
export async function resumeWorkflowRun(runId: string, name: string | undefined, flags: RunFlags): Promise<number> {
  if (flags.watch !== undefined) throw new ConfigurationError('--watch starts a new run; a resumed run goes on with the items it has', { field: '--watch' });
  const store = await openStateStore();
  try {
    const run = await loadRun(store, runId);
    if (!run) throw new ConfigurationError(`no run "${runId}" in the store (troupe runs list shows them)`, { field: '--resume' });
    if (run.queued) return await requeueOnWorkers(store, runId, flags);
    const module = await workflowModuleOf(name ?? run.source ?? run.workflow);
    if (!flags.quiet) process.stderr.write(`[troupe] resuming run ${runId} of ${run.workflow} (${run.status})\n`);
    const options: RunWorkflowOptions = { ...workflowOptions(module.home, flags, runId), store };
    if (flags.wait)
      options.waitForLease = {
        pollMs: 1000,
        onWait: once((held: RunLeaseHeldError) => void (flags.quiet || process.stderr.write(`[troupe] waiting: ${held.message}\n`))),
      };
    const summary = await module.workflow.resume(runId, options);
    return await report(summary, store, flags);
  } finally {
    await store.close();
  }
}

/** The workflow module of a name or path as `troupe run` finds it (a folder, a .ts source), else as a workflow name or .js file. */
async function workflowModuleOf(target: string): Promise<WorkflowModule> {
  let runnable: Runnable | undefined;
  try {
    runnable = findRunnable(target);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
  }
  return runnable?.kind === 'workflow' ? loadWorkflowModule(target, runnable.file, runnable.home) : loadWorkflowModule(target);
}

/** The Redis backend a `--detach` run is queued on; undefined without `--detach`. Workers share queued runs only through Redis. */
function detachableBackend(flags: RunFlags): Extract<Backend, { kind: 'redis' }> | undefined {
  if (!flags.detach) return undefined;
  const backend = resolveBackend();
  if (backend.kind !== 'redis')
    throw new ConfigurationError(
      'needs REDIS_URL: a detached run is processed by troupe worker processes, which share its queue through Redis. Without REDIS_URL, run without --detach and this process does the work',
      { field: '--detach' },
    );
  if (flags.recordExamples)
    throw new ConfigurationError('examples are recorded by the process that runs the steps: run without --detach to record them', {
      field: '--record-examples',
    });
  return backend;
}

/** `--resume` of a run on workers: its unfinished items go back on the queue (a review decided meanwhile is applied by the worker). */
async function requeueOnWorkers(store: StateStore, runId: string, flags: RunFlags): Promise<number> {
  const backend = resolveBackend();
  if (backend.kind !== 'redis')
    throw new ConfigurationError(`run "${runId}" runs on troupe worker processes: set REDIS_URL to the Redis they share to continue it`, { field: '--resume' });
  const queue = await openJobQueue({ name: workflowRunsQueue, backend });
  try {
    const count = await requeueRun(store, queue, runId);
    if (flags.json) process.stdout.write(`${JSON.stringify({ runId, queued: count })}\n`);
    else process.stdout.write(`${runId}\n`);
    if (!flags.quiet)
      process.stderr.write(
        `[troupe] queued the next step of ${count} items of run ${runId} for the workers; follow it with: troupe runs show ${runId} --wait\n`,
      );
    return ExitCode.done;
  } finally {
    await queue.close({ graceMs: 0 });
  }
}

function workflowOptions(home: string, flags: RunFlags, runId: string): RunWorkflowOptions {
  const options: RunWorkflowOptions = { runId };
  const model = flags.model ?? offlineModel(home);
  if (model) {
    checkModelString(model, { field: '--model' });
    options.model = model;
  }
  if (!flags.quiet) options.trace = progressPrinter();
  if (flags.wait) options.waitForReviews = { pollMs: 1000 };
  if (flags.recordExamples) options.onTaskDone = recordExamples(flags.recordExamples, () => runId);
  return options;
}

async function report(summary: RunSummary, store: StateStore, flags: RunFlags): Promise<number> {
  const corrupt: CorruptRecordError[] = [];
  const reviews = await listReviews(store, { runId: summary.runId, status: 'pending' }, corrupt);
  if (flags.json) process.stdout.write(`${JSON.stringify(redactSecretsDeep({ ...summary, reviews }), null, 2)}\n`);
  else printSummary(summary, reviews);
  for (const error of corrupt) process.stderr.write(`troupe: ${error.message}\n`);
  return exitCodeOf(summary);
}

function once<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let called = false;
  return (...args) => {
    if (!called) fn(...args);
    called = true;
  };
}

/**
 * A crew's (or a role's) tools come from `tools.js` beside its file (or its compiled copy under
 * dist/), whose default export returns them: tools often need setup, like a work directory. Its
 * named export `approver`, when there is one, decides on the calls that need approval: the
 * program's explicit choice, in code (without it such a call waits for a person).
 */
async function toolsBeside(file: string, what: string): Promise<{ tools: ToolRegistry; approver?: Approver }> {
  const dir = dirname(file);
  const candidates = [resolve(dir, 'tools.js'), ...compiledCopies(join(dir, 'tools.ts')).map((copy) => resolve(copy))];
  const found = candidates.find((path) => existsSync(path));
  if (!found) return { tools: {} };
  const module = await importUserModule(found, what);
  const approver = module['approver'];
  if (approver !== undefined && typeof approver !== 'function')
    throw new ConfigurationError(`${found}: its "approver" export must be a function`, { file: found, field: 'approver' });
  const tools = await (await loadToolsModule(found, what))();
  return approver ? { tools, approver: approver as Approver } : { tools };
}

function requestFrom(flags: RunFlags): string | undefined {
  if (flags.request !== undefined) return flags.request;
  return flags.input === undefined ? undefined : readCrewRequest(flags.input);
}
