import { TroupeError, type TroupeErrorOptions } from '../../core/errors/troupe-error.js';

/**
 * A compare-and-set write found another version than the one it expected: another writer got in
 * first. It steers control flow: read the document again and redo the change (`update` does).
 */
export class VersionConflictError extends TroupeError {
  readonly code = 'store_version_conflict';
  readonly fault = 'system' as const;
  override readonly retryable = true;
  readonly collection: string;
  readonly id: string;
  readonly expectedVersion: number;
  readonly actualVersion: number;

  constructor(collection: string, id: string, expectedVersion: number, actualVersion: number, options: TroupeErrorOptions & { attempts?: number } = {}) {
    const { attempts, ...rest } = options;
    const expected = expectedVersion === 0 ? 'expected it not to exist' : `expected version ${expectedVersion}`;
    const actual = actualVersion === 0 ? 'it does not exist' : `found version ${actualVersion}`;
    const tried = attempts === undefined ? '' : ` (gave up after ${attempts} attempts)`;
    super(
      `Version conflict on "${collection}/${id}": ${expected}, but ${actual}${tried}. Another writer changed it; read it again and retry, or use update().`,
      {
        ...rest,
        details: { collection, id, expectedVersion, actualVersion, attempts, ...rest.details },
      },
    );
    this.collection = collection;
    this.id = id;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}
