import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, ConfigurationError, defineTool, loadRole, loadRoles, UserProxy } from 'troupe';

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
      write('researcher.yaml', 'name: researcher\nrole: Senior researcher\ngoal: Find facts\nbackstory: Careful.\ntools: [search]\nmodel: anthropic:claude-sonnet-4-5\nallowDelegation: true\n'),
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
    ['wrong type', 'name: a\nrole: r\nallowDelegation: "yes"\n', /bad\.yaml:3, field "allowDelegation": role: Invalid input: expected boolean, received string/],
    ['bad name', 'name: "two words"\nrole: r\n', /bad\.yaml:1, field "name": role: use 1 to 64 letters/],
    ['unknown tool', 'name: a\nrole: r\ntools:\n  - search\n  - browse\n', /bad\.yaml:5, field "tools\.1": unknown tool "browse"; registered tools: search/],
    ['bad model', 'name: a\nrole: r\nmodel: claude-sonnet-4-5\n', /bad\.yaml:3, field "model": "claude-sonnet-4-5" is not a model string \(did you mean "anthropic:claude-sonnet-4-5"\?\)/],
    ['no persona', 'name: a\n', /bad\.yaml:1, field "role": give either instructions, or a role/],
    ['proxy with tools', 'name: p\nkind: user-proxy\ngoal: g\ntools: [search]\n', /bad\.yaml:4, field "tools": a user-proxy role has no tools/],
    ['not YAML', 'name: a\n  role: [\n', /bad\.yaml:\d+: not valid YAML/],
  ])('reports a %s with file, line and field', (_, text, message) => {
    const path = write('bad.yaml', text);
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

  it('loads a folder of roles and refuses two with one name', () => {
    const folder = mkdtempSync(join(tmpdir(), 'troupe-roles-'));
    writeFileSync(join(folder, 'a.yaml'), 'name: a\ninstructions: Do a.\n');
    writeFileSync(join(folder, 'b.yml'), 'name: b\ninstructions: Do b.\n');
    expect([...loadRoles(folder).keys()]).toEqual(['a', 'b']);
    writeFileSync(join(folder, 'c.yaml'), 'name: a\ninstructions: again\n');
    expect(() => loadRoles(folder)).toThrow(/c\.yaml, field "name": a second role is named "a"/);
  });
});
