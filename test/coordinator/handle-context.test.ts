import { describe, expect, it } from 'vitest';
import { defineConfiguration, Handler, type Trigger } from 'troupe';
import { collectTrace, reply, scriptedModel, sequentialIds } from 'troupe/testing';

const configuration = defineConfiguration({ name: 'triage', trigger: { source: 'tickets' }, prompt: 'Answer the ticket.' });
const trigger: Trigger = { kind: 'manual', id: 't1', source: 'tickets', data: { text: 'help' } };

describe('a handler takes its run context per trigger', () => {
  it("uses the handler's defaults, and what one handle() gives instead of them", async () => {
    const fallback = scriptedModel([reply.finish({ answer: 'from the default' })]);
    const chosen = scriptedModel([reply.finish({ answer: 'from this run' })]);
    const defaults = collectTrace();
    const own = collectTrace();
    const handler = new Handler({ configurations: [configuration], tools: [], model: fallback, trace: defaults, ids: sequentialIds() });

    const first = await handler.handle(trigger);
    const second = await handler.handle(trigger, { model: chosen, trace: own, runId: 'ticket-run' });

    expect(first).toMatchObject({ runId: 'handler_1', status: 'done', answer: 'from the default' });
    expect(second).toMatchObject({ runId: 'ticket-run', status: 'done', answer: 'from this run' });
    expect(fallback.calls).toHaveLength(1);
    expect(chosen.calls).toHaveLength(1);
    expect(new Set(defaults.events.map((e) => e.runId))).toEqual(new Set(['handler_1']));
    expect(new Set(own.events.map((e) => e.runId))).toEqual(new Set(['ticket-run']));
  });
});
