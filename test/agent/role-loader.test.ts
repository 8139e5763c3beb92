import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, ConfigurationError, DefinitionFileError, defineTool, loadRole, loadRoles, UserProxy } from 'troupe';

const dir = mkdtempSync(join(tmpdir(), 'troupe-roles-'));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const search = defineTool({ name: 'search', description: 'Searches.', input: z.object({ q: z.string() }), run: () => [] });

describe('role files', () => {
  it('loads an assistant with its tools and a user proxy', () => {
    const researcher = loadRole(
      write(
        'researcher.yaml',
        'name: researcher\nrole: Senior researcher\ngoal: Find facts\nbackstory: Careful.\ntools: [search]\nmodel: anthropic:claude-sonnet-5-5\nallow_delegation: true\n',
      ),
      { tools: [search] },
    );
    expect(researcher).toBeInstanceOf(Agent);
    const agent = researcher as Agent;
    expect(agent.tools.names).toEqual(['search', 'finish']);
    expect(agent.systemMessage).toMatch(/^You are Senior researcher\.\n\nYour goal: Find facts\n\nCareful\./);
    expect(agent.options.allowDelegation).toBe(true);

    const proxy = loadRole(write('proxy.yaml', 'name: proxy\nkind: user-proxy\ngoal: A working quiz\n'));
    expect(proxy).toBeInstanceOf(UserProxy);
    expect((proxy as UserProxy).goal).toBe('A working quiz');
  });

  it.each([
    ['unknown field', 'name: a\nrole: r\ngaol: typo\n', /bad\.yaml:3, field "gaol": role: unknown field "gaol"/],
    [
      'wrong type',
      'name: a\nrole: r\nallow_delegation: "yes"\n',
      /bad\.yaml:3, field "allow_delegation": role: Invalid input: expected boolean, received string/,
    ],
    ['bad name', 'name: "two words"\nrole: r\n', /bad\.yaml:1, field "name": role: use 1 to 64 letters/],
    ['unknown tool', 'name: a\nrole: r\ntools:\n  - search\n  - browse\n', /bad\.yaml:5, field "tools\.1": unknown tool "browse"; registered tools: search/],
    [
      'bad model',
      'name: a\nrole: r\nmodel: claude-sonnet-5-5\n',
      /bad\.yaml:3, field "model": "claude-sonnet-5-5" is not a model string \(did you mean "anthropic:claude-sonnet-5-5"\?\)/,
    ],
    ['no persona', 'name: a\n', /bad\.yaml:1, field "role": give either instructions, or a role/],
    ['proxy with tools', 'name: p\nkind: user-proxy\ngoal: g\ntools: [search]\n', /bad\.yaml:4, field "tools": a user-proxy role has no tools/],
    ['not YAML', 'name: a\n  role: [\n', /bad\.yaml:1:7: not valid YAML: Nested mappings are not allowed in compact mappings$/],
    ['not JSON', '{ "name": "a",\n  "role": r }', /bad\.json:2:11: not valid JSON: Unexpected token 'r'$/, 'bad.json'],
  ])('reports a %s with file, line and field', (_, text, message, name = 'bad.yaml') => {
    const path = write(name, text);
    let error: unknown;
    try {
      loadRole(path, { tools: [search] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(message);
    expect((error as ConfigurationError).exitCode).toBe(2);
  });

  it('reports every problem of a role file at once, each with its line and field', () => {
    const schema = write('many.yaml', 'name: "two words"\nrole: r\nallow_delegation: "yes"\ngaol: typo\nmax_turns: 0\n');
    let error: unknown;
    try {
      loadRole(schema, { tools: [search] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DefinitionFileError);
    expect((error as DefinitionFileError).exitCode).toBe(2);
    expect((error as DefinitionFileError).issues.map((issue) => [issue.line, issue.field])).toEqual([
      [1, 'name'],
      [3, 'allow_delegation'],
      [5, 'max_turns'],
      [4, 'gaol'],
    ]);
    expect((error as Error).message).toMatch(new RegExp(`^4 problems in ${schema}:\n  ${schema}:1, field "name": role: use 1 to 64`));
    expect((error as Error).message).toContain(`\n  ${schema}:4, field "gaol": role: unknown field "gaol"`);

    const checks = write('checks.yaml', 'name: a\nmodel: gpt-4.1\ntools:\n  - browse\n  - search\n  - fetch\n');
    expect(() => loadRole(checks, { tools: [search] })).toThrow(
      new RegExp(
        `^4 problems in ${checks}:\n  ${checks}:2, field "model": "gpt-4.1" is not a model string.*\n  ${checks}:1, field "role": give either.*\n  ${checks}:4, field "tools.0": unknown tool "browse".*\n  ${checks}:6, field "tools.2": unknown tool "fetch"`,
      ),
    );
  });

  it('loads a folder of roles and refuses two with one name', () => {
    const folder = mkdtempSync(join(tmpdir(), 'troupe-roles-'));
    writeFileSync(join(folder, 'a.yaml'), 'name: a\ninstructions: Do a.\n');
    writeFileSync(join(folder, 'b.yml'), 'name: b\ninstructions: Do b.\n');
    expect([...loadRoles(folder).keys()]).toEqual(['a', 'b']);
    writeFileSync(join(folder, 'c.yaml'), 'name: a\ninstructions: again\n');
    expect(() => loadRoles(folder)).toThrow(/c\.yaml:1, field "name": a second role is named "a"/);
  });

  it('typed forms: the kind expected is checked against the file, and an output schema types the agent', () => {
    const assistant = write('assistant.yaml', 'name: a\ninstructions: Count.\nmax_turns: 3\n');
    const proxy = write('tester.yaml', 'name: t\nkind: user-proxy\ngoal: A quiz.\n');

    const counter = loadRole(assistant, { output: z.object({ n: z.number() }) });
    const schema: z.ZodType<{ n: number }> = counter.outputSchema; // Agent<{ n: number }>
    expect(schema.safeParse({ n: 1 }).success).toBe(true);
    expect(loadRole(assistant, { kind: 'assistant' }).name).toBe('a');
    expect(loadRole(proxy, { kind: 'user-proxy' }).goal).toBe('A quiz.');

    expect(() => loadRole(proxy, { kind: 'assistant' })).toThrow(`${proxy}:2, field "kind": the role is of kind user-proxy, but was loaded as an assistant`);
    expect(() => loadRole(proxy, { output: z.string() })).toThrow(/tester\.yaml:2, field "kind": the role is of kind user-proxy/);
    expect(() => loadRole(assistant, { kind: 'user-proxy' })).toThrow(
      `${assistant}:1, field "kind": the role is of kind assistant, but was loaded as a user proxy`,
    );
  });

  it('a camelCase key is named with the snake_case key to write', () => {
    const path = write('camel.yaml', 'name: a\ninstructions: A.\nallowDelegation: true\nmaxTurns: 3\n');
    expect(() => loadRole(path)).toThrow(
      `2 problems in ${path}:\n  ${path}:3, field "allowDelegation": role: unknown field "allowDelegation": keys in this file are snake_case, write "allow_delegation"\n` +
        `  ${path}:4, field "maxTurns": role: unknown field "maxTurns": keys in this file are snake_case, write "max_turns"`,
    );
  });
});
