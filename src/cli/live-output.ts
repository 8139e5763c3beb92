import { colourAllowed } from '../observe/terminal-colour.js';
import type { TraceEvent, TraceSink } from '../observe/trace-event.js';
import { progressLine } from './progress.js';

/** Where live output goes: a stream that may be a terminal (process.stderr). */
export interface LiveStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface LiveOutputOptions {
  /** Default process.stderr: stdout keeps only the result, so `--json` and pipes stay machine-readable. */
  stream?: LiveStream;
  /** Default: the stream is a terminal and NO_COLOR is not set (https://no-color.org). */
  color?: boolean;
  /** How many items a workflow run has, for "item n of m". */
  items?: number;
  /** Default Date.now(); the progress line shows the time since. */
  startedAt?: number;
  /** Read for NO_COLOR (default process.env). */
  env?: Record<string, string | undefined>;
}

/** A trace sink that shows a run as it happens; `close` ends the display before the result is printed. */
export interface LiveOutput {
  trace: TraceSink;
  close(): void;
}

const dim = (text: string) => `\x1b[2m${text}\x1b[22m`;
const bold = (text: string) => `\x1b[1m${text}\x1b[22m`;
const cyan = (text: string) => `\x1b[36m${text}\x1b[39m`;
const yellow = (text: string) => `\x1b[33m${text}\x1b[39m`;

/**
 * Shows a run as it happens: the model's text as it streams (`model-text-delta`), headed by who
 * is speaking, the steps worth a line (tool calls, tasks, delegations, items), and on a terminal
 * a progress line at the bottom — the current task and agent, item n of m, model calls, tokens
 * and cost so far — redrawn in place. The progress line is drawn only between replies: while a
 * model writes, its text has the screen, and when the reply ends the line comes back. On a
 * stream that is not a terminal there is no progress line and no escape code, only the text and
 * the step lines.
 */
export function liveOutput(options: LiveOutputOptions = {}): LiveOutput {
  const stream: LiveStream = options.stream ?? process.stderr;
  const terminal = stream.isTTY === true;
  const env = options.env ?? process.env;
  const color = options.color ?? colourAllowed(stream, env);
  const paint = (style: (text: string) => string, text: string) => (color ? style(text) : text);
  const startedAt = options.startedAt ?? Date.now();
  const items = new Map<string, number>();

  // The model call whose text is on the current line.
  let speaker: number | undefined;
  let midLine = false;
  let statusShown = false;
  let closed = false;
  let now = startedAt;
  let crew: string | undefined;
  let task: string | undefined;
  let agent: string | undefined;
  let item: string | undefined;
  let calls = 0;
  let tokens = 0;
  let costUsd = 0;

  const write = (text: string) => {
    try {
      stream.write(text);
    } catch {
      // A closed terminal or pipe must not stop the run it reports on.
    }
  };
  const clearStatus = () => {
    if (!statusShown) return;
    write('\r\x1b[2K');
    statusShown = false;
  };
  const endLine = () => {
    if (midLine) write('\n');
    midLine = false;
  };
  const status = (): string => {
    const parts = [`${((now - startedAt) / 1000).toFixed(1)}s`];
    if (task) parts.push(`${crew ? `${crew}: ` : ''}${task}${agent ? ` → ${agent}` : ''}`);
    else if (agent) parts.push(agent);
    if (item !== undefined) parts.push(`item ${items.get(item)} of ${Math.max(options.items ?? 0, items.size)}`);
    parts.push(`${calls} model call${calls === 1 ? '' : 's'}`, `${tokens.toLocaleString('en-US')} tokens`, `$${costUsd.toFixed(4)}`);
    const line = parts.join(' · ');
    // A terminal that reports no width (0, as some pseudo-terminals do) is taken as 80 columns.
    const width = Math.max(20, (stream.columns || 80) - 1);
    return line.length > width ? `${line.slice(0, width - 1)}…` : line;
  };
  const drawStatus = () => {
    if (!terminal || midLine || closed) return;
    write(`\r\x1b[2K${paint(dim, status())}`);
    statusShown = true;
  };
  const line = (text: string) => {
    clearStatus();
    endLine();
    write(`${text}\n`);
    speaker = undefined;
  };

  const trace: TraceSink = (event: TraceEvent) => {
    if (closed) return;
    now = event.at;
    switch (event.type) {
      case 'model-text-delta': {
        clearStatus();
        const who = event.call;
        if (who !== speaker) {
          endLine();
          write(`${paint(bold, paint(cyan, event.agent ?? event.model))}: `);
          speaker = who;
        }
        write(event.text);
        midLine = !event.text.endsWith('\n');
        return;
      }
      case 'model-tool-call-delta':
        line(paint(dim, `  → ${event.agent ? `${event.agent} calls ` : ''}${event.tool}`));
        break;
      case 'model-call-start':
        agent = event.agent ?? agent;
        break;
      case 'model-call-end':
        calls++;
        tokens += event.usage.inputTokens + event.usage.outputTokens;
        costUsd += event.costUsd;
        clearStatus();
        endLine();
        speaker = undefined;
        break;
      case 'model-call-retry':
        line(
          paint(
            yellow,
            `  ${event.agent ?? event.model}: ${event.errorCode}, retry ${event.attempt} in ${(event.delayMs / 1000).toFixed(1)}s${event.discardsDeltas ? ' (the text above is discarded; the answer starts again)' : ''}`,
          ),
        );
        break;
      case 'task-start':
        crew = event.crew;
        task = event.task;
        agent = event.agent ?? agent;
        line(paint(dim, `${event.crew}: ${event.task}${event.agent ? ` → ${event.agent}` : ''}`));
        break;
      case 'item-transition':
        if (!items.has(event.item)) items.set(event.item, items.size + 1);
        item = event.item;
        if (event.task) task = event.task;
        line(paint(dim, progressLine(event) ?? ''));
        break;
      default: {
        // The model's answers show as text; the other steps as the progress printer words them.
        const text = progressLine(event);
        if (text) line(paint(event.type === 'termination' || event.type === 'model-call-error' ? yellow : dim, `  ${text}`));
      }
    }
    drawStatus();
  };

  return {
    trace,
    close() {
      if (closed) return;
      clearStatus();
      endLine();
      closed = true;
    },
  };
}

/** Whether `troupe run` shows the run live: `--live`/`--no-live` decide; by default only on a terminal, and not with `--json` or `--quiet`. */
export function wantsLiveOutput(flags: { live?: boolean; json?: boolean; quiet?: boolean }, stream: LiveStream = process.stderr): boolean {
  if (flags.live !== undefined) return flags.live;
  return stream.isTTY === true && !flags.json && !flags.quiet;
}
