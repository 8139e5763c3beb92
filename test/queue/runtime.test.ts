import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { codeTask, defineWorkflow, openRuntime } from 'troupe';
import { FileStore } from 'troupe/store';
import { InProcessQueue } from 'troupe/workers';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { manualClock, registerModel, scriptedModel, sequentialIds, unregisterModel } from 'troupe/testing';

describe('openRuntime', () => {
  it('opens the embedded store and queues from the environment, and resolves models with it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'troupe-runtime-'));
    const runtime = await openRuntime({ env: { TROUPE_HOME: home, TROUPE_MODEL: 'scripted:runtime-test' } });

    expect(runtime.store).toBeInstanceOf(SqliteStore);
    expect(runtime.store.where('runs', 'r')).toContain(home);
    const queue = await runtime.queue('jobs');
    expect(queue).toBeInstanceOf(InProcessQueue);
    await queue.close();
    await runtime.store.close();
    const model = scriptedModel([]);
    registerModel('runtime-test', model);
    try {
      expect(runtime.models(undefined)).toBe(model);
    } finally {
      unregisterModel('runtime-test');
    }
  });

  it('uses the parts it is given, and a run takes the runtime as its context', async () => {
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-runtime-')) });
    const runtime = await openRuntime({ store, clock: manualClock(42), ids: sequentialIds() });
    const workflow = defineWorkflow({
      name: 'echo',
      input: z.string(),
      tasks: [codeTask({ name: 'echo', input: z.string(), output: z.string(), run: (s) => s })],
    });

    const summary = await workflow.run([{ id: 'a', input: 'hi' }], runtime);

    expect(summary).toMatchObject({ runId: 'run_1', status: 'done' });
    expect(await store.get('runs', 'run_1')).toMatchObject({ value: { startedAt: 42 } });
  });
});
