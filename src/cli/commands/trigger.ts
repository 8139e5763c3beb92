import type { Command } from 'commander';
import { enqueueTrigger, triggerQueueName } from '../../coordinator/trigger-queues.js';
import { DefinitionFile, fileSizeLimits } from '../../core/definition-file.js';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import type { JsonValue } from '../../core/json.js';
import { openJobQueue } from '../../queue/open-job-queue.js';
import { resolveBackend } from '../../store/backend.js';

interface TriggerFlags {
  data: string;
  id?: string;
}

/**
 * `troupe trigger <source> --data <file.json>`: puts one message on the queue of a queue
 * trigger's source, for the `troupe worker --handler` processes on the same Redis, and prints its
 * id. Needs REDIS_URL: on the embedded backend the queue lives inside one process, so a message
 * from this command would reach no worker.
 */
export function registerTrigger(program: Command): void {
  program
    .command('trigger')
    .description("Put a message on a handler's queue trigger for `troupe worker --handler` (needs REDIS_URL)")
    .argument('<source>', "the queue trigger's source (a configuration's trigger.source)")
    .requiredOption('--data <file.json>', 'the message: a JSON file')
    .option('--id <id>', 'the message id, which keys its side effects (default: a hash of source and data, so sending it again adds nothing)')
    .action(async (source: string, flags: TriggerFlags) => {
      const name = triggerQueueName(source);
      const data = DefinitionFile.read(flags.data, { format: 'json', maxBytes: fileSizeLimits.data, what: 'trigger data' }).data as JsonValue;
      const backend = resolveBackend();
      if (backend.kind === 'embedded')
        throw new ConfigurationError(
          'REDIS_URL is not set: without Redis a queue lives inside one process, so no `troupe worker --handler` would see this message. Set REDIS_URL, or call enqueueTrigger from the process that serves the handler.',
          { field: 'REDIS_URL' },
        );
      const { checkRedis } = await import('../../queue/redis-liveness.js');
      await checkRedis(backend.url);
      const queue = await openJobQueue({ name, backend });
      try {
        const added = await enqueueTrigger(queue, source, data, flags.id ? { id: flags.id } : {});
        process.stdout.write(`${added.id}\n`);
      } finally {
        await queue.close({ graceMs: 0 });
      }
    });
}
