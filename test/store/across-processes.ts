import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StateStore } from '../../src/store/state-store.js';
import { transpileForChildren } from '../support/transpile.js';

interface AcrossProcessesOptions {
  /** The module under src/store/ that exports the store, e.g. `file-store`. */
  module: string;
  /** Its exported class. */
  className: string;
  /** Options that open the same, fresh state in every process (JSON). */
  freshOptions(): Record<string, unknown>;
  /** A store on that state in this process, to check the result. */
  open(options: Record<string, unknown>): StateStore;
}

/**
 * Several processes update one document and append to one stream at once: the count must be
 * exact and the sequence numbers gapless and unique. The children import the store without a
 * build step, so this does not race tests that build dist/.
 */
export function countsAcrossProcesses(name: string, options: AcrossProcessesOptions): void {
  describe(`${name} across processes`, () => {
    let modulePath: string;

    beforeAll(async () => {
      modulePath = join(await transpileForChildren(['src/core', 'src/store', 'src/observe']), 'src', 'store', `${options.module}.js`);
    }, 120_000);

    it('counts and numbers exactly when several processes update one document and append to one stream', async () => {
      const storeOptions = options.freshOptions();
      const workers = 3;
      const count = 30;
      const children = Array.from({ length: workers }, (_, index) =>
        spawn(
          process.execPath,
          ['test/store/fixtures/store-worker.mjs', modulePath, options.className, JSON.stringify(storeOptions), `w${index}`, String(count)],
          { stdio: ['pipe', 'pipe', 'inherit'] },
        ),
      );
      const outputs = children.map((child) => {
        const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
        const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
        return { child, lines, exit };
      });
      // Start them together, once every one has loaded.
      for (const { lines } of outputs) expect((await lines.next()).value).toBe('ready');
      for (const { child } of outputs) child.stdin.end('go\n');
      const results = await Promise.all(
        outputs.map(async ({ lines, exit }) => {
          const line = (await lines.next()).value as string;
          expect(await exit).toBe(0);
          return JSON.parse(line) as { worker: string; seqs: number[] };
        }),
      );

      const total = workers * count;
      const store = options.open(storeOptions);
      expect(await store.get('counters', 'shared')).toEqual({ id: 'shared', version: total, value: total });
      const numbers = Array.from({ length: total }, (_, index) => index + 1);
      expect(results.flatMap((result) => result.seqs).sort((a, b) => a - b)).toEqual(numbers);
      const entries = await store.read<{ worker: string; i: number }>('events', { limit: total + 10 });
      expect(entries.map((entry) => entry.seq)).toEqual(numbers);
      expect(new Set(entries.map(({ entry }) => `${entry.worker}/${entry.i}`)).size).toBe(total);
      await store.close();
    }, 120_000);
  });
}
