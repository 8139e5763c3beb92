import { openStateStore } from '../store/open-state-store.js';
import type { StateStore } from '../store/state-store.js';
import { recordRun, type RecordedRunKind, type RecordedRunStatus, type RunRecorder } from '../workflow/run-record.js';

export interface RecordedEnd {
  status: RecordedRunStatus;
  stopReason?: string;
}

/**
 * Runs `work` recorded in the store (TROUPE_HOME or REDIS_URL) as a run of `kind`, so
 * `troupe runs list` and the dashboard show it. Recording is a side matter: a store that cannot
 * be opened or written is a warning on stderr and the run goes on without it. A run that throws
 * is recorded as failed, with the error's message.
 */
export async function withRecordedRun<T>(
  what: { kind: RecordedRunKind; name: string; input?: unknown },
  work: (recorder: RunRecorder | undefined) => Promise<T>,
  endOf: (result: T) => RecordedEnd,
): Promise<T> {
  let store: StateStore | undefined;
  try {
    store = await openStateStore();
  } catch (error) {
    process.stderr.write(`troupe: warning: this run is not recorded: the store did not open: ${(error as Error).message}\n`);
  }
  const recorder = store ? recordRun(store, what) : undefined;
  try {
    const result = await work(recorder);
    await recorder?.finish(endOf(result));
    return result;
  } catch (error) {
    await recorder?.finish({ status: 'failed', stopReason: (error as Error).message });
    throw error;
  } finally {
    await store?.close().catch(() => {});
  }
}

/** A crew's, agent's or handler's status as a recorded run's. */
export function recordedStatus(status: string): RecordedRunStatus {
  if (status === 'finished' || status === 'done') return 'finished';
  if (status === 'stopped') return 'stopped';
  return 'failed';
}
