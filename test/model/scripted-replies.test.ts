import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, ConfigurationError, DefinitionFileError, defineTool, defineWorkflow, extractTask, loadCrew, loadRole, resolveModel } from 'troupe';
import { FileStore } from 'troupe/store';
import { registerModel, scriptedModel } from 'troupe/testing';
import { checkModelString } from '../../src/model/check-model-string.js';
import { readScriptedReplies, ScriptedRepliesModel } from '../../src/model/scripted-replies.js';

const root = mkdtempSync(join(tmpdir(), 'troupe-replies-'));
let count = 0;
/** Writes a replies file (or any file) and returns its path. */
function file(text: string, extension = 'yaml'): string {
  const path = join(root, `replies-${++count}.${extension}`);
  writeFileSync(path, text);
  return path;
}

const notes: string[] = [];
const note = defineTool({
  name: 'note',
  description: 'Keeps a note.',
  input: z.object({ text: z.string() }),
  run: ({ text }) => {
    notes.push(text);
    return `noted: ${text}`;
  },
});

describe('a replies file (scripted:<file>)', () => {
  afterEach(() => {
    notes.length = 0;
  });

  it('answers an agent with its replies in order: a text, a tool call, then a finish', async () => {
    const replies = file(`
helper:
  - Let me think.
  - tool: note
    input: { text: remember the milk }
  - text: Done.
    finish: I noted it.
`);
    const agent = new Agent({ name: 'helper', instructions: 'Help.', tools: [note] });
    const result = await agent.run('Note the milk.', { model: `scripted:${replies}` });
    expect(result.status).toBe('finished');
    expect(result.output).toBe('I noted it.');
    expect(result.model).toBe(`scripted:${replies}`);
    expect(notes).toEqual(['remember the milk']);
    expect(result.turns).toBe(3);
    const toolResults = result.transcript.flatMap((message) => (message.role === 'tool' ? message.content.map((part) => part.output) : []));
    expect(toolResults).toContain('noted: remember the milk');
  });

  it('gives each agent its own replies, in a crew of two, from JSON too', async () => {
    const replies = file(
      JSON.stringify({
        researcher: [{ finish: { facts: ['queues are durable', 'jobs retry'] } }],
        writer: [{ tool: 'note', input: { text: 'draft' } }, { finish: 'Queues are durable and their jobs retry.' }],
      }),
      'json',
    );
    mkdirSync(join(root, 'crew'), { recursive: true });
    const crewPath = join(root, 'crew', 'crew.yaml');
    writeFileSync(
      crewPath,
      `name: pair
process: sequential
agents:
  - name: writer
    instructions: You write one sentence.
    tools: [note]
  - name: researcher
    instructions: You find facts.
tasks:
  - name: facts
    description: List facts about queues.
    agent: researcher
    expected_output:
      schema: { type: object, required: [facts], properties: { facts: { type: array, items: { type: string } } } }
  - name: write
    description: Write one sentence from the facts.
    agent: writer
    context: [facts]
    expected_output: One sentence.
`,
    );
    const crew = loadCrew(crewPath, { tools: [note] });
    const result = await crew.run('queues', { model: `scripted:${replies}` });
    expect(result.status).toBe('finished');
    expect(result.output).toBe('Queues are durable and their jobs retry.');
    expect(result.tasks.map((task) => [task.task, task.output])).toEqual([
      ['facts', { facts: ['queues are durable', 'jobs retry'] }],
      ['write', 'Queues are durable and their jobs retry.'],
    ]);
    expect(notes).toEqual(['draft']);
  });

  it("answers a workflow's model task by the task's name", async () => {
    const replies = file(`extract:
  - tool: record_extract
    input: { value: { vendor: ACME, total: 10 }, evidence: [{ source: doc, quote: "Total: 10" }] }
`);
    const workflow = defineWorkflow({
      name: 'one',
      input: z.object({ text: z.string() }),
      tasks: [
        extractTask({
          name: 'extract',
          input: z.object({ text: z.string() }),
          output: z.object({ vendor: z.string(), total: z.number() }),
          prompt: 'Extract from: {{text}}',
          model: `scripted:${replies}`,
        }),
      ],
    });
    const store = new FileStore({ root: mkdtempSync(join(tmpdir(), 'troupe-replies-store-')) });
    const summary = await workflow.run([{ id: 'i', input: { text: 'ACME invoice. Total: 10' } }], { store });
    expect(summary.items[0]).toMatchObject({ state: 'accepted', outputs: { extract: { vendor: 'ACME', total: 10 } } });
  });

  it('can be named in a role file; the file is checked when the role is loaded', async () => {
    const replies = file('helper:\n  - finish: hello\n');
    const rolePath = join(root, 'helper.yaml');
    writeFileSync(rolePath, `name: helper\ninstructions: Greet.\nmodel: scripted:${replies}\n`);
    const role = loadRole(rolePath, { kind: 'assistant' });
    expect((await role.run('Greet me.')).output).toBe('hello');

    const broken = join(root, 'broken-role.yaml');
    writeFileSync(broken, `name: helper\ninstructions: Greet.\nmodel: scripted:${join(root, 'missing.yaml')}\n`);
    expect(() => loadRole(broken)).toThrow(/broken-role.yaml:3, field "model": .*missing.yaml.*replies file does not exist/);
  });

  it('goes on where an agent stopped within one run, and starts again in a new run', async () => {
    const replies = file('helper:\n  - finish: first\n  - finish: second\n');
    const agent = new Agent({ name: 'helper', instructions: 'Help.' });
    const model = `scripted:${replies}`;
    expect((await agent.run('a', { model, runId: 'run-1' })).output).toBe('first');
    expect((await agent.run('b', { model, runId: 'run-1' })).output).toBe('second');
    expect((await agent.run('c', { model, runId: 'run-2' })).output).toBe('first');
  });

  it('says which agent ran out of replies, which has none, and when a finish has no finish tool to call', async () => {
    const replies = file('helper:\n  - Only talk.\nproposer:\n  - finish: { plan: A }\n');
    const model = `scripted:${replies}`;
    const helper = new Agent({ name: 'helper', instructions: 'Help.' });
    await expect(helper.run('a', { model })).rejects.toThrow(
      new RegExp(`${replies}, field "helper": agent "helper" asked the model for reply 2, but the replies file has 1 for it`),
    );
    const stranger = new Agent({ name: 'stranger', instructions: 'Hi.' });
    const missing = await stranger.run('a', { model }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ConfigurationError);
    expect((missing as ConfigurationError).message).toContain(
      'agent "stranger" asked the model, but the replies file has no replies for it (it has: helper, proposer)',
    );
    const proposer = new Agent({ name: 'proposer', instructions: 'Propose.', output: z.object({ plan: z.string() }), finishToolName: 'propose' });
    await expect(proposer.run('a', { model })).rejects.toThrow(
      /reply 1 of agent "proposer" finishes, but the agent has no tool named "finish": name its finish tool with "tool:"/,
    );
    const named = file('proposer:\n  - finish: { plan: A }\n    tool: propose\n');
    expect((await proposer.run('a', { model: `scripted:${named}` })).output).toEqual({ plan: 'A' });
  });

  it('reports every problem of a file at once, with its line and field', () => {
    const path = file(`helper:
  - tool: note
    input: [not, an, object]
  - 42
  - finish: done
    extra: true
  - { words: hi }
writer: []
"bad name": [hi]
`);
    const error = (() => {
      try {
        readScriptedReplies(path);
      } catch (caught) {
        return caught;
      }
    })() as DefinitionFileError;
    expect(error).toBeInstanceOf(DefinitionFileError);
    expect(error.exitCode).toBe(2);
    const issues = error.issues.map((issue) => [issue.line, issue.field]);
    expect(issues).toEqual(expect.arrayContaining([[8, 'writer']]));
    expect(error.issues.map((issue) => issue.file)).toEqual(error.issues.map(() => path));
    expect(error.message).toContain('give the agent at least one reply');
  });

  it('names each bad reply by its line and field', () => {
    const path = file('helper:\n  - tool: note\n    input: [x]\n  - 42\n  - finish: done\n    extra: true\n  - { words: hi }\n');
    let error: DefinitionFileError | undefined;
    try {
      readScriptedReplies(path);
    } catch (caught) {
      error = caught as DefinitionFileError;
    }
    expect(error?.issues.map((issue) => [issue.line, issue.field])).toEqual([
      [3, 'helper.0.input'],
      [4, 'helper.1'],
      [6, 'helper.2.extra'],
      [7, 'helper.3'],
    ]);
    expect(error?.issues[1]?.message).toBe('a reply is a text, a tool call { tool, input } or a finish { finish: <result> }');
    expect(error?.issues[2]?.message).toBe('unknown field "extra"');
    expect(error?.issues[3]?.message).toBe('a reply is a text, a tool call { tool, input } or a finish { finish: <result> }, not an object with "words"');
  });

  it('is a model string: checked where it is read, resolved beside registered scripted models', async () => {
    expect(() => checkModelString(`scripted:${file('helper: nope\n')}`, { field: '--model' })).toThrow(DefinitionFileError);
    expect(() => checkModelString(`scripted:${file('helper: [\n')}`)).toThrow(/not valid YAML/);
    expect(() => checkModelString(`scripted:${file('{"helper": [}', 'json')}`)).toThrow(/not valid JSON/);
    const replies = file('helper:\n  - hi\n');
    expect(resolveModel(`scripted:${replies}`)).toBeInstanceOf(ScriptedRepliesModel);
    // The same file resolves to the same model, so agents resolving it on their own share their positions.
    expect(resolveModel(`scripted:${replies}`)).toBe(resolveModel(`scripted:${replies}`));
    const unregister = registerModel('registered', scriptedModel(['from code']));
    try {
      const response = await resolveModel('scripted:registered').generate({ messages: [{ role: 'user', content: 'hi' }] });
      expect(response.content).toEqual([{ type: 'text', text: 'from code' }]);
    } finally {
      unregister();
    }
    // A client called outside an agent, on a file with one agent, answers as that agent.
    const direct = await resolveModel(`scripted:${replies}`).generate({ messages: [{ role: 'user', content: 'hi' }] });
    expect(direct.content).toEqual([{ type: 'text', text: 'hi' }]);
  });
});
