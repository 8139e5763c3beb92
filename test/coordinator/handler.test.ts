import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  codeTask,
  ConfigurationError,
  Handler,
  defineConfiguration,
  defineTool,
  loadConfiguration,
  UnapprovedToolError,
  type ModelRequest,
  type ToolMessage,
  type TraceEvent,
  type Trigger,
} from 'troupe';
import { FileStore } from 'troupe/store';
import { collectTrace, reply, scriptedModel } from 'troupe/testing';
import { chatTools, messageTriggers } from '../../crews/pr-merged/chat-tools.js';
import { type FixtureService, loadChannel, startFixtureService } from '../../crews/pr-merged/fixture-service.js';
import { compareCoordinators, loadGoldenTriggers } from '../../src/coordinator/compare.js';
import { scheduleEveryMs } from '../../src/coordinator/configuration.js';

const configPath = 'crews/pr-merged/pr-merged.yaml';

const services: FixtureService[] = [];
afterAll(() => Promise.all(services.map((service) => service.close())));

/** The pr-merged tools against a fresh fixture service of their own (code host and chat API on 127.0.0.1). */
async function chatFixture() {
  const service = await startFixtureService();
  services.push(service);
  return { channel: service.channel, reactions: service.reactions, tools: chatTools({ github: service.url, chat: service.url }) };
}
const pullLink = /https:\/\/github\.com\/([\w.-]+\/[\w.-]+)\/pull\/(\d+)/g;

/** A model that does what the script does, deciding from what it is shown. */
function reactingModel() {
  return scriptedModel((request: ModelRequest) => {
    const message = JSON.parse(String(request.messages[0]!.content).split('\n\n')[1]!) as { channel: string; ts: string; text: string };
    const last = request.messages.at(-1)!;
    if (last.role === 'user') {
      const links = [...new Set([...message.text.matchAll(pullLink)].map((m) => `${m[1]}#${m[2]}`))];
      if (links.length !== 1) return reply.finish({ answer: 'no reaction' });
      const [repo, number] = links[0]!.split('#') as [string, string];
      return reply.toolCall('get_pull_request', { repo, number: Number(number) });
    }
    const result = (last as ToolMessage).content[0]!;
    if (result.name === 'get_pull_request') {
      const pull = JSON.parse(result.output) as { state: string };
      return pull.state === 'open'
        ? reply.finish({ answer: 'still open' })
        : reply.toolCall('add_reaction', { channel: message.channel, ts: message.ts, reaction: 'merged' });
    }
    return reply.finish({ answer: 'reacted' });
  });
}

async function world(model = reactingModel()) {
  const { channel, tools, reactions } = await chatFixture();
  const configuration = loadConfiguration(configPath, { tools });
  const trace = collectTrace();
  return { channel, tools, reactions, configuration, trace, handler: new Handler({ configurations: [configuration], tools, model, trace }) };
}

const toolEvents = (events: TraceEvent[]) =>
  events
    .filter((e) => e.type === 'tool-call-start' || e.type === 'tool-call-end')
    .map((e) => (e.type === 'tool-call-start' ? `start ${e.tool} ${JSON.stringify(e.input)} by ${e.agent}` : `end ${e.tool} ${e.output} error=${e.isError}`));

describe('one configuration, both coordinators', () => {
  it('llm and script get the same tools, trigger and files, and leave the same tool trace', async () => {
    const llm = await world();
    const script = await world();
    for (const trigger of messageTriggers(llm.channel)) {
      const a = await llm.handler.handle(trigger, { coordinator: 'llm' });
      const b = await script.handler.handle(trigger, { coordinator: 'script' });
      expect([a.status, b.status]).toEqual(['done', 'done']);
      expect(a.toolCalls.map(({ tool, input, output }) => ({ tool, input, output }))).toEqual(
        b.toolCalls.map(({ tool, input, output }) => ({ tool, input, output })),
      );
      expect(a.files).toEqual(b.files);
    }
    expect(llm.reactions).toEqual(script.reactions);
    expect(llm.reactions.map((r) => r.timestamp)).toEqual(['1763700001.000100', '1763700004.000400']);
    expect(toolEvents(llm.trace.events)).toEqual(toolEvents(script.trace.events));
    // The llm run's trace also holds its model calls; the script made none.
    expect(llm.trace.events.some((e) => e.type === 'model-call-start')).toBe(true);
    expect(script.trace.events.some((e) => e.type === 'model-call-start')).toBe(false);
  });

  it("both see the trigger's files by name and read them lazily through the same tool", async () => {
    const root = mkdtempSync(join(tmpdir(), 'troupe-files-'));
    writeFileSync(join(root, 'log.txt'), 'deploy failed at step 3');
    writeFileSync(join(root, 'big.bin'), 'x'.repeat(100_000));
    const trigger: Trigger = {
      kind: 'event',
      id: 't1',
      source: 'tickets',
      data: { type: 'ticket' },
      files: [
        { name: 'log.txt', uri: 'log.txt' },
        { name: 'big.bin', uri: 'big.bin' },
      ],
    };
    const configuration = defineConfiguration({
      name: 'triage',
      trigger: { source: 'tickets' },
      prompt: 'Read the log.',
      coordinator: 'script',
      coordinator_script: 'test/workflow/fixtures/read-log-script.ts',
    });
    const model = scriptedModel([reply.toolCall('read_file', { name: 'log.txt' }), reply.finish({ answer: 'step 3' })]);
    const handler = new Handler({ configurations: [configuration], tools: [], fileRoot: root, model });
    const byScript = await handler.handle(trigger);
    const byModel = await handler.handle(trigger, { coordinator: 'llm' });
    expect(byScript.answer).toBe('[{"name":"log.txt"},{"name":"big.bin"}] deploy failed at step 3');
    expect(byModel.toolCalls[0]).toMatchObject({ tool: 'read_file', output: 'deploy failed at step 3' });
    expect(byScript.files).toEqual({ listed: ['log.txt', 'big.bin'], read: 1 });
    expect(byModel.files).toEqual({ listed: ['log.txt', 'big.bin'], read: 1 });
    expect(String(model.calls[0]!.messages[0]!.content)).toContain('Files: log.txt, big.bin');
  });

  it("approved tools get the trigger's files too, from either coordinator", async () => {
    const root = mkdtempSync(join(tmpdir(), 'troupe-files-'));
    writeFileSync(join(root, 'log.txt'), 'line one\nline two\n');
    const countLines = defineTool({
      name: 'count_lines',
      description: 'Counts the lines of an attached file.',
      input: z.object({ name: z.string() }),
      run: async ({ name }, { files }) => (await files!.read(name)).trim().split('\n').length,
    });
    const trigger: Trigger = { kind: 'manual', id: 'f1', data: {}, files: [{ name: 'log.txt', uri: 'log.txt' }] };
    const configuration = defineConfiguration(
      {
        name: 'lines',
        trigger: {},
        prompt: 'Count the lines of log.txt.',
        tools: ['count_lines'],
        coordinator_script: 'test/workflow/fixtures/count-lines-script.ts',
      },
      { tools: [countLines] },
    );
    const model = scriptedModel([reply.toolCall('count_lines', { name: 'log.txt' }), reply.finish({ answer: '2' })]);
    const handler = new Handler({ configurations: [configuration], tools: [countLines], fileRoot: root, model });
    expect((await handler.handle(trigger)).toolCalls[0]).toMatchObject({ tool: 'count_lines', output: '2' });
    expect((await handler.handle(trigger, { coordinator: 'script' })).answer).toBe('2 lines');
  });

  it('a script that asks for an unapproved tool fails with a clear error', async () => {
    const { tools } = await chatFixture();
    const configuration = defineConfiguration(
      {
        name: 'greedy',
        trigger: { source: 'chat' },
        prompt: 'x',
        tools: ['get_pull_request'],
        coordinator: 'script',
        coordinator_script: 'test/workflow/fixtures/greedy-script.ts',
      },
      { tools },
    );
    const handler = new Handler({ configurations: [configuration], tools });
    const error = await handler.handle(messageTriggers(loadChannel())[0]!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnapprovedToolError);
    expect((error as Error).message).toBe(
      'configuration "greedy" does not approve tool "delete_message", so its coordinator script cannot call it (approved: get_pull_request, list_files, read_file). Add it to tools: if the script should use it.',
    );
  });

  it('records and explains triggers that match no configuration, or several', async () => {
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-handler-')) });
    const a = defineConfiguration({ name: 'a', trigger: { kind: 'event', match: { 'data.type': 'message' } }, prompt: 'x' });
    const b = defineConfiguration({ name: 'b', trigger: { kind: 'event', match: { 'data.text': { matches: 'deploy' } } }, prompt: 'x' });
    const handler = new Handler({ configurations: [a, b], tools: [], store });
    const none = await handler.handle({ kind: 'schedule', id: 's1', data: {} });
    expect(none).toMatchObject({
      status: 'no-match',
      why: 'no configuration handles this schedule trigger: a (kind is schedule, not event); b (kind is schedule, not event)',
    });
    const both = await handler.handle({ kind: 'event', id: 'e1', data: { type: 'message', text: 'deploy done' } });
    expect(both).toMatchObject({ status: 'ambiguous', why: '2 configurations match this trigger (a, b); make their trigger conditions exclusive' });
    expect((await store.get('handler-runs', both.runId))!.value).toMatchObject({ status: 'ambiguous' });
  });
});

describe('the llm coordinator is stopped by each limit', () => {
  const forever = () =>
    scriptedModel(() => ({
      toolCalls: [{ name: 'get_pull_request', input: { repo: 'acme/api', number: 42 } }],
      usage: { inputTokens: 500, outputTokens: 100 },
    }));
  const run = async (limits: Record<string, number>, model = forever()) => {
    const { tools } = await chatFixture();
    const configuration = defineConfiguration({ name: 'loop', trigger: {}, prompt: 'x', tools: ['get_pull_request'], limits: limits as never });
    return new Handler({ configurations: [configuration], tools, model }).handle(messageTriggers(loadChannel())[0]!);
  };

  it.each([
    [{ max_tool_calls: 3 }, 'max-tool-calls'],
    [{ max_turns: 2 }, 'max-turns'],
    [{ token_budget: 1500 }, 'token-budget'],
    [{ timeout_ms: 50 }, 'timeout'],
  ])('%j stops it with %s', async (limits, condition) => {
    const model = condition === 'timeout' ? scriptedModel([reply.finish({ answer: 'late' })], { latencyMs: 2_000 }) : forever();
    const outcome = await run(limits, model);
    expect(outcome.status).toBe('stopped');
    expect(outcome.stop!.condition).toBe(condition);
  });

  it('a script is held to the same tool-call limit', async () => {
    const { tools } = await chatFixture();
    const configuration = loadConfiguration(configPath, { tools });
    const strict = { ...configuration, coordinator: 'script' as const, limits: { ...configuration.limits, max_tool_calls: 1 } };
    const outcome = await new Handler({ configurations: [strict], tools }).handle(messageTriggers(loadChannel())[0]!);
    expect(outcome).toMatchObject({ status: 'stopped', stop: { condition: 'max-tool-calls', detail: { limit: 1 } } });
    expect(outcome.toolCalls.map((c) => c.tool)).toEqual(['get_pull_request']);
  });

  it('the cost budget too', async () => {
    const { registerPrice } = await import('troupe');
    registerPrice('scripted:pricey', { inputPerMillion: 1_000, outputPerMillion: 1_000 });
    const model = scriptedModel(
      () => ({ toolCalls: [{ name: 'get_pull_request', input: { repo: 'acme/api', number: 42 } }], usage: { inputTokens: 500, outputTokens: 100 } }),
      { id: 'scripted:pricey' },
    );
    const outcome = await run({ cost_budget: 1.5 }, model);
    expect(outcome.stop!.condition).toBe('cost-budget');
    expect(outcome.costUsd).toBeLessThanOrEqual(1.5);
  });
});

describe('LLM-driven workflows', () => {
  it('the coordinator plans a worklist, creates an ad-hoc agent, uses a workflow task, and finishes only when the list is empty', async () => {
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-worklist-')) });
    const { tools } = await chatFixture();
    const summarize = codeTask({ name: 'word_count', input: z.object({ text: z.string() }), output: z.number(), run: ({ text }) => text.split(/\s+/).length });
    const configuration = defineConfiguration(
      {
        name: 'orchestrate',
        trigger: {},
        prompt: 'Handle the request.',
        tools: ['get_pull_request'],
        delegates: { tasks: ['word_count'], adhoc_agents: true, worklist: true },
      },
      { tools },
    );
    const coordinator = scriptedModel([
      reply.toolCall('plan_work', {
        items: [
          { id: 'check-pr', description: 'Check PR 42', priority: 0 },
          { id: 'count', description: 'Count words', priority: 1 },
        ],
      }),
      reply.toolCall('create_agent', {
        name: 'pr_checker',
        instructions: 'You check pull requests.',
        tools: ['get_pull_request'],
        task: 'Is acme/api#42 merged?',
      }),
      reply.toolCall('update_work', { id: 'check-pr', status: 'done', result: 'merged' }),
      reply.finish({ answer: 'too early' }),
      reply.toolCall('task_word_count', { text: 'three little words' }),
      reply.toolCall('update_work', { id: 'count', status: 'done', result: '3' }),
      reply.finish({ answer: 'PR 42 is merged; the text has 3 words.' }),
    ]);
    const checker = scriptedModel([reply.toolCall('get_pull_request', { repo: 'acme/api', number: 42 }), reply.finish({ result: 'yes, merged' })]);
    // The coordinator and the agent it creates share the run's model; route each request to its script.
    const model = {
      id: 'scripted',
      generate: (request: ModelRequest, options?: object) =>
        (request.system?.startsWith('You check pull requests.') ? checker : coordinator).generate(request, options),
    };
    const outcome = await new Handler({ configurations: [configuration], tools, delegates: { tasks: [summarize] }, model, store }).handle({
      kind: 'manual',
      id: 'm1',
      data: { request: 'status' },
    });

    expect(outcome.status).toBe('done');
    expect(outcome.answer).toBe('PR 42 is merged; the text has 3 words.');
    expect(outcome.agentsCreated).toEqual([{ name: 'pr_checker', tools: ['get_pull_request'], status: 'finished' }]);
    expect(outcome.worklist!.map((e) => [e.id, e.status, e.result])).toEqual([
      ['check-pr', 'done', 'merged'],
      ['count', 'done', '3'],
    ]);
    expect(outcome.toolCalls.map((c) => `${c.by}:${c.tool}`)).toEqual([
      'coordinator:plan_work',
      'pr_checker:get_pull_request',
      'coordinator:create_agent',
      'coordinator:update_work',
      'coordinator:task_word_count',
      'coordinator:update_work',
    ]);
    expect((coordinator.calls[4]!.messages.at(-1) as ToolMessage).content[0]!.output).toMatch(/the worklist still has open items: count/);
    expect((await store.read(`worklist.${outcome.runId}`)).map((e) => (e.entry as { change: string }).change)).toEqual(['plan', 'update', 'update']);
  });
});

describe('configuration files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-config-'));
  const write = (text: string) => {
    const path = join(dir, 'config.yaml');
    writeFileSync(path, text);
    return path;
  };
  const base = 'name: c\ntrigger: {}\nprompt: p\n';
  it.each([
    ['an unknown key', `${base}coordinater: script\n`, /config\.yaml:4, field "coordinater": configuration: unknown field "coordinater"/],
    [
      'a missing script',
      `${base}coordinator: script\ncoordinator_script: ./nope.ts\n`,
      /config\.yaml:5, field "coordinator_script": the coordinator script \.\/nope\.ts does not exist/,
    ],
    ['a script coordinator without a script', `${base}coordinator: script\n`, /field "coordinator_script": coordinator: script needs coordinator_script/],
    [
      'a schedule interval on an event trigger',
      'name: c\ntrigger:\n  kind: event\n  every: 5m\nprompt: p\n',
      /config\.yaml:4, field "trigger\.every": every: is for schedule triggers \(kind: schedule\)/,
    ],
    [
      'a schedule interval that is not one',
      'name: c\ntrigger:\n  kind: schedule\n  every: soon\nprompt: p\n',
      /config\.yaml:4, field "trigger\.every": "soon" is not an interval: write milliseconds, or a number with ms, s, m or h/,
    ],
    [
      'a tool that is not registered',
      `${base}tools: [get_pull_request, send_email]\n`,
      /config\.yaml:4, field "tools\.1": tool "send_email" is not registered \(registered: get_pull_request, add_reaction, delete_message\)/,
    ],
    [
      'a model string that does not parse',
      `${base}model: gpt-4.1\n`,
      /config\.yaml:4, field "model": "gpt-4.1" is not a model string \(did you mean "openai:gpt-4.1"\?\)/,
    ],
  ])('%s is an error naming the file and field', async (_, text, message) => {
    const { tools } = await chatFixture();
    expect(() => loadConfiguration(write(text), { tools })).toThrow(ConfigurationError);
    expect(() => loadConfiguration(write(text), { tools })).toThrow(message);
  });
});

describe('schedule intervals', () => {
  it('reads milliseconds and 100ms, 30s, 5m, 1h', () => {
    expect([250, '100ms', '30s', '5m', '1h', '1.5s'].map((every) => scheduleEveryMs(every))).toEqual([250, 100, 30_000, 300_000, 3_600_000, 1500]);
    expect(['', '5', '5 days', '0ms'].map((every) => scheduleEveryMs(every))).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('configuration files: every problem at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-config-many-'));
  it('lists each problem with its line and field', async () => {
    const path = join(dir, 'config.yaml');
    writeFileSync(path, 'name: c\ntrigger:\n  match:\n    text: { matches: "(" }\nprompt: p\ntools: [send_email]\nmodel: gpt-4.1\ncoordinator: script\n');
    const { tools } = await chatFixture();
    expect(() => loadConfiguration(path, { tools })).toThrow(
      new RegExp(
        `^4 problems in ${path}:\\n  ${path}:7, field "model": "gpt-4.1" is not a model string.*\\n  ${path}:6, field "tools.0": tool "send_email" is not registered.*\\n  ${path}:1, field "coordinator_script": coordinator: script needs.*\\n  ${path}:4, field "trigger.match.text.matches": "\\(" is not a valid regular expression$`,
      ),
    );
  });

  it('says "not valid JSON" with line and column for a JSON file', () => {
    const path = join(dir, 'config.json');
    writeFileSync(path, '{\n  "name": "c",\n  "prompt": "p"\n  "trigger": {}\n}\n');
    expect(() => loadConfiguration(path)).toThrow(`${path}:4:3: not valid JSON: Expected ',' or '}' after property value`);
  });
});

describe('comparing the coordinators over golden triggers', () => {
  it('reports per-run differences and how often each coordinator was wrong', async () => {
    const golden = loadGoldenTriggers('crews/pr-merged/golden.json');
    // This model also reacts to a message whose pull request is still open.
    const eager = () =>
      scriptedModel((request: ModelRequest) => {
        const message = JSON.parse(String(request.messages[0]!.content).split('\n\n')[1]!) as { channel: string; ts: string; text: string };
        const last = request.messages.at(-1)!;
        const link = /github\.com\/([\w.-]+\/[\w.-]+)\/pull\/(\d+)/.exec(message.text);
        if (last.role === 'user')
          return link ? reply.toolCall('get_pull_request', { repo: link[1], number: Number(link[2]) }) : reply.finish({ answer: 'none' });
        if ((last as ToolMessage).content[0]!.name === 'get_pull_request')
          return reply.toolCall('add_reaction', { channel: message.channel, ts: message.ts, reaction: 'merged' });
        return reply.finish({ answer: 'done' });
      });
    const report = await compareCoordinators(
      'pr-merged',
      golden,
      async () => {
        const { tools } = await chatFixture();
        const handler = new Handler({ configurations: [loadConfiguration(configPath, { tools })], tools, model: eager() });
        return { handler, hasSideEffects: (tool) => handler.hasSideEffects(tool) };
      },
      { runs: 2 },
    );

    expect(report.summary).toEqual({ total: 10, llmWrong: 4, scriptWrong: 0, differing: 4 });
    const open = report.triggers.find((t) => t.trigger === 'msg-1763700002.000200')!;
    expect(open.runs[0]!.llm.wrong).toBe(true);
    expect(open.runs[0]!.differences).toEqual(['only llm: add_reaction {"channel":"eng","reaction":"merged","ts":"1763700002.000200"}']);
    expect(report.triggers.find((t) => t.trigger === 'msg-1763700001.000100')!.runs[0]!.differences).toEqual([]);
  });
});

describe('a redelivered trigger', () => {
  it.each(['llm', 'script'] as const)('does not react twice with the %s coordinator: the second delivery is answered from the outbox', async (coordinator) => {
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-redelivery-')) });
    const { channel, tools, reactions } = await chatFixture();
    const configuration = loadConfiguration(configPath, { tools });
    const handler = new Handler({ configurations: [configuration], tools, model: reactingModel(), store });
    const merged = messageTriggers(channel)[0]!;
    // A queue redelivers the same job after a worker died: same trigger, a new run.
    const first = await handler.handle(merged, { coordinator });
    const second = await handler.handle(merged, { coordinator });
    expect([first.status, second.status]).toEqual(['done', 'done']);
    expect(reactions).toHaveLength(1);
    expect(second.toolCalls.find((call) => call.tool === 'add_reaction')).toMatchObject({ output: 'ok', isError: false });
    // A different message is a different trigger and reacts as usual.
    await handler.handle(messageTriggers(channel)[3]!, { coordinator });
    expect(reactions.map((r) => r.timestamp)).toEqual(['1763700001.000100', '1763700004.000400']);
    await store.close();
  });
});
