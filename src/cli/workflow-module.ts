import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DefinitionFile, fileSizeLimits } from '../core/definition-file.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { DefinitionFileError, type FileIssue } from '../core/errors/definition-file-error.js';
import { ExitCode } from '../core/errors/troupe-error.js';
import { recordingRequested } from '../model/resolve-model.js';
import type { Workflow } from '../workflow/define-workflow.js';
import type { GoldenCheck } from '../workflow/eval/golden.js';
import type { RunSummary, WorkItemInput } from '../workflow/run-workflow.js';
import { sourceFolderOf } from './find-runnable.js';
import { ownRoot } from './package-root.js';
import { importUserModule } from './user-module.js';

export interface WorkflowModule {
  file: string;
  /** The directory of the workflow's sources and data (crews/<name>): golden.json, cassette.json. */
  home: string;
  workflow: Workflow<any>;
  /** Every exported function but the default: golden files name them as checks. */
  checks: Record<string, GoldenCheck>;
}

/** Where `crews/<name>/workflow.js` may be: in a user's project as is, or compiled under dist/. */
export function workflowCandidates(name: string): string[] {
  if (/\.(m?js)$/.test(name)) return [name];
  const source = join('crews', name, 'workflow.js');
  return [source, join(ownRoot, 'crews', name, 'workflow.js'), join('dist', 'crews', name, 'workflow.js')];
}

/**
 * Where a workflow's data lives (cassette.json, golden.json): crews/<name> in the current folder,
 * or, for one of the package's own examples run from a project that installed it (found under
 * ownRoot), crews/<name> in the package, which ships it beside its compiled dist/crews.
 */
function workflowHome(name: string, file: string): string {
  const local = join('crews', name);
  if (existsSync(local) || resolve(file) !== resolve(ownRoot, 'crews', name, 'workflow.js')) return local;
  return join(ownRoot, '..', 'crews', name);
}

export function findWorkflow(name: string): string | undefined {
  return workflowCandidates(name).find((path) => existsSync(path));
}

/** Imports a workflow module (its data, cassette.json and golden.json, are in `home`, by default its source folder); its default export must be what `defineWorkflow` returned. */
export async function loadWorkflowModule(name: string, file = findWorkflow(name), home?: string): Promise<WorkflowModule> {
  if (!file) throw new ConfigurationError(`no workflow "${name}": looked for ${workflowCandidates(name).join(', ')}`, { field: 'workflow' });
  const module = await importUserModule(file, 'workflow module');
  const workflow = module['default'] as Partial<Workflow<any>> | undefined;
  if (
    !workflow ||
    typeof workflow !== 'object' ||
    !(workflow.tasks instanceof Map) ||
    typeof workflow.start !== 'string' ||
    typeof workflow.run !== 'function'
  ) {
    throw new ConfigurationError('the default export must be a workflow (export default defineWorkflow({ ... }))', { file });
  }
  const checks: Record<string, GoldenCheck> = {};
  for (const [key, value] of Object.entries(module)) if (key !== 'default' && typeof value === 'function') checks[key] = value as GoldenCheck;
  return { file, home: home ?? (/\.(m?js)$/.test(name) ? sourceFolderOf(file) : workflowHome(name, file)), workflow: workflow as Workflow<any>, checks };
}

/** Reads an input file (`--input`): JSON, at most `fileSizeLimits.data`; syntax errors name the line and column. */
function readInputFile(file: string): DefinitionFile {
  return DefinitionFile.read(file, { format: 'json', maxBytes: fileSizeLimits.data, what: 'input file' });
}

/**
 * Reads the items of a run: a JSON array of `{ "id"?, "input" }` or of plain inputs. With the
 * workflow, each input is checked against its schema before anything runs (bad inputs are the
 * user's to fix: exit 2, rather than a run of failed items). Every problem is reported at once,
 * with its line and path in the file.
 */
export function readWorkItems(file: string, workflow?: Workflow<any>): WorkItemInput<unknown>[] {
  const source = readInputFile(file);
  const data = source.data;
  if (!Array.isArray(data))
    throw source.error([], `the items must be a JSON array of { "id"?, "input" } or of plain inputs, not ${data === null ? 'null' : typeof data}`);
  const issues: FileIssue[] = [];
  const ids = new Set<string>();
  const items = data.map((entry: unknown, index): { id: string; input: unknown; at: PropertyKey[] } => {
    const wrapped =
      entry !== null &&
      typeof entry === 'object' &&
      !Array.isArray(entry) &&
      'input' in entry &&
      Object.keys(entry).every((key) => key === 'id' || key === 'input');
    if (!wrapped) return { id: `item-${index + 1}`, input: entry, at: [index] };
    const { id, input } = entry as { id?: unknown; input: unknown };
    const at = [index, 'input'];
    if (id === undefined) return { id: `item-${index + 1}`, input, at };
    if (typeof id !== 'string' || !/^[A-Za-z0-9_@+=-][A-Za-z0-9_.@+=-]{0,59}$/.test(id) || id.includes('..')) {
      issues.push(source.issue([index, 'id'], `the id ${JSON.stringify(id)} is not usable: letters, digits and _ . - @ + =, at most 60`));
    } else if (ids.has(id)) issues.push(source.issue([index, 'id'], `two items have the id "${id}"`));
    ids.add(String(id));
    return { id: String(id), input, at };
  });
  if (workflow) {
    for (const item of items) {
      const parsed = workflow.input.safeParse(item.input);
      if (parsed.success) continue;
      for (const issue of parsed.error.issues) {
        const path = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
        for (const field of path) {
          const what = issue.code === 'unrecognized_keys' ? `unknown field "${String(field.at(-1))}"` : issue.message;
          issues.push(source.issue([...item.at, ...field], `item ${item.id} does not fit the input of workflow "${workflow.name}": ${what}`));
        }
      }
    }
  }
  if (issues.length > 0) throw new DefinitionFileError(issues);
  return items.map(({ id, input }) => ({ id, input }));
}

/** The request of a crew run from `--input`: a JSON string, or an object whose only field is an "input" string. */
export function readCrewRequest(file: string): string {
  const source = readInputFile(file);
  const value = source.data;
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { input?: unknown }).input === 'string') {
    const unknown = Object.keys(value).filter((key) => key !== 'input');
    if (unknown.length > 0)
      throw new DefinitionFileError(unknown.map((key) => source.issue([key], `unknown field "${key}": the input is a JSON string or { "input": "..." }`)));
    return (value as { input: string }).input;
  }
  throw source.error(['input'], 'the input must be a JSON string or an object with an "input" string');
}

/**
 * Without a provider key, a crew or workflow that ships a cassette replays it, and says so. With
 * TROUPE_RECORD set it is the cassette too, key or not: resolveModel records it from TROUPE_RECORD_MODEL.
 */
export function offlineModel(home: string): string | undefined {
  const cassette = join(home, 'cassette.json');
  if (recordingRequested(process.env)) return `replay:${cassette}`;
  if (!existsSync(cassette) || process.env.ANTHROPIC_API_KEY || process.env.OPENAI_API_KEY) return undefined;
  process.stderr.write(`[troupe] no API key is set: replaying the recorded transcript ${cassette}.\n`);
  return `replay:${cassette}`;
}

export function exitCodeOf(summary: RunSummary): number {
  if (summary.status === 'done') return ExitCode.done;
  if (summary.status === 'awaiting-review') return ExitCode.awaitingReview;
  return ExitCode.failed;
}
