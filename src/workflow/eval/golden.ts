import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigurationError, type Location } from '../../core/errors/configuration-error.js';
import type { TroupeErrorOptions } from '../../core/errors/troupe-error.js';
import type { WorkflowGraph } from '../workflow-graph.js';
import type { CheckReport } from '../policy.js';
import { engineStates } from '../run-state.js';

/** Version of golden files this code reads. */
export const goldenVersion = 1;

/**
 * A golden check: code that decides whether an output is acceptable when an exact expectation
 * would be too strict (a free-text reason, a date within a range). Named in a golden file as
 * `{ "check": "<name>" }` and exported by the workflow module under that name.
 */
export type GoldenCheck = (
  output: unknown,
  example: { input: unknown; outputs: Readonly<Record<string, unknown>> },
) => boolean | CheckReport | Promise<boolean | CheckReport>;

/**
 * An expected output. `{ "check": name }` calls a check function; `{ "equals": value }` must be
 * equal exactly; any other value matches like `toMatchObject`: objects need the expected fields
 * (extra fields are ignored), arrays and primitives must be equal.
 */
const expectation = z.unknown();

const workflowExample = z.strictObject({
  name: z.string().min(1),
  input: z.unknown(),
  expect: z.strictObject({
    /** The item's final state (or `awaiting-review`, or one of the workflow's own stages). */
    state: z.string().min(1).optional(),
    /** The routes taken, in order (names of the `when` edges, `loop` for a send-back). */
    route: z.array(z.string()).optional(),
    /** The policy of the review the item waits for, e.g. `high-risk.checkpoint`, `human-step`. */
    review: z.string().optional(),
    /** Words the reason of a rejected or failed item must contain. */
    reason: z.string().optional(),
    outputs: z.record(z.string(), expectation).optional(),
  }),
});

const taskExample = z.strictObject({
  name: z.string().min(1),
  /** Runs only this task (with its policies) on `input`. */
  task: z.string().min(1),
  input: z.unknown(),
  expect: z.strictObject({ output: expectation }),
  /** Where a recorded example came from (`troupe run --record-examples`). */
  recorded: z.strictObject({ run: z.string(), item: z.string(), at: z.number() }).optional(),
});

// Each example is checked against the kind it means (a `task` field makes it task-level), so
// errors talk about that kind's fields instead of a union's "invalid input".
const goldenSchema = z.strictObject({
  version: z.literal(goldenVersion),
  examples: z.array(z.unknown()).min(1),
});

/**
 * A golden example that runs the whole workflow on its input.
 *
 * @useDeclaredType
 */
export type WorkflowExample = z.infer<typeof workflowExample>;
/**
 * A golden example that runs one task (with its policies) on its input.
 *
 * @useDeclaredType
 */
export type TaskExample = z.infer<typeof taskExample>;
export type GoldenExample = WorkflowExample | TaskExample;
export interface GoldenFile {
  version: typeof goldenVersion;
  examples: GoldenExample[];
}

/** A golden file is unreadable, malformed, or names tasks or checks the workflow does not have. */
export class GoldenFileError extends ConfigurationError {
  override readonly code = 'golden_invalid';

  constructor(message: string, where: Location, options: TroupeErrorOptions = {}) {
    super(message, where, options);
  }
}

export function isTaskExample(example: GoldenExample): example is TaskExample {
  return 'task' in example && typeof example.task === 'string';
}

/** Reads and validates a golden file; errors name the file and the field (`examples.2.expect.state`). */
export function loadGolden(path: string): GoldenFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new GoldenFileError(`cannot read the golden examples: ${(error as Error).message}`, { file: path }, { cause: error });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new GoldenFileError(`the golden examples are not valid JSON: ${(error as Error).message}`, { file: path }, { cause: error });
  }
  return parseGolden(data, path);
}

export function parseGolden(data: unknown, file = 'golden examples'): GoldenFile {
  const fail = (issue: z.core.$ZodIssue, prefix: string[] = []) => {
    const path = [...prefix, ...issue.path.map(String)];
    const message = issue.code === 'invalid_value' && path.join('.') === 'version' ? `golden files have "version": ${goldenVersion}` : issue.message;
    return new GoldenFileError(message, { file, field: path.join('.') || 'examples' });
  };
  const top = goldenSchema.safeParse(data);
  if (!top.success) throw fail(top.error.issues[0]!);
  const examples = top.data.examples.map((example, index) => {
    const meant = example && typeof example === 'object' && 'task' in example ? taskExample : workflowExample;
    const parsed = meant.safeParse(example);
    if (!parsed.success) throw fail(parsed.error.issues[0]!, ['examples', String(index)]);
    return parsed.data as GoldenExample;
  });
  return { version: goldenVersion, examples };
}

/** Checks what a golden file names against the workflow: tasks that exist, checks that are exported. */
export function checkGolden(golden: GoldenFile, workflow: WorkflowGraph<any>, checks: Readonly<Record<string, GoldenCheck>>, file = 'golden examples'): void {
  const tasks = [...workflow.tasks.keys()];
  const fail = (field: string, message: string) => {
    throw new GoldenFileError(message, { file, field });
  };
  const checkRef = (value: unknown, field: string) => {
    const name = checkName(value);
    if (name !== undefined && typeof checks[name] !== 'function') {
      const known = Object.keys(checks);
      fail(`${field}.check`, `no check function "${name}" is exported by the workflow module${known.length ? ` (exported: ${known.join(', ')})` : ''}`);
    }
  };
  // The engine's states and the workflow's own stages: the states an item can end or wait in.
  const states = new Set<string>([...engineStates, ...[...workflow.tasks.values()].flatMap((task) => (task.stage ? [task.stage] : []))]);
  const names = new Set<string>();
  for (const [index, example] of golden.examples.entries()) {
    if (names.has(example.name)) fail(`examples.${index}.name`, `two examples are named "${example.name}"; names must be unique, results are compared by name`);
    names.add(example.name);
    if (isTaskExample(example)) {
      if (!workflow.tasks.has(example.task))
        fail(`examples.${index}.task`, `workflow "${workflow.name}" has no task "${example.task}" (tasks: ${tasks.join(', ')})`);
      checkRef(example.expect.output, `examples.${index}.expect.output`);
      continue;
    }
    const state = example.expect.state;
    if (state !== undefined && !states.has(state))
      fail(`examples.${index}.expect.state`, `workflow "${workflow.name}" has no state "${state}" (states: ${[...states].join(', ')})`);
    for (const [task, value] of Object.entries(example.expect.outputs ?? {})) {
      if (!workflow.tasks.has(task))
        fail(`examples.${index}.expect.outputs.${task}`, `workflow "${workflow.name}" has no task "${task}" (tasks: ${tasks.join(', ')})`);
      checkRef(value, `examples.${index}.expect.outputs.${task}`);
    }
  }
}

/** The check a golden expectation names, if it is `{ "check": "<name>" }`. */
export function checkName(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const name = (value as { check?: unknown }).check;
  return keys.length === 1 && typeof name === 'string' ? name : undefined;
}

/** Eval results are kept beside runs and reviews: `evals/<workflow>` holds the latest, the stream `evals.<workflow>` all of them. */
export const evalCollection = 'evals';
export const evalHistoryStream = (workflow: string) => `${evalCollection}.${workflow}`;
