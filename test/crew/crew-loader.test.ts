import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigurationError,
  DefinitionFileError,
  defineTool,
  loadCrew,
  type GroupChatResult,
  type ConsensusResult,
  type ModelRequest,
  type ToolMessage,
} from 'troupe';
import { collectTrace, registerModel, reply, scriptedModel, type ScriptedReply } from 'troupe/testing';

// A project laid out as the loader expects: roles in <root>/agents, crews in <root>/crews/<name>/crew.yaml.
const root = mkdtempSync(join(tmpdir(), 'troupe-crews-'));
mkdirSync(join(root, 'agents'));
const role = (file: string, text: string) => writeFileSync(join(root, 'agents', file), text);
role('analyst.yaml', 'name: analyst\ndescription: Finds facts.\nrole: Analyst\ngoal: Find facts.\ntools: [lookup]\n');
role('writer.yaml', 'name: writer\ndescription: Writes prose.\ninstructions: You write short, clear prose.\n');
role('tester.yaml', 'name: tester\nkind: user-proxy\ngoal: A one-line summary of queues.\n');

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks a fact up.',
  input: z.object({ topic: z.string() }),
  run: ({ topic }) => `${topic} are durable`,
});
const tools = [lookup];

let crewCount = 0;
/** Writes a crew file and returns its path. */
function crewFile(text: string): string {
  const dir = join(root, 'crews', `crew-${++crewCount}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'crew.yaml');
  writeFileSync(path, text);
  return path;
}

/** The configuration error loading `text` throws. */
function loadError(text: string, options: Parameters<typeof loadCrew>[1] = { tools }): { error: ConfigurationError; path: string } {
  const path = crewFile(text);
  try {
    loadCrew(path, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).exitCode).toBe(2);
    return { error: error as ConfigurationError, path };
  }
  throw new Error('the crew file loaded without an error');
}

const userMessages = (request: ModelRequest) => request.messages.filter((m) => m.role === 'user').map((m) => m.content as string);
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('crew files: each process', () => {
  it('sequential, with agents from the agents folder and a JSON Schema output; the model is given at run time', async () => {
    const path = crewFile(`name: brief
process: sequential
agents: [analyst, writer]
tasks:
  - name: facts
    description: List facts about the topic.
    agent: analyst
    expected_output:
      schema: { type: object, required: [facts], properties: { facts: { type: array, minItems: 2, items: { type: string } } } }
  - name: write
    description: Write one sentence from the facts.
    agent: writer
    context: [facts]
    expected_output: One sentence.
`);
    const model = scriptedModel((request) => {
      if (request.system?.startsWith('You are Analyst.')) {
        return request.messages.length === 1
          ? reply.toolCall('lookup', { topic: 'queues' })
          : reply.finish({ facts: ['queues are durable', 'queues decouple'] });
      }
      return reply.finish({ result: 'Queues are durable and decouple services.' });
    });

    const crew = loadCrew(path, { tools, output: z.string() });
    const result = await crew.run('Queues', { model });

    expect(crew).toMatchObject({ name: 'brief', process: 'sequential' });
    expect(result.status).toBe('finished');
    expect(result.output).toBe('Queues are durable and decouple services.');
    expect(result.tasks.map((t) => [t.task, t.agent, t.output])).toEqual([
      ['facts', 'analyst', { facts: ['queues are durable', 'queues decouple'] }],
      ['write', 'writer', 'Queues are durable and decouple services.'],
    ]);
    expect((model.calls[1]!.messages.at(-1) as ToolMessage).content[0]!.output).toBe('queues are durable');
    expect(userMessages(model.calls[2]!)[0]).toContain('## Context from earlier tasks\n### facts\n{\n  "facts": [');
  });

  it('hierarchical, with inline agents whose models are registered scripted models named in the file', async () => {
    const memberModel = scriptedModel([reply.finish({ facts: ['durable'] })]);
    const managerModel = scriptedModel([
      reply.toolCall('delegate_task', { member: 'researcher', task: 'facts', context: 'Topic: queues' }),
      reply.finish({ summary: 'Queues are durable.', sources: '1' }), // fails the output schema: the manager is told and tries again
      reply.finish({ summary: 'Queues are durable.', sources: 1 }),
    ]);
    cleanups.push(registerModel('loader-member', memberModel), registerModel('loader-manager', managerModel));
    const path = crewFile(`name: desk
process: hierarchical
max_delegations: 3
manager: { name: lead, model: "scripted:loader-manager", instructions: Keep it short. }
agents:
  - name: researcher
    description: Finds facts.
    role: Researcher
    model: scripted:loader-member
  - name: editor
    instructions: You edit.
    model: scripted:loader-member
tasks:
  - name: facts
    description: List facts about the topic.
    agent: researcher
    expected_output: { schema: { type: object, required: [facts], properties: { facts: { type: array, items: { type: string } } } } }
output:
  schema: { type: object, required: [summary, sources], properties: { summary: { type: string }, sources: { type: integer } } }
`);
    const trace = collectTrace();

    const result = await loadCrew(path, { output: z.object({ summary: z.string(), sources: z.number().int() }) }).run('Explain queues', { trace });

    expect(result).toMatchObject({ process: 'hierarchical', status: 'finished', output: { summary: 'Queues are durable.', sources: 1 } });
    expect(trace.events.flatMap((e) => (e.type === 'delegation-start' ? [[e.agent, e.member, e.task]] : []))).toEqual([['lead', 'researcher', 'facts']]);
    expect(managerModel.calls[0]!.system).toMatch(
      /^Keep it short\.\n\nYou manage the crew "desk"[\s\S]*- facts \(usually researcher\): List facts about the topic\./,
    );
    expect((managerModel.calls[2]!.messages.at(-1) as ToolMessage).content[0]!.output).toMatch(
      /^The result is invalid: sources: Invalid input: expected (int|number), received string/,
    );
    expect(result.usage.byAgent).toMatchObject({ lead: { runs: 1, turns: 3 }, researcher: { runs: 1, turns: 1 } });
  });

  it('group-chat, with allowed transitions, finishers and a first speaker', async () => {
    const path = crewFile(`name: pair
process: group-chat
agents:
  - { name: drafter, instructions: You draft. }
  - { name: reviewer, instructions: You review. }
  - { name: bystander, instructions: You watch. }
first_speaker: drafter
allowed_transitions: { drafter: [reviewer], reviewer: [drafter] }
finishers: [reviewer]
max_rounds: 5
output: { schema: { type: object, required: [text], properties: { text: { type: string } } } }
`);
    const model = scriptedModel((request) =>
      request.system?.startsWith('You draft.')
        ? reply.finish({ message: `draft ${request.messages.length}` }, 'say')
        : userMessages(request)[0]!.includes('### reviewer')
          ? reply.finish({ text: 'final' })
          : reply.finish({ message: 'tighten it' }, 'say'),
    );

    const result = (await loadCrew(path, { tools, output: z.object({ text: z.string() }) }).run('Write a line', { model })) as GroupChatResult<{
      text: string;
    }>;

    expect(result).toMatchObject({ process: 'group-chat', status: 'finished', output: { text: 'final' } });
    expect(result.conversation.map((m) => m.speaker)).toEqual(['drafter', 'reviewer', 'drafter']);
    expect(result.stop.reason).toBe('reviewer ended the chat in round 4');
    expect(model.calls[0]!.tools!.map((t) => t.name)).toEqual(['say']); // the drafter is no finisher
  });

  it('group-chat, with a manager of its own that ends the chat', async () => {
    const path = crewFile(`name: desk
process: group-chat
agents:
  - { name: analyst, instructions: You analyse. }
  - { name: fixer, instructions: You fix. }
selector:
  manager:
    name: lead
    instructions: You lead the desk.
    finishes: true
output: { schema: { type: object, required: [text], properties: { text: { type: string } } } }
`);
    const model = scriptedModel((request) => {
      if (!request.system?.startsWith('You lead the desk.')) return reply.finish({ message: `${request.system} Done.` }, 'say');
      const spoken = (userMessages(request)[0]!.match(/^### /gm) ?? []).length;
      return spoken < 2
        ? reply.finish({ speaker: spoken === 0 ? 'analyst' : 'fixer', reason: 'next' }, 'select_speaker')
        : reply.finish({ text: 'fixed' }, 'finish');
    });

    const result = (await loadCrew(path, { tools }).run('Fix it', { model })) as GroupChatResult<unknown>;

    expect(result).toMatchObject({ status: 'finished', output: { text: 'fixed' }, stop: { reason: 'lead (the manager) ended the chat after 2 rounds' } });
    expect(result.conversation.map((m) => m.speaker)).toEqual(['analyst', 'fixer']);
    expect(result.usage.byAgent.lead?.runs).toBe(3);
  });

  it('a group chat manager: its model is checked with its line, and an unknown field is named', () => {
    const model = loadError('name: c\nprocess: group-chat\nagents: [writer, analyst]\nselector:\n  manager:\n    model: gpt-4.1\n    finishes: true\n');
    expect(model.error.message).toMatch(new RegExp(`^${model.path}:6, field "selector.manager.model": "gpt-4.1" is not a model string`));
    const unknown = loadError('name: c\nprocess: group-chat\nagents: [writer, analyst]\nselector:\n  manager:\n    finish: true\n');
    expect(unknown.error.message).toMatch(new RegExp(`${unknown.path}:6, field "selector.manager.finish": crew: unknown field "finish"`));
  });

  it('consensual: proposals, critiques, revisions and a vote', async () => {
    const path = crewFile(`name: panel
process: consensual
max_rounds: 1
agents:
  - { name: ann, instructions: You are Ann. }
  - { name: bob, instructions: You are Bob. }
  - { name: cy, instructions: You are Cy. }
`);
    const me = (request: ModelRequest) => /^You are (\w+)\./.exec(request.system ?? '')![1]!.toLowerCase();
    const enumOf = (request: ModelRequest, tool: string, pick: (schema: any) => string[]) => pick(request.tools!.find((t) => t.name === tool)!.inputSchema);
    const model = scriptedModel((request): ScriptedReply => {
      const names = request.tools!.map((t) => t.name);
      if (names.includes('propose')) return reply.finish({ result: `${me(request)}'s plan` }, 'propose');
      if (names.includes('critique')) {
        const others = enumOf(request, 'critique', (s) => s.properties.critiques.items.properties.of.enum);
        return reply.finish({ critiques: others.map((of) => ({ of, critique: 'more detail' })) }, 'critique');
      }
      if (names.includes('revise')) return reply.finish({ result: `${me(request)}'s plan, revised` }, 'revise');
      const [first] = enumOf(request, 'vote', (s) => s.properties.vote.enum);
      return reply.finish({ vote: first, reason: 'clearest' }, 'vote');
    });

    const result = (await loadCrew(path, { tools, output: z.string() }).run('Pick a plan', { model })) as ConsensusResult<string>;

    // ann votes bob, bob and cy vote ann: ann wins 2 of 3.
    expect(result).toMatchObject({ process: 'consensual', status: 'finished', output: "ann's plan, revised", decision: { by: 'vote', winner: 'ann' } });
    expect(result.rounds[0]!.tally).toEqual({ ann: 2, bob: 1, cy: 0 });
  });

  it('two-agent, with an assistant and a user-proxy role from the agents folder', async () => {
    const path = crewFile('name: chat\nprocess: two-agent\nagents: [writer, tester]\nassistant: writer\nuser_proxy: tester\nmax_rounds: 2\n');
    const model = scriptedModel((request) =>
      request.system?.startsWith('You stand in for a user')
        ? reply.finish({ summary: 'One clear line.' }, 'accept')
        : reply.finish({ result: 'Queues hold work until a worker takes it.' }),
    );

    const result = await loadCrew(path, { tools }).run('Summarize queues in one line.', { model });

    expect(result).toMatchObject({
      process: 'two-agent',
      status: 'finished',
      output: { summary: 'One clear line.', result: 'Queues hold work until a worker takes it.', rounds: 1 },
    });
    expect(model.calls[1]!.system).toContain('A one-line summary of queues.'); // only the proxy knows the goal
    expect(model.calls[0]!.system).not.toContain('A one-line summary of queues.');
  });
});

describe('crew files: errors name the file, the line and the field', () => {
  it('an unknown process', () => {
    const { error, path } = loadError('name: c\nprocess: pipeline\nagents: [writer]\n');
    expect(error.message).toBe(
      `${path}:2, field "process": crew: Invalid option: expected one of "sequential"|"hierarchical"|"group-chat"|"consensual"|"two-agent"`,
    );
    expect(error.where).toEqual({ file: path, line: 2, field: 'process' });
  });

  it('an unknown field, at its line; a camelCase one is named with the snake_case key to write', () => {
    const { error, path } = loadError('name: c\nprocess: group-chat\nagents: [writer, analyst]\nmax_round: 3\n');
    expect(error.message).toBe(`${path}:4, field "max_round": crew: unknown field "max_round"`);
    const camel = loadError('name: c\nprocess: group-chat\nagents: [writer, analyst]\nmaxRounds: 3\n');
    expect(camel.error.message).toBe(
      `${camel.path}:4, field "maxRounds": crew: unknown field "maxRounds": keys in this file are snake_case, write "max_rounds"`,
    );
    const task = loadError(
      'name: c\nprocess: sequential\nagents: [writer]\ntasks:\n  - name: t\n    description: d\n    agent: writer\n    expectedOutput: e\n',
    );
    expect((task.error as DefinitionFileError).issues.map((issue) => [issue.line, issue.field, issue.message])).toEqual([
      [5, 'tasks.0.expected_output', 'crew: Invalid input'],
      [8, 'tasks.0.expectedOutput', 'crew: unknown field "expectedOutput": keys in this file are snake_case, write "expected_output"'],
    ]);
    const inline = loadError('name: c\nprocess: sequential\nagents:\n  - name: a\n    instructions: A.\n    maxTurns: 3\n');
    expect(inline.error.message).toBe(
      `${inline.path}:6, field "agents.0.maxTurns": crew: unknown field "maxTurns": keys in this file are snake_case, write "max_turns"`,
    );
  });

  it.each([
    ['sequential', 'judge: a', 'consensual'],
    ['sequential', 'max_delegations: 3', 'hierarchical'],
    ['sequential', 'selector: round-robin', 'group-chat'],
    ['sequential', 'output: { schema: { type: string } }', 'hierarchical, group-chat, consensual'],
    ['consensual', 'first_speaker: a', 'group-chat'],
    ['two-agent', 'tasks: []', 'sequential, hierarchical'],
    ['group-chat', 'user_proxy: p', 'two-agent'],
  ])('a %s crew with a field of another process (%s)', (process, line, owners) => {
    const field = line.split(':')[0]!;
    const { error, path } = loadError(`name: c\nprocess: ${process}\nagents:\n  - { name: a, instructions: A. }\n${line}\n`);
    expect(error).toBeInstanceOf(DefinitionFileError);
    expect((error as DefinitionFileError).issues[0]).toEqual({
      file: path,
      line: 5,
      field,
      message: `crew: field "${field}" does not apply to a ${process} crew (it is for ${owners} crews)`,
    });
  });

  it('a sequential crew with judge, max_delegations and selector: every one named, with its line', () => {
    const { error, path } = loadError(
      'name: c\nprocess: sequential\nagents: [writer]\njudge: writer\nmax_delegations: 3\nselector: round-robin\ntasks:\n  - { name: t, description: d, expected_output: e, agent: writer }\n',
    );
    expect(error.message.split('\n')).toEqual([
      `3 problems in ${path}:`,
      `  ${path}:4, field "judge": crew: field "judge" does not apply to a sequential crew (it is for consensual crews)`,
      `  ${path}:5, field "max_delegations": crew: field "max_delegations" does not apply to a sequential crew (it is for hierarchical crews)`,
      `  ${path}:6, field "selector": crew: field "selector" does not apply to a sequential crew (it is for group-chat crews)`,
    ]);
  });

  it('an unknown field inside an inline agent', () => {
    const { error, path } = loadError('name: c\nprocess: sequential\nagents:\n  - name: a\n    instructions: A.\n    tool: [lookup]\n');
    expect(error.message).toBe(`${path}:6, field "agents.0.tool": crew: unknown field "tool"`);
  });

  it('a mistake in an inline role points at its line and its full path from the crew file', () => {
    const { error, path } = loadError('name: c\nprocess: sequential\nagents:\n  - name: a\n    instructions: A.\n    tools: [lookup, browse]\n');
    expect(error.message).toBe(`${path}:6, field "agents.0.tools.1": unknown tool "browse"; registered tools: lookup`);
    const proxy = loadError(
      'name: c\nprocess: two-agent\nagents:\n  - { name: a, instructions: A. }\n  - name: p\n    kind: user-proxy\n    goal: G.\n    model: gpt-4.1\n',
    );
    expect(proxy.error.where).toEqual({ file: proxy.path, line: 8, field: 'agents.1.model' });
  });

  it("a crew's manager model and selector manager are checked at load, with their line", () => {
    const manager = loadError('name: c\nprocess: hierarchical\nagents: [writer]\nmanager:\n  model: gpt-4.1\n');
    expect(manager.error.message).toMatch(
      new RegExp(`^${manager.path}:5, field "manager.model": "gpt-4.1" is not a model string \\(did you mean "openai:gpt-4.1"\\?\\)`),
    );
    const missing = join(root, 'no-such-cassette.json');
    const selector = loadError(`name: c\nprocess: group-chat\nagents: [writer, analyst]\nselector:\n  manager: "replay:${missing}"\n`);
    expect(selector.error.message).toBe(
      `${selector.path}:5, field "selector.manager": the cassette ${missing} of "replay:${missing}" does not exist (record it with TROUPE_RECORD=1 and TROUPE_RECORD_MODEL)`,
    );
    expect(() =>
      loadCrew(crewFile('name: c\nprocess: group-chat\nagents: [writer, analyst]\nselector: { manager: "scripted:later" }\n'), { tools }),
    ).not.toThrow();
  });

  it('every problem of the file at once, each with its line and full path', () => {
    const { error, path } = loadError(`name: c
process: hierarchical
agents:
  - writer
  - name: a
    instructions: A.
    tools: [browse]
  - ghost
manager: { model: nope }
tasks:
  - { name: t, description: d, expected_output: { schema: { type: strnig } }, agent: writer }
`);
    expect(error).toBeInstanceOf(DefinitionFileError);
    expect((error as DefinitionFileError).issues.map((issue) => [issue.line, issue.field])).toEqual([
      [7, 'agents.1.tools.0'],
      [8, 'agents.2'],
      [9, 'manager.model'],
      [11, 'tasks.0.expected_output.schema'],
    ]);
    expect(error.message.split('\n')).toEqual([
      `4 problems in ${path}:`,
      `  ${path}:7, field "agents.1.tools.0": unknown tool "browse"; registered tools: lookup`,
      `  ${path}:8, field "agents.2": no role named "ghost" in ${join(root, 'agents')} (found: analyst, tester, writer)`,
      expect.stringMatching(new RegExp(`^  ${path}:9, field "manager.model": "nope" is not a model string`)),
      `  ${path}:11, field "tasks.0.expected_output.schema": not a usable JSON Schema: Unsupported type: strnig`,
    ]);
    const schema = loadError('name: c\nprocess: pipeline\nagents:\n  - { name: a, instructions: A., tool: x }\nmaxRound: 3\n');
    expect((schema.error as DefinitionFileError).issues.map((issue) => [issue.line, issue.field])).toEqual([
      [2, 'process'],
      [5, 'maxRound'],
      [4, 'agents.0.tool'],
    ]);
  });

  it('a JSON crew file with a syntax error says JSON, with line and column', () => {
    const dir = join(root, 'crews', 'json-crew');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'crew.json');
    writeFileSync(path, '{\n  "name": "c",\n  "process": "sequential",\n  "agents": ["writer",]\n}\n');
    expect(() => loadCrew(path, { tools })).toThrow(`${path}:4:23: not valid JSON: Unexpected token ']'`);
  });

  it('a task naming an agent the crew does not have', () => {
    const { error, path } = loadError(`name: c
process: sequential
agents: [writer]
tasks:
  - name: write
    description: Write.
    expected_output: Text.
    agent: editor
`);
    expect(error.message).toBe(`${path}:8, field "tasks.0.agent": "editor" is not one of the crew's agents (writer)`);
  });

  it('a task whose context names a later task (sequential)', () => {
    const { error, path } = loadError(`name: c
process: sequential
agents: [writer]
tasks:
  - name: outline
    description: Outline.
    expected_output: Text.
    agent: writer
    context: [polish]
  - name: polish
    description: Polish.
    expected_output: Text.
    agent: writer
`);
    expect(error.message).toBe(`${path}:9, field "tasks.0.context": Task "outline" takes context from "polish", which is not an earlier task of crew "c".`);
  });

  it('a context error in a later task points at that task', () => {
    const { error } = loadError(`name: c
process: sequential
agents: [writer]
tasks:
  - name: outline
    description: Outline.
    expected_output: Text.
    agent: writer
  - name: draft
    description: Draft.
    expected_output: Text.
    agent: writer
    context: [polish]
`);
    expect(error.where).toMatchObject({ line: 13, field: 'tasks.1.context' });
  });

  it.each([
    ['an unknown type', '{ type: strnig }', 'Unsupported type: strnig'],
    ['a reference to nothing', "{ type: object, properties: { a: { $ref: '#/nowhere' } } }", 'Reference not found: #/nowhere'],
  ])('a JSON Schema that is not usable: %s', (_, schema, why) => {
    const { error, path } = loadError(`name: c
process: sequential
agents: [writer]
tasks:
  - name: write
    description: Write.
    agent: writer
    expected_output:
      schema: ${schema}
`);
    expect(error.message).toBe(`${path}:9, field "tasks.0.expected_output.schema": not a usable JSON Schema: ${why}`);
  });

  it('a two-agent crew whose userProxy is not a user-proxy role', () => {
    const { error, path } = loadError('name: c\nprocess: two-agent\nagents: [writer, analyst]\nassistant: writer\nuser_proxy: analyst\n');
    expect(error.message).toBe(`${path}:5, field "user_proxy": "analyst" is not a role of kind user-proxy`);
  });

  it('a user proxy given a task in another process', () => {
    const { error, path } = loadError(
      'name: c\nprocess: sequential\nagents: [tester]\ntasks:\n  - { name: t, description: d, expected_output: e, agent: tester }\n',
    );
    expect(error.message).toBe(`${path}:5, field "tasks.0.agent": "tester" is a user proxy; only the two-agent process uses one`);
  });

  it("a process's own check, mapped back to the file (a group chat finisher who is not a member)", () => {
    const { error, path } = loadError('name: c\nprocess: group-chat\nagents: [writer, analyst]\nfinishers: [editor]\n');
    expect(error.message).toBe(`${path}:4, field "finishers": Group chat "c" names "editor" in finishers, who is not a member (members: writer, analyst).`);
  });

  it('a named agent that is not in the agents folder', () => {
    const { error, path } = loadError(
      'name: c\nprocess: sequential\nagents: [writer, editor]\ntasks:\n  - { name: t, description: d, expected_output: e, agent: writer }\n',
    );
    expect(error.message).toBe(`${path}:3, field "agents.1": no role named "editor" in ${join(root, 'agents')} (found: analyst, tester, writer)`);
  });

  it('a missing agents folder', () => {
    const missing = join(root, 'no-such-folder');
    const { error, path } = loadError('name: c\nprocess: sequential\nagents: [writer]\n', { tools, agentsDir: missing });
    expect(error.message).toBe(`${path}:3, field "agents.0": ${missing}: cannot read the roles folder: ENOENT (looking for role "writer")`);
  });
});

describe('crew files: roles, judges and task lines', () => {
  // Only the roles a crew names are built with its tools: analyst.yaml's `lookup` is not needed here.
  it('a crew naming some roles of the folder does not need the tools of the others', () => {
    expect(() =>
      loadCrew(crewFile('name: c\nprocess: sequential\nagents: [writer]\ntasks:\n  - { name: t, description: d, expected_output: e, agent: writer }\n'), {
        tools: [],
      }),
    ).not.toThrow();
  });

  // The judge must be one of the file's agents to be named, and every agent becomes a member.
  it('a consensual crew with a judge', () => {
    const path = crewFile(
      'name: c\nprocess: consensual\njudge: chair\nagents:\n  - { name: a, instructions: A. }\n  - { name: b, instructions: B. }\n  - { name: chair, instructions: You judge. }\n',
    );
    expect(() => loadCrew(path)).not.toThrow();
  });
});

describe('crew files: the typed form loadCrew(path, { output })', () => {
  const brief = `name: b
process: hierarchical
agents: [writer]
output:
  schema: { type: object, required: [summary, words], properties: { summary: { type: string }, words: { type: integer } } }
`;

  it('a schema that cannot fit the file is an error at the line of the output schema', () => {
    const wrongType = loadError(brief, { tools, output: z.object({ summary: z.number() }) });
    expect(wrongType.error.message).toBe(
      `${wrongType.path}:5, field "output.schema": the output schema given to loadCrew does not fit the crew's output schema: at "summary", the file's schema gives string where number is expected`,
    );
    const missing = loadError(brief, { tools, output: z.object({ summary: z.string(), title: z.string() }) });
    expect(missing.error.message).toMatch(/:5, field "output.schema": .*at "title", an expected property is not in the file's schema$/);
    const words = loadError(
      'name: c\nprocess: sequential\nagents: [writer]\ntasks:\n  - { name: t, description: d, expected_output: A line., agent: writer }\n',
      {
        tools,
        output: z.object({ line: z.string() }),
      },
    );
    expect(words.error.message).toBe(
      `${words.path}:5, field "tasks.0.expected_output": the output schema given to loadCrew does not fit the last task's output (words: a string): at the top, the file's schema gives string where object is expected`,
    );
  });

  it("the caller's schema also checks the result: the model is told and fixes it, and the output is the schema's", async () => {
    const path = crewFile(
      'name: c\nprocess: sequential\nagents: [writer]\ntasks:\n  - name: t\n    description: Count.\n    agent: writer\n    expected_output: { schema: { type: object, required: [n], properties: { n: { type: integer } } } }\n',
    );
    const model = scriptedModel([reply.finish({ n: 9 }), reply.finish({ n: 3 })]);
    const crew = loadCrew(path, {
      tools,
      output: z.object({
        n: z
          .number()
          .max(5)
          .transform((n) => `${n} items`),
      }),
    });

    const result = await crew.run('Count', { model });

    expect((model.calls[1]!.messages.at(-1) as ToolMessage).content[0]!.output).toMatch(/^The result is invalid: n: Too big: expected number to be <=5/);
    expect(result.status).toBe('finished');
    const n: string | undefined = result.status === 'finished' ? result.output.n : undefined; // typed by the schema, transform applied
    expect(n).toBe('3 items');
  });
});
