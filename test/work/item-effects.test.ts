import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { scriptedModel } from '../../src/model/scripted.js';
import type { StateStore } from '../../src/store/index.js';
import { defineTool } from '../../src/tools/define-tool.js';
import { WorkGraph, type WorkGraphDefinition } from '../../src/work/index.js';
import { useRedis } from '../support/redis.js';
import { embeddedSetup, lastPrompt, redisSetup, type OpenSetup, type WorkSetup } from './support.js';

const redis = await useRedis();

/** The store, except that the first write of a conversation fails: the job dies after its agent's tool calls, before its decision is kept. */
function diesBeforeDecision(store: StateStore): { store: StateStore; died: () => boolean } {
  let died = false;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'update') {
        return async (...args: Parameters<StateStore['update']>) => {
          if (!died && args[0].endsWith('.conversations')) {
            died = true;
            throw new Error('process died');
          }
          return target.update(...args);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, died: () => died };
}

function itemEffectTests(label: string, open: OpenSetup, enabled = true): void {
  describe.runIf(enabled)(`side effects of item agents: ${label}`, () => {
    const opened: Array<{ setup: WorkSetup; graph: WorkGraph }> = [];
    afterEach(async () => {
      for (const { setup, graph } of opened.splice(0)) {
        await graph.close({ graceMs: 500 });
        await setup.cleanup();
      }
    });

    it('does not repeat a side-effecting tool call when the job is retried, and gives the tool the same idempotency key', async () => {
      const sent: Array<{ to: string; key: string | undefined }> = [];
      const sendEmail = defineTool({
        name: 'send_email',
        description: 'Sends an email.',
        input: z.object({ to: z.string() }),
        sideEffects: 'external',
        run: ({ to }, context) => {
          sent.push({ to, key: context.idempotencyKey });
          return `sent to ${to}`;
        },
      });
      const model = scriptedModel((request) => {
        const last = request.messages.at(-1);
        if (last?.role === 'tool') return { toolCalls: [{ name: 'update_item', input: { content: 'emailed', summary: 'told the customer' } }] };
        return lastPrompt(request).includes('"order"')
          ? { toolCalls: [{ name: 'send_email', input: { to: 'customer@example.com' } }] }
          : { toolCalls: [{ name: 'no_change', input: { reason: '-' } }] };
      });
      const definition: WorkGraphDefinition = { name: 'mail', items: [{ id: 'order' }, { id: 'mail', dependsOn: ['order'], tools: [sendEmail] }] };
      const setup = open();
      const dying = diesBeforeDecision(setup.store);
      const graph = new WorkGraph(definition, { store: dying.store, queue: setup.queue, model, maxJobAttempts: 3 });
      opened.push({ setup, graph });
      await graph.seed();
      await graph.work();
      await graph.change('order', { content: 'paid', summary: 'the order was paid' });
      await graph.waitUntilQuiet({ timeoutMs: 30_000 });
      expect(dying.died()).toBe(true);
      expect((await graph.item('mail')).content).toBe('emailed');
      // The retry asked the model again, which called send_email again: answered from the record.
      expect(sent).toHaveLength(1);
      expect(sent[0]!.key).toMatch(/^effect-[0-9a-f]{32}$/);
    }, 60_000);
  });
}

itemEffectTests('embedded (FileStore, InProcessQueue)', embeddedSetup);
itemEffectTests('Redis (RedisStore, BullMQ)', redisSetup, redis);
