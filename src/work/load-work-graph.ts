import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { Environment } from '../observe/redact-secrets.js';
import { defineWorkGraph, isWorkGraphSpec, type WorkGraphDefinition, type WorkGraphSpec } from './work-graph-definition.js';

/**
 * What a graph module exports (as `default` or `graph`): a definition, a checked spec, or a
 * function of the environment returning either. The enqueuing side and every `troupe worker`
 * load the same module, so they agree on the items, their dependencies and their agents.
 */
export type WorkGraphModuleExport =
  | WorkGraphDefinition
  | WorkGraphSpec
  | ((env: Environment) => WorkGraphDefinition | WorkGraphSpec | Promise<WorkGraphDefinition | WorkGraphSpec>);

/**
 * Loads a graph module by path (`./graph.js`) or by crew name (`website` is
 * `crews/website/graph.js`, or its compiled copy under `dist/`).
 */
export async function loadWorkGraph(nameOrPath: string, env: Environment = process.env): Promise<WorkGraphSpec> {
  const candidates = /\.[cm]?js$/.test(nameOrPath)
    ? [resolve(nameOrPath)]
    : [resolve('crews', nameOrPath, 'graph.js'), resolve('dist', 'crews', nameOrPath, 'graph.js')];
  const found = candidates.find((path) => existsSync(path));
  if (!found)
    throw new ConfigurationError(`no work graph module "${nameOrPath}": looked for ${candidates.join(', ')} (build with npm run build)`, { field: '--graph' });
  const module = (await import(pathToFileURL(found).href)) as { default?: WorkGraphModuleExport; graph?: WorkGraphModuleExport };
  const exported = module.default ?? module.graph;
  if (exported === undefined)
    throw new ConfigurationError(`${found} must export a work graph (default or "graph"): a definition or a function returning one`, { file: found });
  const value = typeof exported === 'function' ? await exported(env) : exported;
  return isWorkGraphSpec(value) ? value : defineWorkGraph(value);
}
