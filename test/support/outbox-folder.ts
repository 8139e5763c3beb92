import { linkSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The receiving end of a side effect in the fault tests, as an email or payment API with an
// idempotency key behaves. No vitest import: worker processes load it.

let drafts = 0;

/**
 * Records a side effect once per idempotency key: `dir/outbox` holds one file per key, made by
 * hard-linking a finished temporary file, which fails atomically when the key's file exists. No
 * lock: a lock file taken over from a killed holder can let two processes in, and one released
 * between a failed create and a read made the caller throw. True when this call made the effect.
 */
export function sendOnce(dir: string, key: string, text: string): boolean {
  const outbox = join(dir, 'outbox');
  mkdirSync(outbox, { recursive: true });
  const draft = join(dir, `draft-${process.pid}-${++drafts}`);
  writeFileSync(draft, text);
  try {
    linkSync(draft, join(outbox, key));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(draft);
  }
}
