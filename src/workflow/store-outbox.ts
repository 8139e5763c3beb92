import { z } from 'zod';
import { VersionConflictError } from '../store/errors/index.js';
import { defineRecord } from '../store/record-schema.js';
import type { PutOptions, StateStore } from '../store/state-store.js';
import type { Outbox, OutboxRecord } from '../tools/outbox.js';

/** The collection that holds recorded side effects, shared by workflows and handlers. */
export const effectsCollection = 'effects';

/** A recorded side effect. Effects carried no version field before it was written on every record: those read as version 1. */
export const effectRecords = defineRecord<OutboxRecord>({
  kind: 'effect',
  version: 1,
  unversioned: 1,
  schema: z.looseObject({ tool: z.string(), output: z.string(), isError: z.boolean().optional(), at: z.number() }),
});

/**
 * An `Outbox` in a `StateStore`: each record is a create-only document, so two processes that
 * race to record the same call keep one result (the first), and every later delivery reads it.
 * `collection` and `put` let the work graph keep its effects apart and expiring.
 */
export function storeOutbox(store: StateStore, collection = effectsCollection, put: Omit<PutOptions, 'expectedVersion'> = {}): Outbox {
  return {
    async get(key) {
      return (await effectRecords.get(store, collection, key))?.value;
    },
    async record(key, record) {
      try {
        await effectRecords.put(store, collection, key, record, { ...put, expectedVersion: 0 });
        return record;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        return (await effectRecords.get(store, collection, key))?.value ?? record;
      }
    },
  };
}
