// Bad input for every kind of file Troupe reads (role, crew, handler configuration, --input JSON,
// replay cassette): a syntax error, a wrong type, an unknown key, a missing file and a huge one.
// Each goes through the real command in a child process, as a user meets it: exit 2, a message
// naming the file, the line and the field, no stack trace, and no run in the store.
// The command is the dist/ build that vitest's global setup compiles once (test/support/build-once.ts).
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand, type CommandResult } from '../support/run-command.js';

const build = resolve('dist');
const work = mkdtempSync(join(tmpdir(), 'troupe-bad-input-'));
const home = join(work, 'home');
// One 50 MB file, generated here and hard-linked under each name: refused before it is parsed.
const huge = join(work, 'huge.data');

/** Runs the troupe command (bin/troupe.js, with every layer) in `cwd`. */
function troupe(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CommandResult> {
  return runCommand(process.execPath, [join(build, 'bin/troupe.js'), ...args], {
    cwd: options.cwd ?? work,
    env: { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', REDIS_URL: '', TROUPE_DEBUG: '', TROUPE_HOME: home, ...options.env },
  });
}

/** Every file under the store's folder: a run rejected at load must leave none. */
function storeFiles(root = home): string[] {
  try {
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
  } catch {
    return [];
  }
}

/** Exit 2, the file named (with line and field when given), no stack trace, nothing stored. */
function expectRejected(result: CommandResult, message: RegExp): void {
  expect(result.stderr, result.stderr).toMatch(message);
  expect(result.status, result.stderr).toBe(2);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr).not.toMatch(/unexpected error/);
  expect(storeFiles()).toEqual([]);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let projects = 0;
/** A project folder: agents/<name>.yaml and crews/c/crew.yaml, as `troupe run` expects them. */
function project(files: Record<string, string>): string {
  const root = join(work, `project-${++projects}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    if (text === 'HUGE') linkSync(huge, join(root, path));
    else writeFileSync(join(root, path), text);
  }
  return root;
}

const goodCrew = 'name: c\nprocess: sequential\nagents: [writer]\ntasks:\n  - { name: t, description: d, expected_output: e, agent: writer }\n';
const goodRole = 'name: writer\ninstructions: You write.\n';

beforeAll(() => {
  // Realistic content (one long JSON/YAML string), 50 MB.
  writeFileSync(huge, Buffer.concat([Buffer.from('"'), Buffer.alloc(50 * 1024 * 1024, 'a'), Buffer.from('"\n')]));
  // A workflow with a strict input and one code step; `zod` resolves through a link to node_modules.
  mkdirSync(join(work, 'bad-input'));
  symlinkSync(resolve('node_modules'), join(work, 'node_modules'), 'junction');
  writeFileSync(
    join(work, 'bad-input', 'workflow.js'),
    `import { z } from 'zod';
import { codeTask, defineWorkflow } from '${pathToFileURL(join(build, 'src', 'index.js')).href}';
const input = z.strictObject({ amount: z.number() });
const double = codeTask({ name: 'double', input, output: z.object({ amount: z.number() }), run: ({ amount }) => ({ amount: amount * 2 }) });
export default defineWorkflow({ name: 'bad-input', input, tasks: [double] });
`,
  );
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('bad input: every file kind, through the troupe command', { timeout: 300_000 }, () => {
  it('a valid workflow run is stored (so "nothing stored" below means something)', async () => {
    const items = join(work, 'good-items.json');
    writeFileSync(items, '[{ "amount": 2 }]');
    const own = join(work, 'good-home');
    const result = await troupe(['run', join(work, 'bad-input', 'workflow.js'), '--input', items, '--quiet'], { env: { TROUPE_HOME: own } });
    expect(result.status, result.stderr).toBe(0);
    expect(storeFiles(own).length).toBeGreaterThan(0);
  });

  it('role files', async () => {
    const run = async (role: string, crew = goodCrew) => {
      const root = project({ 'agents/writer.yaml': role, 'crews/c/crew.yaml': crew });
      return {
        at: escapeRegExp(join(root, 'agents', 'writer.yaml')),
        root,
        result: await troupe(['run', 'c', '--request', 'hi', '--model', 'scripted'], { cwd: root }),
      };
    };
    // The cases of a kind run at once: each is its own process and its own project.
    const [syntax, type, unknown, missing, big] = await Promise.all([
      run('name: writer\n  instructions: [\n'),
      run('name: writer\ninstructions: You write.\nmax_turns: ten\n'),
      run('name: writer\ninstructions: You write.\ngaol: typo\n'),
      run(goodRole, goodCrew.replace('[writer]', '[ghost]')),
      run('HUGE'),
    ]);
    expectRejected(syntax.result, new RegExp(`${syntax.at}:1:7: not valid YAML: Nested mappings are not allowed in compact mappings\\n`));
    expectRejected(type.result, new RegExp(`${type.at}:3, field "max_turns": role: Invalid input: expected number, received string`));
    expectRejected(unknown.result, new RegExp(`${unknown.at}:3, field "gaol": role: unknown field "gaol"`));
    expectRejected(missing.result, new RegExp(`crews/c/crew.yaml:3, field "agents.0": no role named "ghost" in ${escapeRegExp(join(missing.root, 'agents'))}`));
    expectRejected(big.result, new RegExp(`${big.at}: the role file is 50.0 MiB; Troupe reads role files of at most 1.0 MiB`));
  });

  it('crew files', async () => {
    const run = async (crew: string, name = 'crews/c/crew.yaml') => {
      const root = project({ 'agents/writer.yaml': goodRole, [name]: crew });
      return { file: escapeRegExp(join(root, name)), result: await troupe(['run', join(root, name), '--request', 'hi', '--model', 'scripted'], { cwd: root }) };
    };
    const absent = join(work, 'no-such', 'crew.yaml');
    const [syntax, type, unknown, many, missing, big] = await Promise.all([
      run('{\n  "name": "c",\n  "process": "sequential"\n  "agents": ["writer"]\n}\n', 'crews/c/crew.json'),
      run(goodCrew.replace('process: sequential', 'process: 5')),
      run(`${goodCrew}maxRound: 3\n`),
      run('name: c\nprocess: hierarchical\nagents:\n  - name: a\n    instructions: A.\n    tools: [lookup, browse]\nmanager: { model: gpt-4.1 }\n'),
      troupe(['run', absent, '--request', 'hi']),
      run('HUGE'),
    ]);
    expectRejected(syntax.result, new RegExp(`${syntax.file}:4:3: not valid JSON: Expected ',' or '}' after property value\\n`));
    expectRejected(type.result, new RegExp(`${type.file}:2, field "process": crew: Invalid option`));
    expectRejected(
      unknown.result,
      new RegExp(`${unknown.file}:6, field "maxRound": crew: unknown field "maxRound": keys in this file are snake_case, write "max_round"`),
    );
    const f = many.file;
    expectRejected(
      many.result,
      new RegExp(
        `3 problems in ${f}:\\n  ${f}:6, field "agents.0.tools.0": unknown tool "lookup"; registered tools: none\\n  ${f}:6, field "agents.0.tools.1": unknown tool "browse"; registered tools: none\\n  ${f}:7, field "manager.model": "gpt-4.1" is not a model string`,
      ),
    );
    expectRejected(missing, new RegExp(`field "crew": nothing to run named "${escapeRegExp(absent)}": looked for ${escapeRegExp(absent)}`));
    expectRejected(big.result, new RegExp(`${big.file}: the crew file is 50.0 MiB; Troupe reads crew files of at most 1.0 MiB`));
  });

  it('handler configuration files', async () => {
    const run = async (text: string) => {
      const root = project({ 'config.yaml': text });
      return { file: escapeRegExp(join(root, 'config.yaml')), result: await troupe(['coordinator', 'compare', join(root, 'config.yaml')], { cwd: root }) };
    };
    const base = 'name: c\ntrigger: {}\nprompt: p\n';
    const absent = join(work, 'no-such-config.yaml');
    const [syntax, type, unknown, missing, big] = await Promise.all([
      run(`${base}tools: [a, b\n`),
      run(`${base}limits:\n  max_turns: many\n`),
      run(`${base}coordinater: script\n`),
      troupe(['coordinator', 'compare', absent]),
      run('HUGE'),
    ]);
    expectRejected(syntax.result, new RegExp(`${syntax.file}:5:1: not valid YAML: `));
    expect(syntax.result.stderr).not.toMatch(/column \d+:\s*$/);
    expectRejected(type.result, new RegExp(`${type.file}:5, field "limits.max_turns": configuration: Invalid input: expected number, received string`));
    expectRejected(unknown.result, new RegExp(`${unknown.file}:4, field "coordinater": configuration: unknown field "coordinater"`));
    expectRejected(missing, new RegExp(`${escapeRegExp(absent)}: the configuration file does not exist`));
    expectRejected(big.result, new RegExp(`${big.file}: the configuration file is 50.0 MiB; Troupe reads configuration files of at most 1.0 MiB`));
  });

  it('input files (--input)', async () => {
    const workflow = join(work, 'bad-input', 'workflow.js');
    const run = async (text: string) => {
      const root = project({ 'items.json': text });
      return { file: escapeRegExp(join(root, 'items.json')), result: await troupe(['run', workflow, '--input', join(root, 'items.json')]) };
    };
    const absent = join(work, 'no-such-items.json');
    const [syntax, type, unknown, missing, big] = await Promise.all([
      run('[\n  { "amount": 1 },\n  { "amount": 2 ]\n'),
      run('[\n  { "amount": 1 },\n  { "amount": "two" }\n]\n'),
      run('[\n  { "id": "a", "input": { "amount": 1 } },\n  { "id": "b", "input": { "amount": 2, "note": "x" } }\n]\n'),
      troupe(['run', workflow, '--input', absent]),
      run('HUGE'),
    ]);
    expectRejected(syntax.result, new RegExp(`${syntax.file}:3:17: not valid JSON: Expected ',' or '}' after property value`));
    expectRejected(
      type.result,
      new RegExp(
        `${type.file}:3, field "1.amount": item item-2 does not fit the input of workflow "bad-input": Invalid input: expected number, received string`,
      ),
    );
    expectRejected(
      unknown.result,
      new RegExp(`${unknown.file}:3, field "1.input.note": item b does not fit the input of workflow "bad-input": unknown field "note"`),
    );
    expectRejected(missing, new RegExp(`${escapeRegExp(absent)}: the input file does not exist`));
    expectRejected(big.result, new RegExp(`${big.file}: the input file is 50.0 MiB; Troupe reads input files of at most 32.0 MiB`));
  });

  it('replay cassettes (--model replay:<file>)', async () => {
    const workflow = join(work, 'bad-input', 'workflow.js');
    const items = join(work, 'cassette-items.json');
    writeFileSync(items, '[{ "amount": 2 }]');
    const run = async (text: string) => {
      const root = project({ 'cassette.json': text });
      return {
        file: escapeRegExp(join(root, 'cassette.json')),
        result: await troupe(['run', workflow, '--input', items, '--model', `replay:${join(root, 'cassette.json')}`]),
      };
    };
    const absent = join(work, 'no-such-cassette.json');
    const [syntax, type, unknown, missing, big] = await Promise.all([
      run('{\n  "version": 1,\n  "entries": [}\n'),
      run('{\n  "version": 1,\n  "entries": {}\n}\n'),
      run('{\n  "version": 1,\n  "entries": [],\n  "recorded": "today"\n}\n'),
      troupe(['run', workflow, '--input', items, '--model', `replay:${absent}`]),
      run('HUGE'),
    ]);
    expectRejected(syntax.result, new RegExp(`${syntax.file}:3:15: not valid JSON: Unexpected token '}'\\n`));
    expectRejected(
      type.result,
      new RegExp(`${type.file}:3, field "entries": malformed cassette \\(record it again\\): Invalid input: expected array, received object`),
    );
    expectRejected(unknown.result, new RegExp(`${unknown.file}:4, field "recorded": malformed cassette \\(record it again\\): unknown field "recorded"`));
    expectRejected(missing, new RegExp(`field "--model": the cassette ${escapeRegExp(absent)} of "replay:${escapeRegExp(absent)}" does not exist`));
    expectRejected(big.result, new RegExp(`${big.file}: the cassette is 50.0 MiB; Troupe reads cassettes of at most 32.0 MiB`));
  });
});

describe('modules of the project that throw when loaded', { timeout: 300_000 }, () => {
  it("a crew's tools.js: a configuration error naming the file and what it threw, exit 2, the stack only with --debug", async () => {
    const root = project({
      'agents/writer.yaml': goodRole,
      'crews/c/crew.yaml': goodCrew,
      'crews/c/tools.js': 'throw new TypeError("no database configured");\n',
    });
    const tools = escapeRegExp(join(root, 'crews/c/tools.js'));
    const plain = await troupe(['run', 'c', '--request', 'hi'], { cwd: root });
    expectRejected(plain, new RegExp(`^troupe: ${tools}: the crew's tools module could not be loaded: it threw TypeError: no database configured\\n$`));
    const debug = await troupe(['run', 'c', '--request', 'hi', '--debug'], { cwd: root });
    expect(debug.status).toBe(2);
    expect(debug.stderr).toMatch(/Caused by: TypeError: no database configured\n\s+at .*tools\.js/);
    const setup = project({
      'agents/writer.yaml': goodRole,
      'crews/c/crew.yaml': goodCrew,
      'crews/c/tools.js': 'export default () => { throw new Error("the work directory is missing"); };\n',
    });
    const thrown = await troupe(['run', 'c', '--request', 'hi'], { cwd: setup, env: { TROUPE_DEBUG: '1' } });
    expect(thrown.status).toBe(2);
    expect(thrown.stderr).toMatch(
      new RegExp(
        `^troupe: ${escapeRegExp(join(setup, 'crews/c/tools.js'))}: the default function of the crew's tools module threw an error: the work directory is missing\\n`,
      ),
    );
    expect(thrown.stderr).toMatch(/Caused by: Error: the work directory is missing\n\s+at /);
    // A module that throws the key it was given: neither the message nor the stack shows it.
    const key = 'sk-ant-test-SECRET123';
    const leaky = project({
      'agents/writer.yaml': goodRole,
      'crews/c/crew.yaml': goodCrew,
      'crews/c/tools.js': 'export default () => { throw new Error(`bad key ${process.env.ANTHROPIC_API_KEY}`); };\n',
    });
    const leaked = await troupe(['run', 'c', '--request', 'hi', '--debug'], { cwd: leaky, env: { ANTHROPIC_API_KEY: key } });
    expect(leaked.status).toBe(2);
    expect(leaked.stderr).toContain('threw an error: bad key [redacted]');
    expect(leaked.stderr).not.toContain(key);
  });
});

describe('a closed stdout', { timeout: 300_000 }, () => {
  // `troupe runs list | head`: the reader is gone before the command writes. Both entry points.
  it.each(['bin/troupe.js', 'src/cli/main.js'])('ends %s quietly with exit 0, not an EPIPE stack trace', async (entry) => {
    const result = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn('node', [join(build, entry), 'runs', 'list'], {
        cwd: work,
        env: { ...process.env, REDIS_URL: '', TROUPE_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stderr }));
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
