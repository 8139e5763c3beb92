// A recorded crew run's page draws the run's graph (speakers of a group chat, delegations of a
// hierarchical crew, tasks of a sequential one) as inline SVG with every name escaped, and the
// runs list filtered to a crew draws its runs' cost and tokens over time, over real HTTP.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, hierarchicalCrew, registerPrice } from 'troupe';
import { startDashboard } from 'troupe/dashboard';
import { reply, scriptedModel, type ScriptedReply } from 'troupe/testing';
import { groupChatCrew } from '../../src/crew/group-chat.js';
import { sequentialCrew } from '../../src/crew/sequential.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { StateStore } from '../../src/store/state-store.js';
import { loadRecordedRun, recordRun } from '../../src/workflow/run-record.js';

const modelId = 'test:recorded-run-graph';
const unregister = registerPrice(modelId, { inputPerMillion: 1000, outputPerMillion: 2000 });
afterAll(unregister);

const say = (message: string): ScriptedReply => reply.finish({ message }, 'say');
const evil = '<script>x()</script>';
const member = (name: string, script: ScriptedReply[]) =>
  new Agent({ name, description: `${name} helps.`, instructions: `You are ${name}.`, model: scriptedModel(script, { id: modelId }) });

/** Round-robin alice, the evil-named member, carol, alice, evil: the evil one finishes in round 5. */
async function recordGroupChat(store: StateStore) {
  const chat = groupChatCrew({
    name: 'newsroom',
    agents: [
      member('alice', [say('Draft one.'), say('Draft two.')]),
      member(evil, [say('Checked one.'), reply.finish({ result: 'Published.' }, 'finish')]),
      member('carol', [say('Edited.')]),
    ],
    selector: 'round-robin',
  });
  const recorder = recordRun(store, { kind: 'crew', name: 'newsroom', input: 'Write about cats.' });
  const result = await chat.run('Write about cats.', { trace: recorder.trace, runId: recorder.id });
  await recorder.finish({ status: result.status, stopReason: result.stop.reason });
  expect(result.status).toBe('finished');
  return recorder.id;
}

const delegate = (to: string, task: string) => reply.toolCall('delegate_task', { member: to, task, context: '' });

async function recordHierarchical(store: StateStore) {
  const crew = hierarchicalCrew({
    name: 'research',
    agents: [
      member('researcher', [reply.finish({ result: 'fact one' }), reply.finish({ result: 'fact two' })]),
      member('writer', [reply.finish({ result: 'prose' })]),
    ],
    manager: {
      model: scriptedModel(
        [delegate('researcher', 'Find a fact.'), delegate('researcher', 'Find another.'), delegate('writer', 'Write.'), reply.finish({ result: 'done' })],
        {
          id: modelId,
        },
      ),
    },
  });
  const recorder = recordRun(store, { kind: 'crew', name: 'research' });
  const result = await crew.run('Explain queues', { trace: recorder.trace, runId: recorder.id });
  await recorder.finish({ status: result.status, stopReason: result.stop.reason });
  expect(result.status).toBe('finished');
  return recorder.id;
}

async function recordSequential(store: StateStore) {
  const crew = sequentialCrew({
    name: 'pipeline',
    agents: [member('drafter', [reply.finish({ result: 'draft' })]), member('editor', [reply.finish({ result: 'edited' })])],
    tasks: [
      { name: 'draft', description: 'Draft it.', expectedOutput: 'A draft.', agent: 'drafter' },
      { name: 'edit', description: 'Edit it.', expectedOutput: 'An edit.', agent: 'editor' },
    ],
  });
  const recorder = recordRun(store, { kind: 'crew', name: 'pipeline' });
  const result = await crew.run('Go', { trace: recorder.trace, runId: recorder.id });
  await recorder.finish({ status: result.status, stopReason: result.stop.reason });
  return recorder.id;
}

/** The `<g class="graph-node" data-id="…">` ids of an SVG, and its edge labels, in order. */
const nodeIds = (html: string) => [...html.matchAll(/<g class="graph-node" data-id="([^"]*)">/g)].map((m) => m[1]);
const edgeLabels = (html: string) => [...html.matchAll(/<text [^>]*class="edge-label">([^<]*)<\/text>/g)].map((m) => m[1]);

describe('the recorded run graph and the spend chart', { timeout: 120_000 }, () => {
  it('draws speakers, delegations and task order as escaped SVG, and one bar per run with the right totals', async () => {
    const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'troupe-run-graph-')), 'state.db') });
    const chats = [await recordGroupChat(store), await recordGroupChat(store), await recordGroupChat(store)];
    const research = await recordHierarchical(store);
    const pipeline = await recordSequential(store);

    const dashboard = await startDashboard({ store, port: 0 });
    try {
      const get = async (path: string) => {
        const response = await fetch(`${dashboard.url}${path}`);
        expect(response.status).toBe(200);
        return response.text();
      };

      const chat = await get(`/runs/${chats[0]}`);
      expect(chat).toContain('<h2>Graph</h2>');
      expect(chat).toContain(`<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="graph of run ${chats[0]}"`);
      const escaped = '&lt;script&gt;x()&lt;/script&gt;';
      expect(nodeIds(chat)).toEqual(['agent:alice', `agent:${escaped}`, 'agent:carol']);
      // alice → evil twice, evil → carol once, carol → alice once (drawn as a loop back).
      expect(edgeLabels(chat)).toEqual(['spoke next ×2', 'spoke next ×1', 'spoke next ×1']);
      expect(chat).toMatch(/class="edge back"/);
      expect(chat).toContain(`class="node-label">${escaped}</text>`);
      expect(chat).not.toContain(evil);
      // The only script element is the dashboard's own live-update script, loaded from its file.
      expect([...chat.matchAll(/<script[^>]*>/gi)].map((m) => m[0])).toEqual([expect.stringMatching(/^<script src="\/[^"]+" defer>$/)]);

      const hierarchy = await get(`/runs/${research}`);
      expect(nodeIds(hierarchy)).toEqual(['agent:manager', 'agent:researcher', 'agent:writer']);
      expect(edgeLabels(hierarchy)).toEqual(['delegates ×2', 'delegates ×1']);
      expect(hierarchy).not.toMatch(/class="edge back"/);

      const tasks = await get(`/runs/${pipeline}`);
      expect(nodeIds(tasks)).toEqual(['task:0', 'task:1']);
      expect(tasks).toContain('class="node-label">1. draft</text>');
      expect(tasks).toContain('class="node-detail">by editor</text>');
      expect(edgeLabels(tasks)).toEqual(['then']);

      // The runs list links each name to its runs, where the cost and tokens are charted.
      const all = await get('/runs');
      expect(all).toContain('href="/runs?name=newsroom"');
      expect(all).not.toContain('class="spend-totals"');
      const spend = await get('/runs?name=newsroom');
      expect(spend).toContain('<h2>Cost and tokens over time</h2>');
      const recorded = await Promise.all(chats.map(async (id) => (await loadRecordedRun(store, id))!));
      for (const metric of ['cost', 'tokens']) {
        const bars = [...spend.matchAll(new RegExp(`<rect class="bar ${metric}" data-run="([^"]+)"`, 'g'))].map((m) => m[1]);
        // One bar per run, oldest left.
        expect(bars).toEqual([...recorded].sort((a, b) => a.startedAt - b.startedAt).map((run) => run.id));
      }
      const cost = recorded.reduce((sum, run) => sum + run.totals.costUsd, 0);
      const tokens = recorded.reduce((sum, run) => sum + run.totals.inputTokens + run.totals.outputTokens, 0);
      expect(cost).toBeGreaterThan(0);
      expect(spend).toContain(
        `3 runs of <strong>newsroom</strong>: total <span class="total-cost">$${cost.toFixed(4)}</span>, <span class="total-tokens">${tokens}</span> tokens`,
      );
      expect(spend).toContain('cost (USD) per run');
      expect(spend).toContain('run start time (UTC)');
      expect(spend).not.toContain(research);
    } finally {
      await dashboard.close();
      await store.close();
    }
  });
});
