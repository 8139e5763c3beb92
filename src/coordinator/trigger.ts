import type { JsonValue } from '../core/json.js';

/** A file that came with a trigger (a message's attachment, a ticket's upload), by reference: read only when a tool asks. */
export interface FileRef {
  name: string;
  /** Where it is: a path relative to the handler's file root (it must stay under it, symlinks included), or a `data:` URL. */
  uri: string;
  mediaType?: string;
}

/**
 * What starts a handler: a person (`manual`), a JSON event such as an incoming chat message or a
 * webhook body (`event`), a schedule (`schedule`), or a queue message (`queue`).
 */
export interface Trigger {
  kind: 'manual' | 'event' | 'schedule' | 'queue';
  id: string;
  /** Who sent it, e.g. `chat`, `github`, a schedule's name. */
  source?: string;
  data: JsonValue;
  files?: FileRef[];
  receivedAt?: number;
}

/** The value at a dotted path of a trigger (`kind`, `source`, `data.channel`, `data.pull_request.state`). */
export function fieldOf(trigger: Trigger, path: string): unknown {
  let value: unknown = trigger;
  for (const key of path.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}
