import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, defineTool, EffectScope, maxTurns, type Outbox, type OutboxRecord, type ToolContext } from 'troupe';
import { collectTrace, reply, scriptedModel } from 'troupe/testing';

/** An outbox in a Map, counting what it was asked. */
function memoryOutbox(): Outbox & { records: Map<string, OutboxRecord> } {
  const records = new Map<string, OutboxRecord>();
  return {
    records,
    async get(key) {
      return records.get(key);
    },
    async record(key, record) {
      if (!records.has(key)) records.set(key, record);
      return records.get(key)!;
    },
  };
}

function mailer() {
  const sent: Array<{ to: string; key: string | undefined }> = [];
  const approvals: string[] = [];
  const sendEmail = defineTool({
    name: 'send_email',
    description: 'Sends an email.',
    input: z.object({ to: z.string() }),
    sideEffects: 'external',
    needsApproval: true,
    run: ({ to }, context: ToolContext) => {
      sent.push({ to, key: context.idempotencyKey });
      return `sent to ${to} (#${sent.length})`;
    },
  });
  const lookup = defineTool({
    name: 'lookup',
    description: 'Reads an address.',
    input: z.object({ name: z.string() }),
    sideEffects: 'read',
    run: ({ name }) => `${name}@example.com`,
  });
  // Sends the emails named in the request, one turn each, then finishes with what the tools said.
  const model = scriptedModel((request) => {
    const targets = String(request.messages[0]!.content).split(',');
    const results = request.messages
      .filter((message) => message.role === 'tool')
      .flatMap((message) => (message.role === 'tool' ? message.content.map((part) => part.output) : []));
    if (results.length < targets.length) return reply.toolCall('send_email', { to: targets[results.length] });
    return reply.finish({ results });
  });
  const agent = new Agent({
    name: 'mailer',
    instructions: 'Send the emails.',
    tools: [sendEmail, lookup],
    model,
    output: z.object({ results: z.array(z.string()) }),
    termination: maxTurns(10),
  });
  const approver = (request: { tool: string }) => (approvals.push(request.tool), { approved: true, by: 'a person' });
  return { agent, sent, approvals, approver };
}

describe('EffectScope and the outbox', () => {
  it('a repeated run answers side-effecting calls from the record: the email goes once, and the model reads the same result', async () => {
    const outbox = memoryOutbox();
    const { agent, sent, approvals, approver } = mailer();
    const first = await agent.run('ann', { approver, effects: new EffectScope(outbox, 'step-1') });
    const trace = collectTrace();
    const again = await agent.run('ann', { approver, trace, effects: new EffectScope(outbox, 'step-1') });

    expect(sent).toEqual([{ to: 'ann', key: expect.stringMatching(/^effect-[0-9a-f]{32}$/) }]);
    expect(first.status === 'finished' && first.output).toEqual({ results: ['sent to ann (#1)'] });
    expect(again.status === 'finished' && again.output).toEqual({ results: ['sent to ann (#1)'] });
    // Already done and approved once: a replay neither acts nor asks a person again, and says it was a replay.
    expect(approvals).toEqual(['send_email']);
    expect(trace.events.filter((event) => event.type === 'tool-call-end')).toEqual([
      expect.objectContaining({ tool: 'send_email', replayed: true, output: 'sent to ann (#1)' }),
    ]);
    expect([...outbox.records.keys()]).toEqual([sent[0]!.key]);
  });

  it('two identical calls in one run are two effects, and another step is another scope', async () => {
    const outbox = memoryOutbox();
    const { agent, sent, approver } = mailer();
    await agent.run('ann,ann', { approver, effects: new EffectScope(outbox, 'step-1') });
    await agent.run('ann,ann', { approver, effects: new EffectScope(outbox, 'step-1') });
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map((s) => s.key)).size).toBe(2);
    await agent.run('ann', { approver, effects: new EffectScope(outbox, 'step-2') });
    expect(sent).toHaveLength(3);
  });

  it('records nothing for tools without lasting side effects, and nothing without an outbox', async () => {
    const outbox = memoryOutbox();
    const scope = new EffectScope(outbox, 'step-1');
    const lookups: string[] = [];
    const lookup = defineTool({
      name: 'lookup',
      description: 'Reads.',
      input: z.object({ name: z.string() }),
      sideEffects: 'read',
      run: ({ name }, context) => (lookups.push(String(context.idempotencyKey)), name),
    });
    const agent = new Agent({
      name: 'reader',
      instructions: 'Look up.',
      tools: [lookup],
      model: scriptedModel([
        reply.toolCall('lookup', { name: 'x' }),
        reply.finish({ ok: true }),
        reply.toolCall('lookup', { name: 'x' }),
        reply.finish({ ok: true }),
      ]),
      output: z.object({ ok: z.boolean() }),
    });
    await agent.run('go', { effects: scope });
    await agent.run('go', { effects: new EffectScope(outbox, 'step-1') });
    expect(lookups).toEqual(['undefined', 'undefined']);
    expect(outbox.records.size).toBe(0);

    const { agent: plain, sent, approver } = mailer();
    await plain.run('ann', { approver });
    await plain.run('ann', { approver });
    expect(sent.map((s) => s.key)).toEqual([undefined, undefined]);
  });
});
