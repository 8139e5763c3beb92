import { mkdtempSync, rmSync } from 'node:fs';
import { z } from 'zod';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomIds, systemClock, type Clock } from '../../core/ids.js';
import type { JsonValue } from '../../core/json.js';
import type { ModelClient } from '../../model/model-client.js';
import type { TraceSink } from '../../observe/trace-event.js';
import { FileStore } from '../../store/file-store.js';
import { openStateStore } from '../../store/open-state-store.js';
import { defineRecord } from '../../store/record-schema.js';
import type { StateStore } from '../../store/state-store.js';
import { defineWorkflow, type Workflow } from '../define-workflow.js';
import { getReview } from '../review.js';
import { listItems, readTransitions, type ItemRecord, type ItemState } from '../run-state.js';
import { runWorkflow, type RunWorkflowOptions } from '../run-workflow.js';
import {
  checkGolden,
  evalCollection,
  evalHistoryStream,
  isTaskExample,
  type GoldenCheck,
  type GoldenFile,
  type TaskExample,
  type WorkflowExample,
} from './golden.js';
import { matchExpected } from './match-expected.js';

/** Version of the stored eval result. */
export const evalResultVersion = 1;

export interface ExampleResult {
  name: string;
  /** Set for a task-level example: the one task that ran. */
  task?: string;
  passed: boolean;
  state: ItemState;
  /** Routes taken, in order. */
  route: string[];
  /** Tasks that completed, in the workflow's order. */
  tasks: string[];
  /** The policy of the review the item waits for. */
  review?: string;
  reason?: string;
  outputs: Record<string, JsonValue | undefined>;
  /** What did not match, one line each; empty when the example passed. */
  failures: string[];
}

export interface PassRate {
  passed: number;
  total: number;
}

export interface EvalResult {
  workflow: string;
  /** The model every model task used, when one was forced (`--model`, a cassette). */
  model?: string;
  at: number;
  passed: number;
  total: number;
  /** Per task: expectations on its output that held. */
  tasks: Record<string, PassRate>;
  /** Workflow-level expectations (final state, route, review, reason) that held. */
  workflowChecks: PassRate;
  examples: ExampleResult[];
}

/** The last result of a workflow's evaluation, and its history. */
export const evalRecords = defineRecord<EvalResult>({
  kind: 'evaluation result',
  version: evalResultVersion,
  schema: z.looseObject({
    workflow: z.string(),
    at: z.number(),
    passed: z.number(),
    total: z.number(),
    tasks: z.record(z.string(), z.looseObject({ passed: z.number(), total: z.number() })),
    workflowChecks: z.looseObject({ passed: z.number(), total: z.number() }),
    examples: z.array(z.looseObject({ name: z.string(), passed: z.boolean(), state: z.string(), failures: z.array(z.string()) })),
  }),
});

/** How an example's result differs from the last stored one. */
export interface EvalChange {
  example: string;
  kind: 'new' | 'removed' | 'fixed' | 'broken' | 'route-changed' | 'failures-changed';
  detail: string;
}

export interface EvalReport {
  result: EvalResult;
  /** The last stored result of this workflow, if any. */
  previous?: EvalResult;
  changes: EvalChange[];
}

export interface EvaluateOptions {
  golden: GoldenFile;
  /** Check functions that golden expectations name (`{ "check": "name" }`). */
  checks?: Readonly<Record<string, GoldenCheck>>;
  /** Used by every model task (a live model, `replay:<cassette>`, a scripted model). */
  model?: string | ModelClient;
  /** Where results are kept and compared with the last one (default `openStateStore()`). */
  store?: StateStore;
  /** Keep the result in `store` (default true); false for a dry run. */
  save?: boolean;
  /** Where the examples run; default a temporary file store, removed afterwards, so eval runs never mix with real ones. */
  scratch?: StateStore;
  /** Names the golden file in errors. */
  file?: string;
  clock?: Clock;
  trace?: TraceSink;
}

/**
 * Runs a workflow's golden examples and compares them with what they expect: per task (each
 * expected output) and per workflow (final state, the route taken, the review asked for). The
 * result is stored (`evals/<workflow>`) and compared with the previous one, so a prompt, model
 * or routing change shows which examples it fixed or broke before it ships.
 */
export async function evaluateWorkflow(workflow: Workflow<any>, options: EvaluateOptions): Promise<EvalReport> {
  const checks = options.checks ?? {};
  checkGolden(options.golden, workflow, checks, options.file);
  const clock = options.clock ?? systemClock;
  const scratchDir = options.scratch ? undefined : mkdtempSync(join(tmpdir(), 'troupe-eval-'));
  const scratch = options.scratch ?? new FileStore({ root: scratchDir! });
  // The examples' runs keep the system clock (the evaluation's own clock only dates its result).
  const runOptions: RunWorkflowOptions = { store: scratch, model: options.model, trace: options.trace };
  const examples: ExampleResult[] = new Array(options.golden.examples.length);
  try {
    const whole = options.golden.examples.flatMap((example, index) => (isTaskExample(example) ? [] : [{ example, index }]));
    if (whole.length > 0) {
      const summary = await runWorkflow(
        workflow,
        whole.map(({ example, index }) => ({ id: `example-${index}`, input: example.input })),
        { ...runOptions, runId: randomIds('eval') },
      );
      const found = await observe(scratch, summary.runId);
      for (const { example, index } of whole) examples[index] = await judgeWorkflowExample(example, found.get(`example-${index}`)!, checks);
    }
    const byTask = new Map<string, Array<{ example: TaskExample; index: number }>>();
    for (const [index, example] of options.golden.examples.entries()) {
      if (isTaskExample(example)) byTask.set(example.task, [...(byTask.get(example.task) ?? []), { example, index }]);
    }
    for (const [name, list] of byTask) {
      const task = workflow.tasks.get(name)!;
      const alone = defineWorkflow({ name: `${workflow.name}.${name}`, input: task.input, tasks: [task] });
      const summary = await runWorkflow(
        alone,
        list.map(({ example, index }) => ({ id: `example-${index}`, input: example.input })),
        { ...runOptions, runId: randomIds('eval') },
      );
      const found = await observe(scratch, summary.runId);
      for (const { example, index } of list) examples[index] = await judgeTaskExample(example, found.get(`example-${index}`)!, checks);
    }
  } finally {
    if (scratchDir) {
      await scratch.close();
      rmSync(scratchDir, { recursive: true, force: true });
    }
  }

  const result = summarize(workflow.name, options.golden, examples, clock.now(), options.model);
  const store = options.store ?? (await openStateStore());
  const previous = (await evalRecords.get(store, evalCollection, workflow.name))?.value;
  if (options.save !== false) {
    await evalRecords.put(store, evalCollection, workflow.name, result);
    await evalRecords.append(store, evalHistoryStream(workflow.name), result);
  }
  return { result, ...(previous ? { previous } : {}), changes: compare(previous, result) };
}

interface Observed {
  item: ItemRecord;
  route: string[];
  review?: string;
}

async function observe(store: StateStore, runId: string): Promise<Map<string, Observed>> {
  const transitions = await readTransitions(store, runId);
  const found = new Map<string, Observed>();
  for (const item of await listItems(store, runId)) {
    const route = transitions.filter((t) => t.item === item.id && t.route).map((t) => t.route!);
    const review = item.state === 'awaiting-review' && item.review ? (await getReview(store, item.review)).policy : undefined;
    found.set(item.id, { item, route, ...(review ? { review } : {}) });
  }
  return found;
}

function base(name: string, seen: Observed): ExampleResult {
  const outputs = Object.fromEntries(
    Object.entries(seen.item.tasks)
      .filter(([, task]) => task.status === 'done' && task.output !== undefined)
      .map(([task, record]) => [task, record.output]),
  );
  return {
    name,
    passed: true,
    state: seen.item.state,
    route: seen.route,
    tasks: Object.keys(outputs),
    ...(seen.review ? { review: seen.review } : {}),
    ...(seen.item.reason ? { reason: seen.item.reason } : {}),
    outputs,
    failures: [],
  };
}

async function judgeWorkflowExample(example: WorkflowExample, seen: Observed, checks: Readonly<Record<string, GoldenCheck>>): Promise<ExampleResult> {
  const result = base(example.name, seen);
  const { expect } = example;
  if (expect.state !== undefined && expect.state !== result.state)
    result.failures.push(`state: expected ${expect.state}, got ${result.state}${result.reason ? ` (${result.reason})` : ''}`);
  if (expect.route !== undefined && expect.route.join(' → ') !== result.route.join(' → '))
    result.failures.push(`route: expected ${expect.route.join(' → ') || '(none)'}, got ${result.route.join(' → ') || '(none)'}`);
  if (expect.review !== undefined && expect.review !== result.review)
    result.failures.push(`review: expected ${expect.review}, got ${result.review ?? 'no review'}`);
  if (expect.reason !== undefined && !(result.reason ?? '').includes(expect.reason))
    result.failures.push(`reason: expected it to contain "${expect.reason}", got ${result.reason ? `"${result.reason}"` : 'none'}`);
  for (const [task, expected] of Object.entries(expect.outputs ?? {})) {
    const actual = result.outputs[task];
    const problems =
      actual === undefined
        ? [`${task} did not complete`]
        : (await matchExpected(expected, actual, checks, { input: example.input, outputs: result.outputs })).map((line) => `${task}: ${line}`);
    result.failures.push(...problems);
  }
  result.passed = result.failures.length === 0;
  return result;
}

async function judgeTaskExample(example: TaskExample, seen: Observed, checks: Readonly<Record<string, GoldenCheck>>): Promise<ExampleResult> {
  const result = { ...base(example.name, seen), task: example.task };
  const actual = result.outputs[example.task];
  if (actual === undefined) {
    const why = result.review ? `went to review (${result.review})` : `ended ${result.state}${result.reason ? `: ${result.reason}` : ''}`;
    result.failures.push(`${example.task} gave no output: it ${why}`);
  } else result.failures.push(...(await matchExpected(example.expect.output, actual, checks, { input: example.input, outputs: result.outputs })));
  result.passed = result.failures.length === 0;
  return result;
}

function summarize(workflow: string, golden: GoldenFile, examples: ExampleResult[], at: number, model: string | ModelClient | undefined): EvalResult {
  const tasks: Record<string, PassRate> = {};
  const workflowChecks: PassRate = { passed: 0, total: 0 };
  const count = (rate: PassRate, ok: boolean) => ((rate.total += 1), (rate.passed += ok ? 1 : 0));
  for (const [index, example] of golden.examples.entries()) {
    const result = examples[index]!;
    if (isTaskExample(example)) {
      count((tasks[example.task] ??= { passed: 0, total: 0 }), result.passed);
      continue;
    }
    for (const task of Object.keys(example.expect.outputs ?? {}))
      count((tasks[task] ??= { passed: 0, total: 0 }), !result.failures.some((line) => line.startsWith(`${task}:`) || line.startsWith(`${task} `)));
    const { state, route, review, reason } = example.expect;
    if (state !== undefined || route !== undefined || review !== undefined || reason !== undefined) {
      count(workflowChecks, !result.failures.some((line) => /^(state|route|review|reason):/.test(line)));
    }
  }
  const modelId = typeof model === 'string' ? model : model?.id;
  return {
    workflow,
    ...(modelId ? { model: modelId } : {}),
    at,
    passed: examples.filter((e) => e.passed).length,
    total: examples.length,
    tasks,
    workflowChecks,
    examples,
  };
}

/** What changed since the last stored result: examples fixed, broken, re-routed, added or removed. */
export function compare(previous: EvalResult | undefined, current: EvalResult): EvalChange[] {
  if (!previous) return [];
  const changes: EvalChange[] = [];
  const before = new Map(previous.examples.map((example) => [example.name, example]));
  for (const now of current.examples) {
    const was = before.get(now.name);
    before.delete(now.name);
    if (!was) changes.push({ example: now.name, kind: 'new', detail: now.passed ? 'passes' : `fails: ${now.failures.join('; ')}` });
    else if (was.passed && !now.passed) changes.push({ example: now.name, kind: 'broken', detail: now.failures.join('; ') });
    else if (!was.passed && now.passed) changes.push({ example: now.name, kind: 'fixed', detail: `was failing: ${was.failures.join('; ')}` });
    else if (!now.passed && was.failures.join('\n') !== now.failures.join('\n'))
      changes.push({ example: now.name, kind: 'failures-changed', detail: now.failures.join('; ') });
    if (was && was.route.join(' → ') !== now.route.join(' → '))
      changes.push({ example: now.name, kind: 'route-changed', detail: `${was.route.join(' → ') || '(none)'} ⇒ ${now.route.join(' → ') || '(none)'}` });
  }
  for (const name of before.keys()) changes.push({ example: name, kind: 'removed', detail: 'no longer in the golden file' });
  return changes;
}
