import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { checkModelString } from '../../model/check-model-string.js';
import { resolveBackend } from '../../store/backend.js';
import { loadWorkGraph } from '../../work/load-work-graph.js';
import { openWorkGraph } from '../../work/open-work-graph.js';
import { describeWorkEvent } from '../../work/describe-work-event.js';

interface ChatFlags {
  graph: string;
  model?: string;
  message?: string[];
  wait: boolean;
  work?: boolean;
  timeoutMs: string;
}

/**
 * `troupe chat <item> --graph <module>`: talk to the agent that owns an item. Each line read from
 * stdin (or each `--message`) is one message; the answer is printed, a change is recorded and
 * flows to the dependents. Then, unless `--no-wait`, it waits until the graph is quiet and prints
 * what flowed where. Without REDIS_URL the notifications are handled in this process; with it, by
 * the `troupe worker` processes (or here too with `--work`).
 */
export function registerChat(program: Command): void {
  program
    .command('chat')
    .description('Talk to the agent that owns a work item; its changes flow to the items that depend on it')
    .argument('<item>', 'the work item id')
    .requiredOption('--graph <module>', 'the graph module: a crew name (crews/<name>/graph.js) or a path to a .js module')
    .option('--message <text...>', 'messages to send instead of reading stdin')
    .option('--model <provider:model>', "use this model for every item's agent")
    .option('--no-wait', 'do not wait for the graph to be quiet after each message')
    .option('--work', 'also handle notifications in this process (the default without REDIS_URL)')
    .option('--timeout-ms <ms>', 'how long to wait for quiet', '300000')
    .action(async (itemId: string, flags: ChatFlags) => {
      if (flags.model) checkModelString(flags.model, { field: '--model' });
      const spec = await loadWorkGraph(flags.graph);
      const backend = resolveBackend();
      const graph = await openWorkGraph(spec, { backend, ...(flags.model ? { model: flags.model } : {}) });
      try {
        await graph.seed();
        await graph.item(itemId); // An unknown item fails here, before any input is read.
        if (flags.work ?? backend.kind === 'embedded') await graph.work({ concurrency: 4 });
        const interactive = flags.message === undefined && process.stdin.isTTY === true;
        for await (const message of messages(flags.message, interactive, itemId)) {
          const mark = (await graph.events({ after: 0, limit: 1_000_000 })).at(-1)?.seq ?? 0;
          const answer = await graph.chat(itemId, message);
          process.stdout.write(`${itemId}> ${answer.answer}\n`);
          if (answer.changed)
            process.stdout.write(
              `  ${itemId} is now version ${answer.item.version}${answer.notified.length ? `; notified ${answer.notified.join(', ')}` : ''}\n`,
            );
          if (!flags.wait || answer.notified.length === 0) continue;
          await graph.waitUntilQuiet({ timeoutMs: Number(flags.timeoutMs) });
          for (const { entry } of await graph.events({ after: mark, limit: 100_000 })) {
            // The chat and its own change were printed above.
            if (entry.type === 'chat' || (entry.type === 'item-change' && entry.changedBy === 'chat')) continue;
            process.stdout.write(`  ${describeWorkEvent(entry)}\n`);
          }
          process.stdout.write('  quiet\n');
        }
      } finally {
        await graph.close({ graceMs: 10_000 });
      }
    });
}

async function* messages(given: string[] | undefined, interactive: boolean, itemId: string): AsyncGenerator<string> {
  if (given) {
    yield* given;
    return;
  }
  const lines = createInterface({
    input: process.stdin,
    ...(interactive ? { output: process.stdout, prompt: `you (to ${itemId})> ` } : {}),
    terminal: interactive,
  });
  if (interactive) lines.prompt();
  for await (const line of lines) {
    if (line.trim()) yield line;
    if (interactive) lines.prompt();
  }
}
