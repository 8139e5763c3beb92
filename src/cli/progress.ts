import type { TraceEvent, TraceSink } from '../observe/trace-event.js';

/**
 * One line per step worth seeing while a crew works (turns, tool calls, delegations, speakers),
 * written to stderr so that `--json` output on stdout stays clean. Long runs show they are alive.
 */
export function progressPrinter(write: (line: string) => void = (line) => process.stderr.write(`${line}\n`), startedAt = Date.now()): TraceSink {
  return (event: TraceEvent) => {
    const line = progressLine(event);
    if (line) write(`[${((event.at - startedAt) / 1000).toFixed(1).padStart(6)}s] ${line}`);
  };
}

/** The progress line an event is worth, in words; undefined for events not worth one. */
export function progressLine(event: TraceEvent): string | undefined {
  const who = event.agent ?? '';
  switch (event.type) {
    case 'model-call-end':
      return `${who}: model answered (${event.usage.inputTokens}+${event.usage.outputTokens} tokens${event.toolCalls ? `, ${event.toolCalls} tool call${event.toolCalls > 1 ? 's' : ''}` : ''})`;
    case 'model-call-retry':
      return `${who}: ${event.model} failed (${event.errorCode}), retry ${event.attempt} in ${(event.delayMs / 1000).toFixed(1)}s`;
    case 'tool-call-end':
      return `${who}: ${event.tool} ${event.isError ? `failed: ${event.output.split('\n')[0]!.slice(0, 100)}` : 'done'}`;
    case 'validation-failure':
      return `${who}: ${event.target} for ${event.tool} was invalid; the model was told`;
    case 'task-start':
      return `${event.crew}: ${event.task} → ${who}`;
    case 'task-end':
      return `${event.crew}: ${event.task} ${event.status}`;
    case 'delegation-start':
      return `${who} delegates to ${event.member}: ${event.task.split('\n')[0]!.slice(0, 80)}`;
    case 'speaker-select':
      return `${event.crew}: round ${event.round}, ${event.speaker} speaks${event.reason ? ` (${event.reason.split('\n')[0]!.slice(0, 100)})` : ''}`;
    case 'termination':
      return `${who}: stopped by ${event.condition}: ${event.reason}`;
    case 'item-transition':
      return `${event.workflow}/${event.item}: ${event.from === event.to ? '' : `${event.from} → ${event.to}: `}${event.why}${event.policy ? ` [${event.policy}]` : ''}`;
    case 'crew-end':
      return `${event.crew}: ${event.status} (${event.reason})`;
    default:
      return undefined;
  }
}
