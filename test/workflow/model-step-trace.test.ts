import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineWorkflow, promptTask, withRetry, type ModelClient, type TraceEvent } from 'troupe';
import { FileStore } from 'troupe/store';
import { collectTrace, scriptedModel } from 'troupe/testing';
import { manualClock } from '../../src/core/ids.js';
import { ProviderUnavailableError } from '../../src/model/errors/provider-error.js';

const doc = z.object({ text: z.string() });
const modelEvents = (events: readonly TraceEvent[]) => events.filter((event) => event.type.startsWith('model-call-'));

describe('workflow model steps trace their calls', () => {
  it('as agents do: stamped and timed by the run clock, with retries and the attempt as the turn', async () => {
    const clock = manualClock(5000);
    const scripted = scriptedModel(['A short summary.'], { id: 'test:summarizer' });
    let calls = 0;
    // The first call fails as an outage would; each call takes 25 ms on the run's clock.
    const flaky: ModelClient = {
      id: scripted.id,
      async generate(request, options) {
        clock.advance(25);
        if (calls++ === 0) throw new ProviderUnavailableError('test', 'down');
        return scripted.generate(request, options);
      },
    };
    const model = withRetry(flaky, { random: () => 0, sleep: async () => {} });
    const workflow = defineWorkflow({
      name: 'summaries',
      input: doc,
      tasks: [promptTask({ name: 'summarize', input: doc, output: z.string(), model, prompt: 'Summarize {{text}}' })],
    });
    const trace = collectTrace();
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-model-step-')) });
    const summary = await workflow.run([{ id: 'doc-1', input: { text: 'a long text' } }], { store, trace, clock });
    expect(summary.items[0]!.state).toBe('accepted');
    const runId = summary.runId;
    expect(modelEvents(trace.events)).toEqual([
      { type: 'model-call-start', at: 5000, runId, agent: 'summarize', model: 'test:summarizer', turn: 1 },
      expect.objectContaining({ type: 'model-call-retry', at: 5025, runId, agent: 'summarize', attempt: 1, errorCode: 'provider_unavailable' }),
      expect.objectContaining({ type: 'model-call-end', at: 5050, runId, agent: 'summarize', turn: 1, durationMs: 50, stopReason: 'end-turn', toolCalls: 0 }),
    ]);
  });
});
