import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import type { JsonValue } from '../../core/json.js';
import { openStateStore } from '../../store/open-state-store.js';
import type { StateStore } from '../../store/state-store.js';
import { listReviews } from '../../workflow/review.js';
import { collections, listItems, loadRun, readTransitions, type RunRecord } from '../../workflow/run-state.js';
import { printRun } from '../workflow-report.js';

/** `troupe runs list` and `troupe runs show <id>`: workflow runs in the store (TROUPE_HOME or REDIS_URL). */
export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('Workflow runs in the store: list them, or show one with its items, reviews and transitions');
  runs
    .command('list')
    .description('Runs, newest first')
    .option('--json', 'print the run records as JSON')
    .action(async (flags: { json?: boolean }) => {
      await withStore(async (store) => {
        const all = (await allRuns(store)).sort((a, b) => b.startedAt - a.startedAt);
        if (flags.json) return void process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
        if (all.length === 0) return void process.stdout.write('No runs yet (troupe run <workflow> --input items.json starts one).\n');
        for (const run of all) {
          const counts = Object.entries(run.counts).map(([state, n]) => `${n} ${state}`).join(', ');
          process.stdout.write(`${run.id}  ${run.workflow.padEnd(16)}  ${run.status.padEnd(15)}  ${new Date(run.startedAt).toISOString()}  ${counts}\n`);
        }
      });
    });
  runs
    .command('show')
    .description('A run: each item with its state, outputs and reason, pending reviews, and every transition (task, route, policy, why)')
    .argument('<id>', 'run id')
    .option('--json', 'print the run, items, reviews and transitions as JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      await withStore(async (store) => {
        const run = await loadRun(store, id);
        if (!run) throw new ConfigurationError(`no run "${id}" in the store (troupe runs list shows them)`, { field: 'run' });
        const [items, reviews, transitions] = await Promise.all([listItems(store, id), listReviews(store, { runId: id }), readTransitions(store, id)]);
        if (flags.json) process.stdout.write(`${JSON.stringify({ run, items, reviews, transitions }, null, 2)}\n`);
        else printRun(run, items, reviews, transitions);
      });
    });
}

export async function withStore<T>(work: (store: StateStore) => Promise<T>): Promise<T> {
  const store = openStateStore();
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

async function allRuns(store: StateStore): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.list<JsonValue>(collections.runs, { limit: 500, ...(after ? { after } : {}) });
    for (const doc of page.items) out.push(doc.value as unknown as RunRecord);
    if (!page.next) return out;
    after = page.next;
  }
}
