import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import type { JsonValue } from '../../core/json.js';
import { ExitCode } from '../../core/errors/troupe-error.js';
import { decideReview, getReview, listReviews, type ReviewRequest } from '../../workflow/review.js';
import { RunLeaseHeldError } from '../../workflow/run-lease.js';
import { printReview, reportCorrupt } from '../workflow-report.js';
import type { CorruptRecordError } from '../../store/errors/corrupt-record-error.js';
import { resumeWorkflowRun } from './run.js';
import { withStore } from './runs.js';

interface DecideFlags {
  note?: string;
  value?: string;
  by?: string;
  resume?: boolean;
  workflow?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * `troupe review list|show|approve|reject`: what waits for a person. A decision is recorded in
 * the store (safe while the run waits in another process); the run applies it when it resumes.
 */
export function registerReview(program: Command): void {
  const review = program.command('review').description('Reviews that wait for a person: list, show, approve or reject them');
  review
    .command('list')
    .description('Pending reviews: what would happen, the evidence, the findings and the policy that asked')
    .option('--all', 'decided reviews too')
    .option('--run <id>', 'only the reviews of this run')
    .option('--json', 'print the reviews as JSON')
    .action(async (flags: { all?: boolean; run?: string; json?: boolean }) => {
      await withStore(async (store) => {
        // A damaged review is reported on stderr (exit 1) without hiding the others.
        const corrupt: CorruptRecordError[] = [];
        const reviews = (
          await listReviews(store, { ...(flags.all ? {} : { status: 'pending' as const }), ...(flags.run ? { runId: flags.run } : {}) }, corrupt)
        ).sort((a, b) => a.createdAt - b.createdAt);
        if (flags.json) process.stdout.write(`${JSON.stringify(reviews, null, 2)}\n`);
        else if (reviews.length === 0) process.stdout.write(`No ${flags.all ? '' : 'pending '}reviews${corrupt.length ? ' that could be read' : ''}.\n`);
        else
          for (const [index, one] of reviews.entries()) {
            if (index > 0) process.stdout.write('\n');
            printReview(one);
          }
        reportCorrupt(corrupt);
      });
    });
  review
    .command('show')
    .description('One review, pending or decided')
    .argument('<id>', 'review id')
    .option('--json', 'print the review as JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      await withStore(async (store) => {
        const one = await getReview(store, id);
        if (flags.json) process.stdout.write(`${JSON.stringify(one, null, 2)}\n`);
        else printReview(one);
      });
    });
  for (const approved of [true, false]) {
    const command = review
      .command(approved ? 'approve' : 'reject')
      .description(
        approved
          ? "Approve: the proposal (or --value) becomes the task's output, a tool call may run, a human step gets its answer"
          : 'Reject: the task runs again with the note (a human step rejects the item)',
      )
      .argument('<id>', 'review id')
      .option('--note <text>', approved ? 'why, for the record' : 'why; it goes back to the task as feedback')
      .option('--by <name>', 'who decides (default $USER)')
      .option(
        '--resume',
        'continue the run in this process right away. If another process is continuing the run (e.g. `troupe run --wait`), that process applies the decision: this says which one and exits 0 without resuming',
      )
      .option('--workflow <name-or-path>', 'with --resume: the workflow (name or .js path) when the run cannot find it by itself')
      .option('--json', 'print the decided review (and with --resume, the run) as JSON')
      .option('--quiet', 'no progress lines on stderr while resuming');
    if (approved) command.option('--value <json>', "a corrected output or a human step's answer, as JSON (checked against the task's output schema)");
    command.action(async (id: string, flags: DecideFlags) => {
      process.exitCode = await decide(id, approved, flags);
    });
  }
}

async function decide(id: string, approved: boolean, flags: DecideFlags): Promise<number> {
  let value: JsonValue | undefined;
  if (flags.value !== undefined) {
    try {
      value = JSON.parse(flags.value) as JsonValue;
    } catch (error) {
      throw new ConfigurationError(`--value must be JSON (quote strings: '"text"'): ${(error as Error).message}`, { field: '--value' });
    }
  }
  const decided: ReviewRequest = await withStore((store) =>
    decideReview(store, id, {
      approved,
      ...(flags.by ? { by: flags.by } : {}),
      ...(flags.note ? { note: flags.note } : {}),
      ...(value !== undefined ? { value } : {}),
    }),
  );
  if (flags.json && !flags.resume) process.stdout.write(`${JSON.stringify(decided, null, 2)}\n`);
  else if (!flags.json) {
    printReview(decided);
    process.stdout.write(`${outcome(decided)}\n`);
    if (!flags.resume) process.stdout.write(`Continue the run with: troupe run --resume ${decided.runId}\n`);
  }
  if (!flags.resume) return 0;
  try {
    return await resumeWorkflowRun(decided.runId, flags.workflow, { ...(flags.json ? { json: true } : {}), ...(flags.quiet ? { quiet: true } : {}) });
  } catch (error) {
    // The run is being continued elsewhere (a `troupe run --wait`): it picks the decision up.
    if (!(error instanceof RunLeaseHeldError)) throw error;
    process.stderr.write(
      `troupe: the decision is recorded; not resuming here: ${error.message.replace(/\. Only one process continues a run.*$/, '')}, which applies it.\n`,
    );
    return ExitCode.done;
  }
}

/** What the decision will do when the run resumes, in words. */
function outcome(review: ReviewRequest): string {
  const approved = review.status === 'approved';
  if (review.kind === 'approval')
    return approved
      ? `The call to ${review.tool?.name} will run when the task runs again.`
      : `The call to ${review.tool?.name} will be refused; the task is told why.`;
  if (review.kind === 'input')
    return approved
      ? `"${review.task}" gets ${review.decision?.value !== undefined ? 'your answer' : 'the proposal'} as its output and item ${review.item} goes on.`
      : `Item ${review.item} will be rejected.`;
  return approved
    ? `"${review.task}" takes ${review.decision?.value !== undefined ? 'your value' : 'the proposal'} as its output and item ${review.item} goes on.`
    : `"${review.task}" runs again for item ${review.item} with your note as feedback.`;
}
