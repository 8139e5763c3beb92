// Text for people: what a run did, what waits for review, why each item went where it went.
// `--json` prints the records themselves instead.
import { ExitCode } from '../core/errors/troupe-error.js';
import type { CorruptRecordError } from '../store/errors/corrupt-record-error.js';
import type { ReviewRequest } from '../workflow/review.js';
import type { ItemRecord, RunRecord, Transition } from '../workflow/run-state.js';
import type { RunSummary } from '../workflow/run-workflow.js';

type Write = (text: string) => void;
const out: Write = (text) => process.stdout.write(`${text}\n`);

export function printSummary(summary: RunSummary, reviews: readonly ReviewRequest[], write: Write = out): void {
  const counts = Object.entries(summary.counts)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  write(`${summary.workflow} run ${summary.runId}: ${summary.status} (${counts || 'no items'})`);
  const width = Math.max(4, ...summary.items.map((item) => item.id.length));
  for (const item of summary.items)
    write(`  ${item.id.padEnd(width)}  ${item.state.padEnd(15)}  ${item.reason ?? (item.review ? `review ${item.review}` : lastOutput(item.outputs))}`);
  if (reviews.length > 0) {
    write('');
    for (const review of reviews) printReview(review, write);
    write(`Decide with: troupe review approve <id> [--note text] [--value json]  or  troupe review reject <id> --note text`);
    write(`Then continue: troupe run --resume ${summary.runId}`);
  }
}

export function printReview(review: ReviewRequest, write: Write = out): void {
  write(`review ${review.id} (${review.status}) — run ${review.runId}, item ${review.item}, task ${review.task}`);
  write(`  ${review.kind === 'approval' ? 'would call' : review.kind === 'input' ? 'asks' : 'decide'}: ${review.what}`);
  write(`  policy: ${review.policy}`);
  if (review.proposal !== undefined) write(`  proposal: ${oneLine(review.proposal)}`);
  for (const evidence of review.evidence)
    write(`  evidence: ${evidence.source}${evidence.quote ? ` "${evidence.quote}"` : ''}${evidence.ref ? ` (${evidence.ref})` : ''}`);
  if (review.evidence.length === 0) write('  evidence: none');
  for (const finding of review.findings) write(`  finding: ${finding}`);
  if (review.decision)
    write(`  decided by ${review.decision.by} at ${new Date(review.decision.at).toISOString()}${review.decision.note ? `: ${review.decision.note}` : ''}`);
}

export function printRun(
  run: RunRecord,
  items: readonly ItemRecord[],
  reviews: readonly ReviewRequest[],
  transitions: readonly Transition[],
  write: Write = out,
  /** A line under the heading: who continues the run now. */
  holder?: string,
): void {
  write(
    `run ${run.id} — workflow ${run.workflow}, ${run.status}, started ${new Date(run.startedAt).toISOString()}, updated ${new Date(run.updatedAt).toISOString()}`,
  );
  if (holder) write(holder);
  for (const item of items) {
    write('');
    write(`item ${item.id}: ${item.state}${item.reason ? ` — ${item.reason}` : ''}${item.review ? ` — waits for review ${item.review}` : ''}`);
    for (const [task, record] of Object.entries(item.tasks)) {
      if (record.status === 'pending' || record.status === 'skipped') continue;
      write(
        `  ${task}: ${record.status}${record.attempts > 1 ? ` after ${record.attempts} attempts` : ''}${record.output !== undefined ? ` → ${oneLine(record.output)}` : ''}${record.error ? ` (${record.error})` : ''}`,
      );
    }
    write('  transitions:');
    for (const t of transitions.filter((transition) => transition.item === item.id)) {
      const tags = [
        t.task && `task ${t.task}`,
        t.route && `route ${t.route}`,
        t.policy && `policy ${t.policy}`,
        t.review && `review ${t.review}`,
        run.queued && t.worker && `by ${t.worker}`,
      ]
        .filter(Boolean)
        .join(', ');
      write(`    ${t.from === t.to ? t.to : `${t.from} → ${t.to}`}: ${t.why}${tags ? ` [${tags}]` : ''}`);
      for (const issue of t.validation ?? []) write(`      invalid ${issue.path.map(String).join('.') || '(value)'}: ${issue.message}`);
    }
  }
  const pending = reviews.filter((review) => review.status === 'pending');
  if (pending.length > 0) {
    write('');
    for (const review of pending) printReview(review, write);
  }
}

function lastOutput(outputs: Record<string, unknown>): string {
  const last = Object.entries(outputs).at(-1);
  return last ? `${last[0]} → ${oneLine(last[1])}` : '';
}

function oneLine(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

/** Damaged records are named on stderr and make the command exit 1; the readable ones are still shown. */
export function reportCorrupt(corrupt: readonly CorruptRecordError[]): void {
  for (const error of corrupt) process.stderr.write(`troupe: ${error.message}\n`);
  if (corrupt.length > 0) process.exitCode = ExitCode.failed;
}
