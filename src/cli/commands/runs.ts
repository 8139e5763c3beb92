import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import type { CorruptRecordError } from '../../store/errors/corrupt-record-error.js';
import { openStateStore } from '../../store/open-state-store.js';
import type { StateStore } from '../../store/state-store.js';
import { listReviews } from '../../workflow/review.js';
import { runHolder } from '../../workflow/run-lease.js';
import { ExitCode } from '../../core/errors/troupe-error.js';
import {
  listItems,
  listRuns,
  loadRun,
  readTransitions,
  transitionRecords,
  transitionsStream,
  type RunRecord,
  type RunStatus,
} from '../../workflow/run-state.js';
import { printRun, reportCorrupt } from '../workflow-report.js';
import { describeRecordedRun } from '../recorded-run-report.js';
import { listRecordedRuns, loadRecordedRun, readTimeline, recordedRunKinds, type RecordedRun, type RecordedRunKind } from '../../workflow/run-record.js';

/** `troupe runs list` and `troupe runs show <id>`: workflow runs in the store (TROUPE_HOME or REDIS_URL). */
export function registerRuns(program: Command): void {
  const runs = program
    .command('runs')
    .description(
      'Runs in the store (workflow, crew, agent, handler, work-item): list them, or show one (a workflow with its items, reviews and transitions; others with their timeline)',
    );
  runs
    .command('list')
    .description('Runs of every kind (workflow, crew, agent, handler, work-item), newest first')
    .option('--json', 'print the run records as JSON')
    .option('--kind <kind>', `only runs of this kind: ${recordedRunKinds.join(', ')}`)
    .option('--status <status>', 'only runs with this status (running, finished, stopped, failed; workflows: done, awaiting-review, ...)')
    .option('--name <name>', 'only runs of this crew, agent, configuration or workflow')
    .action(async (flags: ListFlags) => {
      if (flags.kind !== undefined && !recordedRunKinds.includes(flags.kind as RecordedRunKind))
        throw new ConfigurationError(`--kind is one of ${recordedRunKinds.join(', ')}, not "${flags.kind}"`, { field: '--kind' });
      await withStore(async (store) => {
        const corrupt: CorruptRecordError[] = [];
        const keep = (kind: string, name: string, status: string) =>
          (flags.kind === undefined || flags.kind === kind) &&
          (flags.name === undefined || flags.name === name) &&
          (flags.status === undefined || flags.status === status);
        const workflows = (await listRuns(store, corrupt)).filter((run) => keep('workflow', run.workflow, run.status));
        const recorded = (await listRecordedRuns(store)).filter((run) => keep(run.kind, run.name, run.status));
        const all: Listed[] = [
          ...workflows.map((run): Listed => ({ kind: 'workflow', startedAt: run.startedAt, run })),
          ...recorded.map((run): Listed => ({ kind: 'recorded', startedAt: run.startedAt, run })),
        ].sort((a, b) => b.startedAt - a.startedAt);
        if (flags.json)
          process.stdout.write(
            `${JSON.stringify(
              all.map(({ kind, run }) => (kind === 'workflow' ? { kind: 'workflow', ...run } : run)),
              null,
              2,
            )}\n`,
          );
        else if (all.length === 0 && corrupt.length === 0)
          process.stdout.write('No runs yet (npx troupe run <crew> or <workflow> --input items.json starts one).\n');
        else for (const listed of all) process.stdout.write(`${listed.kind === 'workflow' ? workflowLine(listed.run) : recordedLine(listed.run)}\n`);
        reportCorrupt(corrupt);
      });
    });
  runs
    .command('show')
    .description('A run: each item with its state, outputs and reason, pending reviews, and every transition (task, route, policy, why)')
    .argument('<id>', 'run id')
    .option('--json', 'print the run, items, reviews and transitions as JSON')
    .option('--wait', 'follow a running run: print its transitions as they happen, then show it and exit 0 done, 1 failed, 3 waiting for review')
    .option('--quiet', 'with --wait: no transition lines on stderr')
    .action(async (id: string, flags: { json?: boolean; wait?: boolean; quiet?: boolean }) => {
      await withStore(async (store) => {
        const run = flags.wait ? await follow(store, id, flags.quiet ? () => {} : (line) => process.stderr.write(`${line}\n`)) : await loadRun(store, id);
        if (!run) {
          const recorded = await loadRecordedRun(store, id);
          if (recorded) {
            const timeline = await readTimeline(store, id);
            if (flags.json) process.stdout.write(`${JSON.stringify({ run: recorded, timeline }, null, 2)}\n`);
            else process.stdout.write(describeRecordedRun(recorded, timeline));
            return;
          }
        }
        if (!run) throw new ConfigurationError(`no run "${id}" in the store (troupe runs list shows them)`, { field: 'run' });
        // Damaged items of this run are named and make the command exit 1. A damaged review cannot
        // be told apart by run, so it is named as a warning. Either way the rest of the run is shown.
        const corrupt: CorruptRecordError[] = [];
        const damagedReviews: CorruptRecordError[] = [];
        const [items, reviews, transitions] = await Promise.all([
          listItems(store, id, corrupt),
          listReviews(store, { runId: id }, damagedReviews),
          readTransitions(store, id),
        ]);
        // A run in one process says who continues it, so a run whose process died is told from a busy one.
        const holder = run.status === 'running' && !run.queued ? await runHolder(store, id) : undefined;
        if (flags.json) process.stdout.write(`${JSON.stringify({ run, items, reviews, transitions, ...(holder ? { holder } : {}) }, null, 2)}\n`);
        else printRun(run, items, reviews, transitions, undefined, holder && describeHolder(id, holder));
        for (const error of damagedReviews) process.stderr.write(`troupe: warning: ${error.message}\n`);
        const missing = (run.items ?? []).filter((item) => !items.some((one) => one.id === item) && !corrupt.some((error) => error.id === `${id}.${item}`));
        for (const item of missing)
          process.stderr.write(
            `troupe: the document of item "${item}" of run ${id} is missing from the store (${store.where('items', `${id}.${item}`)}); its state is lost\n`,
          );
        reportCorrupt(corrupt);
        if (flags.wait) process.exitCode = exitCodes[run.status];
        if (missing.length) process.exitCode = 1;
      });
    });
}

interface ListFlags {
  json?: boolean;
  kind?: string;
  status?: string;
  name?: string;
}

type Listed = { kind: 'workflow'; startedAt: number; run: RunRecord } | { kind: 'recorded'; startedAt: number; run: RecordedRun };

/** A workflow run's line, as `runs list` always printed it. */
function workflowLine(run: RunRecord): string {
  const counts = Object.entries(run.counts)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  return `${run.id}  ${run.workflow.padEnd(16)}  ${run.status.padEnd(15)}  ${new Date(run.startedAt).toISOString()}  ${counts}`;
}

/** A recorded run's line: id, kind, name, status, started, duration, cost. */
function recordedLine(run: RecordedRun): string {
  const duration = run.endedAt === undefined ? '-' : `${(run.totals.durationMs / 1000).toFixed(1)}s`;
  return `${run.id}  ${run.kind.padEnd(9)}  ${run.name.padEnd(16)}  ${run.status.padEnd(8)}  ${new Date(run.startedAt).toISOString()}  ${duration.padStart(7)}  $${run.totals.costUsd.toFixed(4)}`;
}

const exitCodes: Record<RunStatus, number> = {
  done: ExitCode.done,
  failed: ExitCode.failed,
  'awaiting-review': ExitCode.awaitingReview,
  running: ExitCode.failed,
};

/**
 * Follows a run until it is no longer running, writing each transition as it is recorded (which
 * worker made it too). Undefined when there is no such run.
 */
async function follow(store: StateStore, id: string, write: (line: string) => void, pollMs = 500): Promise<RunRecord | undefined> {
  let after = 0;
  for (;;) {
    // The run before its transitions: once it reads as ended, every transition before that is printed.
    const run = await loadRun(store, id);
    if (!run) return undefined;
    for (;;) {
      const page = await transitionRecords.readStream(store, transitionsStream(id), { after, limit: 1000 });
      for (const { seq, entry: t } of page) {
        after = seq;
        write(
          `[troupe] ${new Date(t.at).toISOString()} ${t.item}: ${t.from === t.to ? t.to : `${t.from} → ${t.to}`}: ${t.why}${t.worker ? ` (by ${t.worker})` : ''}`,
        );
      }
      if (page.length < 1000) break;
    }
    if (run.status !== 'running') return run;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export async function withStore<T>(work: (store: StateStore) => Promise<T>): Promise<T> {
  const store = await openStateStore();
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Who continues a running run, in words: its live holder, or what to do when none is left. */
function describeHolder(runId: string, holder: Awaited<ReturnType<typeof runHolder>>): string {
  const { lease } = holder;
  if (holder.state === 'held')
    return `continued by ${holder.lease.holder} (pid ${holder.lease.pid} on ${holder.lease.host}; its lease is renewed while it works, now until ${new Date(holder.lease.expiresAt).toISOString()})`;
  const last = lease ? ` (the last one was pid ${lease.pid} on ${lease.host})` : '';
  return `no process is continuing it${last}: continue it with troupe run --resume ${runId}`;
}
