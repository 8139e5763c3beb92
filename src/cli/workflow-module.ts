import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { ExitCode } from '../core/errors/troupe-error.js';
import { recordingRequested } from '../model/resolve-model.js';
import type { Workflow } from '../workflow/define-workflow.js';
import type { GoldenCheck } from '../workflow/eval/golden.js';
import type { RunSummary, WorkItemInput } from '../workflow/run-workflow.js';

/** The compiled tree this command runs from (dist/ in the repository): its own crews are compiled there. */
const ownRoot = fileURLToPath(new URL('../../', import.meta.url));

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

export function findWorkflow(name: string): string | undefined {
  return workflowCandidates(name).find((path) => existsSync(path));
}

/** Imports a workflow module; its default export must be what `defineWorkflow` returned. */
export async function loadWorkflowModule(name: string, file = findWorkflow(name)): Promise<WorkflowModule> {
  if (!file) throw new ConfigurationError(`no workflow "${name}": looked for ${workflowCandidates(name).join(', ')}`, { field: 'workflow' });
  const module = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  const workflow = module['default'] as Partial<Workflow<any>> | undefined;
  if (!workflow || typeof workflow !== 'object' || !(workflow.tasks instanceof Map) || typeof workflow.start !== 'string') {
    throw new ConfigurationError('the default export must be a workflow (export default defineWorkflow({ ... }))', { file });
  }
  const checks: Record<string, GoldenCheck> = {};
  for (const [key, value] of Object.entries(module)) if (key !== 'default' && typeof value === 'function') checks[key] = value as GoldenCheck;
  const home = /\.(m?js)$/.test(name) ? dirname(file) : join('crews', name);
  return { file, home, workflow: workflow as Workflow<any>, checks };
}

/**
 * Reads the items of a run: a JSON array of `{ "id"?, "input" }` or of plain inputs. Errors name
 * the file and the item's index; the inputs themselves are checked by the workflow's schema.
 */
export function readWorkItems(file: string): WorkItemInput<unknown>[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(`cannot read the items: ${(error as Error).message}`, { file });
  }
  if (!Array.isArray(data)) throw new ConfigurationError(`the items must be a JSON array of { "id"?, "input" } or of plain inputs, not ${data === null ? 'null' : typeof data}`, { file });
  const ids = new Set<string>();
  return data.map((entry: unknown, index) => {
    const wrapped = entry !== null && typeof entry === 'object' && !Array.isArray(entry) && 'input' in entry && Object.keys(entry).every((key) => key === 'id' || key === 'input');
    if (!wrapped) return { id: `item-${index + 1}`, input: entry };
    const { id, input } = entry as { id?: unknown; input: unknown };
    if (id === undefined) return { id: `item-${index + 1}`, input };
    if (typeof id !== 'string' || !/^[A-Za-z0-9_@+=-][A-Za-z0-9_.@+=-]{0,59}$/.test(id) || id.includes('..')) {
      throw new ConfigurationError(`the id ${JSON.stringify(id)} is not usable: letters, digits and _ . - @ + =, at most 60`, { file, field: `${index}.id` });
    }
    if (ids.has(id)) throw new ConfigurationError(`two items have the id "${id}"`, { file, field: `${index}.id` });
    ids.add(id);
    return { id, input };
  });
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
