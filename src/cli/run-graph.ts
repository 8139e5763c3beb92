import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { ExitCode } from '../core/errors/troupe-error.js';
import { checkModelString } from '../model/check-model-string.js';
import { redactSecretsDeep } from '../observe/redact-secrets.js';
import { describeWorkEvent } from '../work/describe-work-event.js';
import { loadWorkGraph } from '../work/load-work-graph.js';
import { openWorkGraph } from '../work/open-work-graph.js';
import type { Runnable } from './find-runnable.js';
import { offlineModel } from './workflow-module.js';

export interface RunGraphFlags {
  request?: string;
  item?: string;
  model?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * `troupe run <graph>`: one pass of a work graph from its seed. A graph's items live on in a store
 * and change through `troupe chat` and `troupe worker`; a run is the graph tried once: a fresh
 * embedded store in a new temporary folder (so every run starts from the same seed and replays its
 * cassette exactly), the request sent to one item's agent, and its change followed through the
 * dependents until the graph is quiet. The module may export `example: { item, request }`, the
 * message sent when `--request` is not given.
 */
export async function runGraph(runnable: Extract<Runnable, { kind: 'graph' }>, flags: RunGraphFlags): Promise<number> {
  const spec = await loadWorkGraph(resolve(runnable.file));
  const { item, request } = await messageOf(runnable.file, flags);
  if (!spec.items.has(item))
    throw new ConfigurationError(`graph "${spec.name}" has no item "${item}" (its items: ${[...spec.items.keys()].join(', ')})`, {
      field: '--item',
    });
  // A graph module names its cassette relative to the folder it is run from (as crews/website does): run
  // from elsewhere (Troupe's own example, by name), its folder's cassette is named here instead.
  const model = flags.model ?? (isAbsolute(runnable.home) ? offlineModel(runnable.home) : undefined);
  if (model) checkModelString(model, { field: '--model' });
  const home = mkdtempSync(join(tmpdir(), `troupe-graph-${spec.name}-`));
  if (!flags.quiet) process.stderr.write(`[troupe] a fresh store for this run of graph "${spec.name}": ${home}\n`);
  // No REDIS_URL in this environment: the graph runs embedded, in this process, one job at a time, so agents answer in the same order every run.
  const graph = await openWorkGraph(spec, { env: { TROUPE_HOME: home }, ...(model ? { model } : {}) });
  try {
    await graph.seed();
    await graph.work({ concurrency: 1 });
    const answer = await graph.chat(item, request);
    await graph.waitUntilQuiet({ timeoutMs: 600_000 });
    const events = (await graph.events({ after: 0, limit: 1_000_000 })).map(({ entry }) => entry);
    const items = await graph.items();
    const result = redactSecretsDeep({ graph: spec.name, item, answer: answer.answer, items, events, store: home });
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      process.stdout.write(`${item}> ${result.answer}\n`);
      for (const event of result.events) process.stdout.write(`  ${describeWorkEvent(event)}\n`);
      for (const each of result.items) process.stdout.write(`${each.id} v${each.version}: ${each.summary}\n`);
    }
    return ExitCode.done;
  } finally {
    await graph.close({ graceMs: 10_000 });
  }
}

async function messageOf(file: string, flags: RunGraphFlags): Promise<{ item: string; request: string }> {
  const module = (await import(pathToFileURL(resolve(file)).href)) as { example?: { item?: unknown; request?: unknown } };
  const example = module.example;
  const item = flags.item ?? (typeof example?.item === 'string' ? example.item : undefined);
  const request = flags.request ?? (typeof example?.request === 'string' ? example.request : undefined);
  if (item === undefined || request === undefined)
    throw new ConfigurationError(
      `a work graph runs from a message to one of its items: give --item <id> and --request "<text>" (${file} exports no example: { item, request })`,
      { field: item === undefined ? '--item' : '--request' },
    );
  return { item, request };
}
