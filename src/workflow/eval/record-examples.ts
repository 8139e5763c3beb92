import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RunWorkflowOptions } from '../run-workflow.js';
import type { TaskExample } from './golden.js';

/**
 * An `onTaskDone` hook that appends each accepted task output to `file`, one JSON line each, in
 * the shape of a task-level golden example (`{ name, task, input, expect: { output }, recorded }`).
 * Real traffic grows the golden set: review the lines, keep the good ones, move them into
 * golden.json's `examples`.
 */
export function recordExamples(file: string, runId: () => string = () => 'unknown'): NonNullable<RunWorkflowOptions['onTaskDone']> {
  let made: Promise<unknown> | undefined;
  // One write at a time, so concurrent items never interleave halves of lines.
  let queue: Promise<void> = Promise.resolve();
  return (event) => {
    made ??= mkdir(dirname(file), { recursive: true });
    const example: TaskExample = {
      name: `${event.item}/${event.task}`,
      task: event.task,
      input: event.input,
      expect: { output: event.output },
      recorded: { run: runId(), item: event.item, at: Date.now() },
    };
    const line = `${JSON.stringify(example)}\n`;
    queue = queue.then(async () => {
      await made;
      await appendFile(file, line);
    });
    return queue;
  };
}
