import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { DefinitionFile, fileSizeLimits } from '../core/definition-file.js';
import type { Workflow } from '../workflow/define-workflow.js';
import type { WorkItemInput } from '../workflow/run-workflow.js';
import { importUserModule } from './user-module.js';

/** Turns a file that arrived in the folder into an item, or undefined when the file is not one. */
export type FileToItem = (path: string) => WorkItemInput<unknown> | undefined;

export interface WatchOptions {
  /** How often the folder is listed (default 250 ms). */
  pollMs?: number;
  /** Ends the watch: the items already taken are finished, no new ones are taken. */
  signal: AbortSignal;
  /** Told about each file taken or passed over, for the progress lines. */
  onFile?: (event: { file: string; item?: string; skipped?: string }) => void;
  /** Item ids the run has already (its `--input` items): a file may not take one. */
  taken?: Iterable<string>;
}

// The item ids `--input` accepts (workflow-module.ts readWorkItems): store keys are built from them.
const itemIdPattern = /^[A-Za-z0-9_@+=-][A-Za-z0-9_.@+=-]{0,59}$/;

/**
 * The files of a folder as items, as they arrive: those already there first, then each new one,
 * until `signal` aborts. A file is taken once its size and modification time stay the same
 * between two listings (a copy still being written is not read half-way; writing to a temporary
 * name and renaming is safest); names starting with "." and ending in ".tmp", ".part" or "~" are
 * never taken. A file is taken once, even when it changes later. A file that makes no item, or an
 * item whose id is taken, is passed over with a note: one bad file must not end a long watch.
 */
export async function* watchFolder(folder: string, toItem: FileToItem, options: WatchOptions): AsyncGenerator<WorkItemInput<unknown>> {
  const pollMs = options.pollMs ?? 250;
  const taken = new Set<string>();
  const ids = new Map<string, string>([...(options.taken ?? [])].map((id) => [id, '--input']));
  const seen = new Map<string, string>();
  while (!options.signal.aborted) {
    for (const name of listFiles(folder)) {
      if (taken.has(name) || /^\.|(\.tmp|\.part|~)$/i.test(name)) continue;
      const file = join(folder, name);
      const stamp = stampOf(file);
      const before = seen.get(name);
      seen.set(name, stamp ?? '');
      if (!stamp || stamp !== before) continue; // new or still changing: look again next time
      taken.add(name);
      let item: WorkItemInput<unknown> | undefined;
      try {
        item = toItem(file);
      } catch (error) {
        options.onFile?.({ file, skipped: (error as Error).message });
        continue;
      }
      if (!item) {
        options.onFile?.({ file, skipped: 'not an item of this workflow' });
        continue;
      }
      const id = item.id ?? idFromName(name);
      const earlier = ids.get(id);
      if (!itemIdPattern.test(id) || id.includes('..')) {
        options.onFile?.({ file, skipped: `its item id ${JSON.stringify(id)} is not usable: letters, digits and _ . - @ + =, at most 60` });
        continue;
      }
      if (earlier) {
        options.onFile?.({ file, skipped: `its item id "${id}" is taken by ${earlier}` });
        continue;
      }
      ids.set(id, name);
      options.onFile?.({ file, item: id });
      yield { id, input: item.input };
    }
    await sleep(pollMs, options.signal);
  }
}

/**
 * How a workflow turns a file into an item: its module's `itemFromFile(path)` export when it has
 * one; otherwise a JSON file holds one input (or `{ "id"?, "input" }`) and other files are not items.
 * Either way the input is checked against the workflow's input schema before it is taken.
 */
export async function fileToItemOf(moduleFile: string, workflow: Workflow<any>): Promise<FileToItem> {
  // Already imported by the run (the same module instance): only its `itemFromFile` export is read here.
  const own = (await importUserModule(moduleFile, 'workflow module'))['itemFromFile'];
  if (own !== undefined && typeof own !== 'function')
    throw new ConfigurationError(`${moduleFile}: its "itemFromFile" export must be a function (path) => { id?, input } | undefined`, {
      file: moduleFile,
      field: 'itemFromFile',
    });
  const convert: FileToItem = own ? (own as FileToItem) : jsonItem;
  return (path) => {
    const item = convert(path);
    if (!item) return undefined;
    const parsed = workflow.input.safeParse(item.input);
    if (!parsed.success)
      throw new Error(`it does not fit the input of workflow "${workflow.name}": ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
    return item;
  };
}

/** The folder to watch, checked before the run starts: a missing folder is bad input (exit 2), not an empty watch. */
export function watchedFolder(folder: string): string {
  const path = resolve(folder);
  let directory = false;
  try {
    directory = statSync(path).isDirectory();
  } catch {
    // reported below
  }
  if (!directory) throw new ConfigurationError(`--watch needs a folder that exists: ${folder} is not one`, { field: '--watch', file: folder });
  return path;
}

/**
 * The items of a `--watch` run: the `--input` items first, then each file as it arrives in the
 * folder, until SIGINT or SIGTERM (see `stopOnSignals`). `release` removes the signal handlers.
 */
export async function watchedItems(
  folder: string,
  workflow: { file: string; workflow: Workflow<any> },
  known: readonly WorkItemInput<unknown>[],
  runId: string,
  tell: ((text: string) => void) | undefined,
): Promise<{ items: AsyncIterable<WorkItemInput<unknown>>; release: () => void }> {
  const path = watchedFolder(folder);
  const toItem = await fileToItemOf(workflow.file, workflow.workflow);
  const say = tell ?? (() => {});
  const stop = stopOnSignals(runId, (text) => process.stderr.write(text));
  say(`[troupe] run ${runId} of ${workflow.workflow.name}: watching ${folder} for new items (Ctrl-C ends the watch)\n`);
  const watched = watchFolder(path, toItem, {
    signal: stop.signal,
    taken: known.flatMap((item) => (item.id ? [item.id] : [])),
    // A file passed over is said even with --quiet: the person who dropped it expects it to run.
    onFile: ({ file, item, skipped }) => (item ? say(`[troupe] ${file} → item ${item}\n`) : process.stderr.write(`[troupe] passed over ${file}: ${skipped}\n`)),
  });
  async function* items(): AsyncGenerator<WorkItemInput<unknown>> {
    yield* known;
    yield* watched;
  }
  return { items: items(), release: stop.release };
}

/**
 * The first SIGINT or SIGTERM ends the watch (the run finishes the items it took and is saved);
 * a second one exits at once, leaving the steps in flight to `troupe run --resume`. Returns the
 * signal that ends the watch, and a function that removes the handlers.
 */
export function stopOnSignals(runId: string, tell: (text: string) => void): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      tell(`[troupe] ${name}: no new items are taken; finishing the items in progress of run ${runId} (${name} again to stop at once)\n`);
      controller.abort();
      return;
    }
    tell(`[troupe] stopped at once: the steps in flight run again with: npx troupe run --resume ${runId}\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function jsonItem(path: string): WorkItemInput<unknown> | undefined {
  if (extname(path).toLowerCase() !== '.json') return undefined;
  const data = DefinitionFile.read(path, { format: 'json', maxBytes: fileSizeLimits.data, what: 'watched item file' }).data;
  const wrapped =
    data !== null && typeof data === 'object' && !Array.isArray(data) && 'input' in data && Object.keys(data).every((key) => key === 'id' || key === 'input');
  if (!wrapped) return { input: data };
  const { id, input } = data as { id?: unknown; input: unknown };
  return typeof id === 'string' ? { id, input } : { input };
}

/** An item id from a file name: the name without its extension, in the characters ids allow. */
function idFromName(name: string): string {
  const id = basename(name, extname(name))
    .replace(/[^A-Za-z0-9_.@+=-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 60);
  return id || 'item';
}

function listFiles(folder: string): string[] {
  try {
    return readdirSync(folder, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return []; // the folder went away for a moment (a sync tool): look again next time
  }
}

function stampOf(file: string): string | undefined {
  try {
    const stat = statSync(file);
    return stat.size > 0 ? `${stat.size}:${stat.mtimeMs}` : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const onAbort = () => (clearTimeout(timer), done());
    const timer = setTimeout(() => (signal.removeEventListener('abort', onAbort), done()), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
