import type { JsonValue } from '../core/json.js';
import { VersionConflictError } from './errors/version-conflict-error.js';
import type { KeyedMutex } from './keyed-mutex.js';
import { validatePositiveLimit } from './store-validation.js';
import type { StateStore, StoredDocument, UpdateOptions, Updater } from './state-store.js';

export const defaultUpdateAttempts = 25;

/**
 * `StateStore.update` on top of `get` and compare-and-set `put`, shared by the stores. Updates of
 * one document from this process queue behind `mutex`, so they only conflict with other
 * processes; a conflict is retried after a short random wait, which spreads out the writers.
 */
export async function updateWithRetry<T extends JsonValue>(
  store: Pick<StateStore, 'get' | 'put'>,
  mutex: KeyedMutex,
  collection: string,
  id: string,
  fn: Updater<T>,
  options: UpdateOptions = {},
): Promise<StoredDocument<T>> {
  const maxAttempts = validatePositiveLimit('maxAttempts', options.maxAttempts, defaultUpdateAttempts);
  return mutex.run(`update\u0000${collection}\u0000${id}`, async () => {
    for (let attempt = 1; ; attempt++) {
      const current = await store.get<T>(collection, id);
      const expectedVersion = current?.version ?? 0;
      const next = await fn(current?.value, expectedVersion);
      try {
        return await store.put<T>(collection, id, next, { expectedVersion });
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        if (attempt >= maxAttempts) throw new VersionConflictError(collection, id, expectedVersion, error.actualVersion, { attempts: attempt, cause: error });
        await sleep(Math.random() * Math.min(100, 2 ** attempt));
      }
    }
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
