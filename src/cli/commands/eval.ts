import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import { ExitCode } from '../../core/errors/troupe-error.js';
import { checkModelString } from '../../model/check-model-string.js';
import { evaluateWorkflow, type EvalReport } from '../../workflow/eval/evaluate-workflow.js';
import { loadGolden } from '../../workflow/eval/golden.js';
import { loadWorkflowModule, offlineModel } from '../workflow-module.js';
import { withStore } from './runs.js';

/**
 * `troupe eval <workflow>`: runs the golden examples (crews/<name>/golden.json), reports pass
 * rates per task, the route each example took, and what changed since the last stored result.
 * Exit 0 when every example passes, 1 otherwise.
 */
export function registerEval(program: Command): void {
  program
    .command('eval')
    .description("Run a workflow's golden examples: pass rates per task, routes, and changes since the last result")
    .argument('<workflow>', 'workflow name (crews/<name>/workflow.js) or the path of its module')
    .option('--golden <file>', 'golden examples (default crews/<name>/golden.json)')
    .option('--model <provider:model>', 'use this model for every model task')
    .option('--no-save', 'do not store this result (the next eval compares with the one before)')
    .option('--json', 'print the result, the previous one and the changes as JSON')
    .action(async (name: string, flags: { golden?: string; model?: string; save: boolean; json?: boolean }) => {
      const module = await loadWorkflowModule(name);
      const file = flags.golden ?? join(module.home, 'golden.json');
      if (!existsSync(file))
        throw new ConfigurationError(`no golden examples for "${module.workflow.name}": write ${file} ({ "version": 1, "examples": [...] })`, {
          field: '--golden',
        });
      const golden = loadGolden(file);
      const model = flags.model ?? offlineModel(module.home);
      if (model) checkModelString(model, { field: '--model' });
      const report = await withStore((store) =>
        evaluateWorkflow(module.workflow, { golden, checks: module.checks, file, store, save: flags.save, ...(model ? { model } : {}) }),
      );
      if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else printEval(report, flags.save);
      process.exitCode = report.result.passed === report.result.total ? ExitCode.done : ExitCode.failed;
    });
}

function printEval({ result, previous, changes }: EvalReport, saved: boolean): void {
  const write = (text: string) => process.stdout.write(`${text}\n`);
  write(`${result.workflow}: ${result.passed} of ${result.total} examples pass${result.model ? ` (model ${result.model})` : ''}`);
  for (const example of result.examples) {
    const where = example.task
      ? `task ${example.task}`
      : `${example.state}${example.route.length ? ` via ${example.route.join(' → ')}` : ''}${example.review ? `, review ${example.review}` : ''}`;
    write(`  ${example.passed ? 'pass' : 'FAIL'}  ${example.name} — ${where}`);
    for (const failure of example.failures) write(`          ${failure}`);
  }
  write('pass rate per task:');
  const rate = (r: { passed: number; total: number }) => `${r.passed}/${r.total} (${Math.round((100 * r.passed) / r.total)}%)`;
  for (const [task, now] of Object.entries(result.tasks)) {
    const before = previous?.tasks[task];
    write(`  ${task.padEnd(20)} ${rate(now)}${before && (before.passed !== now.passed || before.total !== now.total) ? `, was ${rate(before)}` : ''}`);
  }
  if (result.workflowChecks.total > 0) write(`  ${'(state and route)'.padEnd(20)} ${rate(result.workflowChecks)}`);
  if (!previous) write(`No earlier result to compare with${saved ? '; this one is kept for the next eval' : ' (--no-save: this one is not kept either)'}.`);
  else if (changes.length === 0)
    write(`No changes since the last result (${new Date(previous.at).toISOString()}${previous.model ? `, model ${previous.model}` : ''}).`);
  else {
    write(`Changes since the last result (${new Date(previous.at).toISOString()}${previous.model ? `, model ${previous.model}` : ''}):`);
    for (const change of changes) write(`  ${change.kind.padEnd(16)} ${change.example}: ${change.detail}`);
  }
}
