import { fanOutTrace, type TraceEvent, type TraceSink } from '../observe/trace-event.js';
import type { RunOptions } from './run-context.js';

/** What a streamed run yields: its trace events as they happen, then its result. */
export type RunStreamEvent<Result> = TraceEvent | { type: 'run-end'; result: Result };

/** The options `streamRun` adds to the run it starts: its own trace sink and signal, and streaming models. */
export interface StreamingRunOptions {
  trace: TraceSink;
  signal: AbortSignal;
  streaming: true;
}

/**
 * Any run (an agent's, a crew's, a workflow's: whatever takes run options) as an async iterable
 * of its events. `run` is started at the first `next()` with `options` plus a trace sink that
 * feeds the iteration (`options.trace` still gets every event), `streaming: true` so models
 * stream, and a signal that aborts the run when the consumer stops iterating early. Events are
 * buffered, never dropped: a slow consumer delays no one, the run does not wait for it. A run
 * that throws makes the iteration throw, after the events that came before.
 *
 *     for await (const event of streamRun((extra) => crew.run(request, { ...options, ...extra }), options)) …
 */
export async function* streamRun<Result>(
  run: (options: StreamingRunOptions) => Promise<Result>,
  options: Pick<RunOptions, 'trace' | 'signal'> = {},
): AsyncGenerator<RunStreamEvent<Result>, void, undefined> {
  const buffer: TraceEvent[] = [];
  let read = 0;
  let wake: (() => void) | undefined;
  let outcome: { ok: true; result: Result } | { ok: false; error: unknown } | undefined;
  const notify = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const trace = fanOutTrace(options.trace, (event) => {
    buffer.push(event);
    notify();
  })!;
  const running = Promise.resolve()
    .then(() => run({ trace, signal, streaming: true }))
    .then(
      (result) => {
        outcome = { ok: true, result };
        notify();
      },
      (error: unknown) => {
        outcome = { ok: false, error };
        notify();
      },
    );
  try {
    for (;;) {
      while (read < buffer.length) {
        const event = buffer[read]!;
        // Dropped once read, so a long run's stream does not keep every delta it has yielded.
        buffer[read++] = undefined as unknown as TraceEvent;
        yield event;
      }
      buffer.length = 0;
      read = 0;
      if (outcome) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (!outcome.ok) throw outcome.error;
    yield { type: 'run-end', result: outcome.result };
  } finally {
    if (!outcome) {
      controller.abort(new Error('the consumer stopped reading the run stream'));
      await running;
    }
  }
}
