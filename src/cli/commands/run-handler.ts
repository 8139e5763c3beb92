import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { loadGoldenTriggers } from '../../coordinator/compare.js';
import { Handler, type HandlerOutcome } from '../../coordinator/handler.js';
import type { Trigger } from '../../coordinator/trigger.js';
import { DefinitionFile, fileSizeLimits } from '../../core/definition-file.js';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import { ExitCode } from '../../core/errors/troupe-error.js';
import { stableStringify, type JsonValue } from '../../core/json.js';
import { checkModelString } from '../../model/check-model-string.js';
import { redactSecretsDeep } from '../../observe/redact-secrets.js';
import { loadHandlerConfiguration } from '../handler-configuration.js';
import { fanOutTrace } from '../../observe/trace-event.js';
import { progressPrinter } from '../progress.js';
import { recordedStatus, withRecordedRun } from '../recorded-run.js';
import { offlineModel } from '../workflow-module.js';

export interface HandlerRunFlags {
  trigger?: string;
  coordinator?: string;
  model?: string;
  json?: boolean;
  quiet?: boolean;
}

const triggerFileSchema = z
  .object({
    kind: z.enum(['manual', 'event', 'schedule', 'queue']).default('event'),
    id: z
      .string()
      .regex(/^[A-Za-z0-9_.@+=-]{1,100}$/, 'use 1 to 100 of A-Z a-z 0-9 _ . - @ + =')
      .optional(),
    source: z.string().min(1).optional(),
    data: z.unknown().refine((value) => value !== undefined, 'the trigger needs its data: the event itself, as JSON'),
    files: z.array(z.object({ name: z.string().min(1), uri: z.string().min(1), mediaType: z.string().optional() }).strict()).optional(),
  })
  .strict();

/**
 * Reads a trigger file (`--trigger file.json`): `{ "kind"?, "id"?, "source"?, "data", "files"? }`,
 * kind `event` unless it says otherwise, id the file's name unless it gives one (the id keys the
 * trigger's side effects and its recorded transcript). Bad JSON or a bad field names the file and line.
 */
export function readTriggerFile(path: string): Trigger {
  const file = DefinitionFile.read(path, { format: 'json', maxBytes: fileSizeLimits.data, what: 'trigger file' });
  const spec = file.validate(triggerFileSchema, 'trigger');
  return {
    kind: spec.kind,
    id: spec.id ?? basename(path).replace(/\.json$/i, ''),
    ...(spec.source ? { source: spec.source } : {}),
    data: spec.data as JsonValue,
    ...(spec.files ? { files: spec.files.map(({ mediaType, ...file }) => ({ ...file, ...(mediaType ? { mediaType } : {}) })) } : {}),
    receivedAt: Date.now(),
  };
}

/** `--coordinator llm|script`, checked; undefined keeps the configuration's own. */
export function coordinatorFlag(value: string | undefined): 'llm' | 'script' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'llm' && value !== 'script') throw new ConfigurationError(`--coordinator is llm or script, not "${value}"`, { field: '--coordinator' });
  return value;
}

/**
 * `troupe run <configuration> --trigger file.json`: hands one trigger to a handler configuration,
 * with its own coordinator or the one `--coordinator` names, and prints what it did (each tool
 * call, the answer, the status). Without a key, the llm coordinator replays the cassette.json
 * beside the configuration. Exit 0 when the trigger was handled, 1 when the run failed or was
 * stopped, 2 for bad input, a trigger the configuration does not handle included.
 */
export async function runHandlerConfiguration(file: string, flags: HandlerRunFlags): Promise<number> {
  if (flags.trigger === undefined) {
    // The example triggers that come with a configuration, in events/ beside it, are the first thing to try.
    const events = join(dirname(file), 'events');
    const examples = existsSync(events) ? readdirSync(events).filter((name) => name.endsWith('.json')) : [];
    const hint = examples.length
      ? ` (examples: ${examples.map((name) => join(events, name)).join(', ')})`
      : ' (a JSON file: { "source": "chat", "data": { ... } })';
    throw new ConfigurationError(`${file} is a handler configuration: give it a trigger, --trigger <file.json>${hint}`, { field: '--trigger' });
  }
  const coordinator = coordinatorFlag(flags.coordinator);
  const trigger = readTriggerFile(flags.trigger);
  const { configuration, tools, home } = await loadHandlerConfiguration(file);
  // A script makes no model call of its own: only the llm coordinator replays the cassette without a key.
  const model = flags.model ?? ((coordinator ?? configuration.coordinator) === 'llm' ? offlineModel(home) : undefined);
  if (model) checkModelString(model, { field: '--model' });
  const handler = new Handler({
    configurations: [configuration],
    tools,
    ...(model ? { model } : {}),
    ...(flags.quiet || flags.json ? {} : { trace: progressPrinter() }),
  });
  const outcome = redactSecretsDeep(
    await withRecordedRun(
      { kind: 'handler', name: configuration.name, input: trigger },
      (recorder) =>
        handler.handle(trigger, {
          ...(coordinator ? { coordinator } : {}),
          ...(recorder ? { runId: recorder.id, trace: fanOutTrace(flags.quiet || flags.json ? undefined : progressPrinter(), recorder.trace) } : {}),
        }),
      (done) => ({ status: done.status === 'no-match' || done.status === 'ambiguous' ? 'failed' : recordedStatus(done.status), stopReason: done.why }),
    ),
  );
  if (outcome.status === 'no-match')
    throw new ConfigurationError(`configuration "${configuration.name}" does not handle this trigger: ${outcome.why.replace(/^.*?: /, '')}`, {
      file: flags.trigger,
    });
  const golden = goldenCheck(home, configuration.golden, trigger, outcome, (tool) => handler.hasSideEffects(tool));
  if (flags.json) process.stdout.write(`${JSON.stringify(golden ? { ...outcome, golden } : outcome, null, 2)}\n`);
  else {
    process.stdout.write(describeHandlerOutcome(outcome));
    if (golden)
      process.stdout.write(
        `golden (${configuration.golden}): expected ${golden.expected.join('; ') || 'no side effects'}; this run: ${golden.actual.join('; ') || 'no side effects'} — ${golden.wrong ? 'WRONG' : 'as expected'}\n`,
      );
  }
  return outcome.status === 'done' ? ExitCode.done : ExitCode.failed;
}

interface GoldenVerdict {
  expected: string[];
  actual: string[];
  wrong: boolean;
}

/**
 * When the trigger is one of the configuration's golden triggers (same id and data), whether this
 * run caused the side effects it must: what makes a coordinator's mistake visible in one run.
 */
function goldenCheck(
  home: string,
  golden: string | undefined,
  trigger: Trigger,
  outcome: HandlerOutcome,
  hasSideEffects: (tool: string) => boolean,
): GoldenVerdict | undefined {
  if (!golden || !existsSync(join(home, golden))) return undefined;
  const example = loadGoldenTriggers(join(home, golden)).find(
    (entry) => entry.trigger.id === trigger.id && stableStringify(entry.trigger.data) === stableStringify(trigger.data),
  );
  if (!example) return undefined;
  const describe = (tool: string, input: unknown) => `${tool} ${stableStringify(input)}`;
  const expected = example.expect.calls.map((call) => describe(call.tool, call.input));
  const actual = outcome.toolCalls.filter((call) => !call.isError && hasSideEffects(call.tool)).map((call) => describe(call.tool, call.input));
  return { expected, actual, wrong: outcome.status !== 'done' || stableStringify(actual) !== stableStringify(expected) };
}

/** What a person reads: which configuration and coordinator, each tool call with its input and result, the answer, the status and why. */
export function describeHandlerOutcome(outcome: HandlerOutcome): string {
  const lines = [
    `${outcome.configuration ?? 'no configuration'} [${outcome.coordinator ?? '-'}] trigger ${outcome.trigger}: ${outcome.status} — ${outcome.why}`,
  ];
  for (const call of outcome.toolCalls)
    lines.push(
      `  ${call.isError ? '✗' : '→'} ${call.tool} ${JSON.stringify(call.input)} = ${call.output.length > 200 ? `${call.output.slice(0, 200)}…` : call.output}`,
    );
  if (outcome.toolCalls.length === 0) lines.push('  no tool calls');
  if (outcome.answer !== undefined) lines.push(outcome.answer);
  lines.push(`${outcome.turns} model calls, $${outcome.costUsd.toFixed(4)}, run ${outcome.runId}`);
  return `${lines.join('\n')}\n`;
}
