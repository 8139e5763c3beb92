import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * Vitest global setup: compiles dist/ once, before any test file runs, for the tests that start
 * the real `troupe` executable. It runs in vitest's main process and asynchronously: a build
 * inside a test file (synchronous, tens of seconds on a loaded machine) would block that
 * worker's event loop long enough for vitest's own worker RPC to time out.
 */
export default async function buildOnce(): Promise<void> {
  const run = promisify(execFile);
  // What `npm run build` does: tsc, then the bundle of src/ (bin/bundle.mjs).
  await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { maxBuffer: 16 * 1024 * 1024 });
  await run(process.execPath, ['bin/bundle.mjs'], { maxBuffer: 16 * 1024 * 1024 });
}
