import type { Redis } from 'ioredis';
import { workQueueName } from '../work/open-work-graph.js';
import { workflowRunsQueue } from '../workflow/queued-run.js';

/** What a Troupe queue carries, told from its name. */
export type QueueKind = 'workflow' | 'work graph' | 'handler trigger' | 'other';

export function queueKind(name: string): QueueKind {
  if (name === workflowRunsQueue) return 'workflow';
  if (name.startsWith(workQueueName(''))) return 'work graph';
  // triggerQueueName(source) is `troupe-trigger-<source>` (src/coordinator/trigger-queues.ts).
  if (name.startsWith('troupe-trigger-')) return 'handler trigger';
  return 'other';
}

/** How many keys one SCAN looks at, and how many rounds at most: the dashboard never walks a huge keyspace unbounded. */
const scanCount = 1000;
const maxRounds = 200;

/**
 * The BullMQ queues that exist on Redis under `prefix`: every queue that ever had a job or a
 * worker has `<prefix>:<name>:meta` or `<prefix>:<name>:id`. Found this way, `/queues` shows
 * every Troupe queue (work graphs, `workflow-runs`, handler triggers) without being told their
 * names. Keys of the state store that share the prefix have more parts, and are left out.
 */
export async function discoverQueueNames(client: Redis, prefix: string): Promise<string[]> {
  const found = new Set<string>();
  const head = `${prefix}:`;
  for (const suffix of ['meta', 'id']) {
    let cursor = '0';
    for (let round = 0; round < maxRounds; round++) {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${escapeGlob(prefix)}:*:${suffix}`, 'COUNT', scanCount);
      for (const key of keys) {
        const name = key.slice(head.length, key.length - suffix.length - 1);
        if (name && !name.includes(':')) found.add(name);
      }
      cursor = next;
      if (cursor === '0') break;
    }
  }
  return [...found].sort();
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
