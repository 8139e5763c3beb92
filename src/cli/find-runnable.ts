import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, relative, resolve } from 'node:path';
import { DefinitionFile } from '../core/definition-file.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { ownRoot, packageRoot } from './package-root.js';

export { ownRoot, packageRoot };

/**
 * What `troupe run <name | path>` found to run. `file` is what is loaded (a compiled `.js` for
 * code); `home` is the folder of its sources and data (cassette.json, golden.json), which for a
 * compiled file is the folder of its `.ts` source.
 */
export type Runnable =
  /** A crew file (crew.yaml). */
  | { kind: 'crew'; file: string; home: string }
  /** A workflow module (`export default defineWorkflow(...)`). */
  | { kind: 'workflow'; file: string; home: string }
  /** A work graph module (`export default` a graph definition): its items, each owned by an agent. */
  | { kind: 'graph'; file: string; home: string }
  /** A single role file (agents/*.yaml), run on `--request`. */
  | { kind: 'role'; file: string; home: string }
  /** A handler configuration: a YAML file whose top level has `trigger:`. */
  | { kind: 'handler'; file: string; home: string };

export type RunnableKind = Runnable['kind'];

const crewFiles = ['crew.yaml', 'crew.yml', 'crew.json'];
const definitionExtension = /\.(ya?ml|json)$/i;
const sourceExtension = /\.(m?ts)$/;
const moduleExtension = /\.(m?js)$/;

/**
 * Finds what to run from a name or a path, and says what kind of thing it is.
 *
 * - A path (it has a `/`, or names an existing file or folder): a crew, role or handler
 *   configuration file (told apart by their top-level fields), a `.js` workflow or graph module,
 *   a `.ts` module (its compiled copy under dist/ is run), or a folder holding one of those.
 * - A name: the folder `crews/<name>` (in this project, else the package's own examples), then a
 *   role file `agents/<name>.yaml`.
 *
 * Nothing found is a ConfigurationError naming every place looked (exit 2).
 */
export function findRunnable(target: string): Runnable {
  const looked: string[] = [];
  const found = isRunnablePath(target) ? fromPath(target, looked) : fromName(target, looked);
  if (found) return found;
  throw new ConfigurationError(
    `nothing to run named "${target}": looked for ${looked.join(', ')} (a crew.yaml, a workflow.js or graph.js module, compiled with npm run build, a handler configuration with "trigger:", or a role file)`,
    { field: 'crew' },
  );
}

/** Whether `troupe run` reads its argument as a path rather than a name. */
export function isRunnablePath(target: string): boolean {
  return target.includes('/') || target.includes('\\') || target.startsWith('.') || /\.[a-z0-9]+$/i.test(target);
}

function fromName(name: string, looked: string[]): Runnable | undefined {
  const folders = [join('crews', name)];
  const own = join(packageRoot, 'crews', name);
  if (resolve(own) !== resolve(folders[0]!)) folders.push(own);
  for (const folder of folders) {
    const found = inFolder(folder, looked);
    if (found) return found;
  }
  for (const extension of ['yaml', 'yml', 'json']) {
    const file = join('agents', `${name}.${extension}`);
    looked.push(file);
    if (existsSync(file)) return { kind: 'role', file, home: 'agents' };
  }
  return undefined;
}

function fromPath(path: string, looked: string[]): Runnable | undefined {
  if (isFolder(path)) return inFolder(normalize(path).replace(/(.)[\\/]+$/, '$1'), looked);
  if (definitionExtension.test(path)) {
    looked.push(path);
    return existsSync(path) ? { kind: definitionKind(path), file: path, home: dirname(path) } : undefined;
  }
  if (sourceExtension.test(path)) {
    // A TypeScript module runs as its compiled copy: dist/ of this project, or of the package for its own examples.
    for (const file of compiledCopies(path)) {
      looked.push(file);
      if (existsSync(file)) return { kind: moduleKind(file), file, home: dirname(path) };
    }
    return undefined;
  }
  looked.push(path);
  if (!existsSync(path)) return undefined;
  if (moduleExtension.test(path)) return { kind: moduleKind(path), file: path, home: sourceFolderOf(path) };
  throw new ConfigurationError(`${path} is neither a crew, role or handler configuration file (.yaml, .yml, .json) nor a module (.js, .ts)`, {
    field: 'crew',
  });
}

/** What a folder holds to run: the first of runnablesIn. */
function inFolder(folder: string, looked: string[]): Runnable | undefined {
  return runnablesIn(folder, looked)[0];
}

/**
 * Everything a folder holds to run, in the order `troupe run <folder>` prefers them: a crew file, a
 * workflow module, a graph module (each as is, or compiled from its .ts), then every handler
 * configuration. `looked` collects the places looked at, for an error that names them.
 */
export function runnablesIn(folder: string, looked: string[] = []): Runnable[] {
  const found: Runnable[] = [];
  const crew = crewFiles.map((name) => join(folder, name)).find((file) => (looked.push(file), existsSync(file)));
  if (crew) found.push({ kind: 'crew', file: crew, home: folder });
  for (const kind of ['workflow', 'graph'] as const) {
    const module = [join(folder, `${kind}.js`), ...compiledCopies(join(folder, `${kind}.ts`))].find((file) => (looked.push(file), existsSync(file)));
    if (module) found.push({ kind, file: module, home: folder });
  }
  looked.push(join(folder, '*.yaml with "trigger:"'));
  for (const file of handlerConfigurationsIn(folder)) found.push({ kind: 'handler', file, home: folder });
  return found;
}

/** The YAML files of a folder whose top level has `trigger:` (handler configurations), by name. */
export function handlerConfigurationsIn(folder: string): string[] {
  let names: string[];
  try {
    names = readdirSync(folder).filter((name) => /\.ya?ml$/i.test(name));
  } catch {
    return [];
  }
  return names
    .sort()
    .map((name) => join(folder, name))
    .filter((file) => {
      try {
        return topLevelOf(file)['trigger'] !== undefined;
      } catch {
        return false; // A broken file of the folder is reported when it is run by its path.
      }
    });
}

/** A definition file's kind, by its top-level fields: `trigger` a handler configuration, `process` or `agents` a crew, else a role. */
export function definitionKind(file: string): 'crew' | 'role' | 'handler' {
  // A crew file by its name is not read twice: the crew loader reports its problems as a crew file's.
  if (crewFiles.includes(basename(file))) return 'crew';
  const top = topLevelOf(file);
  if (top['trigger'] !== undefined) return 'handler';
  if (top['process'] !== undefined || top['agents'] !== undefined) return 'crew';
  return 'role';
}

function topLevelOf(file: string): Record<string, unknown> {
  const data = DefinitionFile.read(file, { what: 'definition file' }).data;
  return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
}

/** A module named graph.js is a work graph; any other module a workflow. */
function moduleKind(file: string): 'workflow' | 'graph' {
  return /^graph\.m?js$/.test(basename(file)) ? 'graph' : 'workflow';
}

/**
 * Where a `.ts` module is compiled: `dist/<path>.js` in this project, and, for a module of the
 * package itself (its crews/), the package's own compiled tree.
 */
export function compiledCopies(source: string): string[] {
  const js = source.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs');
  const absolute = resolve(js);
  const copies: string[] = [];
  const inProject = relative(process.cwd(), absolute);
  if (!inProject.startsWith('..') && !isAbsolute(inProject)) copies.push(join('dist', inProject));
  const inPackage = relative(packageRoot, absolute);
  if (!inPackage.startsWith('..') && !isAbsolute(inPackage)) {
    const own = join(ownRoot, inPackage);
    if (!copies.some((copy) => resolve(copy) === own)) copies.push(own);
  }
  return copies;
}

/**
 * The folder of a module's sources and data: for a compiled copy (dist/crews/invoices/workflow.js)
 * the folder it was compiled from (crews/invoices), when it exists; else the module's own folder.
 */
export function sourceFolderOf(module: string): string {
  const absolute = resolve(module);
  for (const [compiled, sources] of [
    [resolve('dist'), process.cwd()],
    [ownRoot, packageRoot],
  ] as const) {
    const inside = relative(compiled, dirname(absolute));
    if (inside.startsWith('..') || isAbsolute(inside)) continue;
    const folder = join(sources, inside);
    if (isFolder(folder)) return relative(process.cwd(), folder) || '.';
  }
  return dirname(module);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
