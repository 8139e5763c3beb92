import type { RecordedRun, TimelineEntry } from '../workflow/run-record.js';

/** `troupe runs show <id>` of a recorded (non-workflow) run: who ran what, totals, then the timeline one line per step. */
export function describeRecordedRun(run: RecordedRun, timeline: readonly TimelineEntry[]): string {
  const t = run.totals;
  const lines = [
    `${run.id}  ${run.kind} ${run.name}: ${run.status}${run.stopReason ? ` — ${run.stopReason}` : ''}`,
    `started ${new Date(run.startedAt).toISOString()} by ${run.by.user}@${run.by.host} (pid ${run.by.pid})${run.endedAt === undefined ? '' : `, took ${(t.durationMs / 1000).toFixed(1)}s`}`,
    `${t.modelCalls} model calls, ${t.inputTokens + t.outputTokens} tokens (${t.inputTokens} in, ${t.outputTokens} out), ${t.toolCalls} tool calls, $${t.costUsd.toFixed(4)}`,
  ];
  if (run.input !== undefined) lines.push(`input: ${oneLine(run.input)}`);
  lines.push('timeline:');
  for (const entry of timeline) lines.push(`  ${new Date(entry.at).toISOString().slice(11, 23)}  ${describeEntry(entry)}`);
  return `${lines.join('\n')}\n`;
}

export function describeEntry(entry: TimelineEntry): string {
  const who = 'agent' in entry && entry.agent ? `${entry.agent}: ` : '';
  switch (entry.type) {
    case 'model-call':
      return `${who}model call ${entry.model} turn ${entry.turn}: ${entry.inputTokens} in, ${entry.outputTokens} out, $${entry.costUsd.toFixed(4)}, ${entry.latencyMs} ms, ${entry.stopReason}`;
    case 'model-error':
      return `${who}model error ${entry.model}: ${entry.errorCode} ${oneLine(entry.message)}`;
    case 'retry':
      return `${who}retry ${entry.attempt} of ${entry.model} in ${entry.delayMs} ms: ${entry.errorCode} ${oneLine(entry.message)}`;
    case 'tool-call':
      return `${who}${entry.isError ? '✗' : '→'} ${entry.tool} ${oneLine(entry.input)} = ${oneLine(entry.output ?? '')}`;
    case 'delegation':
      return entry.status === undefined
        ? `${who}delegates to ${entry.member}: ${oneLine(entry.task ?? '')}`
        : `${who}delegation to ${entry.member} ${entry.status}${entry.reason ? `: ${oneLine(entry.reason)}` : ''}`;
    case 'speaker':
      return `round ${entry.round}: ${entry.speaker} speaks (${entry.method})${entry.reason ? ` — ${oneLine(entry.reason)}` : ''}`;
    case 'validation-failure':
      return `${who}invalid ${entry.target} of ${entry.tool}: ${oneLine(entry.issues)}`;
    case 'task':
      return `${who}task ${oneLine(entry.task)}${entry.status ? ` ${entry.status}${entry.reason ? `: ${oneLine(entry.reason)}` : ''}` : ' started'}`;
    case 'termination':
      return `${who}stopped by ${entry.condition}: ${oneLine(entry.reason)}`;
    case 'end':
      return `run ${entry.status}${entry.reason ? ` — ${oneLine(entry.reason)}` : ''}`;
    default:
      return JSON.stringify(entry);
  }
}

function oneLine(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
