import type { JsonValue } from '../core/json.js';
import type { StateStore } from '../store/state-store.js';
import { VersionConflictError } from '../store/errors/index.js';
import type { Outbox, OutboxRecord } from '../tools/outbox.js';

/** The collection that holds recorded side effects, shared by workflows and handlers. */
export const effectsCollection = 'effects';

/**
 * An `Outbox` in a `StateStore`: each record is a create-only document, so two processes that
 * race to record the same call keep one result (the first), and every later delivery reads it.
 */
export function storeOutbox(store: StateStore): Outbox {
  return {
    async get(key) {
      return (await store.get(effectsCollection, key))?.value as OutboxRecord | undefined;
    },
    async record(key, record) {
      try {
        await store.put(effectsCollection, key, record as unknown as JsonValue, { expectedVersion: 0 });
        return record;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        return ((await store.get(effectsCollection, key))?.value as OutboxRecord | undefined) ?? record;
      }
    },
  };
}
