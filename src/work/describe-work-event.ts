import type { WorkEvent } from './work-item.js';

/** One line per event, for people reading a worker's or a chat's output. */
export function describeWorkEvent(event: WorkEvent): string {
  switch (event.type) {
    case 'item-change':
      return `${event.item} v${event.version} (${event.changedBy}, depth ${event.depth}): ${event.summary}`;
    case 'notification-outcome': {
      const what = event.outcome === 'updated' ? `updated to v${event.version}` : event.outcome === 'bounded' ? `bounded (${event.bound})` : event.outcome;
      return `${event.source} v${event.sourceVersion} → ${event.item}: ${what} — ${event.note}`;
    }
    case 'notification-bounded':
      return `${event.source} v${event.sourceVersion} → ${event.item}: not notified, depth ${event.depth} passes limits.maxDepth ${event.maxDepth}`;
    case 'chat':
      return `chat with ${event.item}: ${event.changed ? `changed to v${event.version}` : 'no change'} — ${event.answer}`;
  }
}
