import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listRunnables } from '../../src/cli/commands/list.js';
import { runCommand } from '../support/run-command.js';

const repository = process.cwd();

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

describe('troupe list', { timeout: 300_000 }, () => {
  let project: string;
  beforeEach(() => {
    project = mkdtempSync(join(tmpdir(), 'troupe-list-'));
    write(project, {
      'crews/tutor/crew.yaml': 'name: tutor\ndescription: Tutors.\nprocess: sequential\nagents: [helper]\n',
      'crews/tutor/on-push.yaml': 'name: on-push\ndescription: Reacts to a push.\ntrigger: { kind: event, source: git }\nprompt: hi\n',
      'crews/flow/workflow.js': '// Sorts documents. Code decides the rest.\nexport default {};\n',
      'crews/notes/README.md': 'not runnable\n',
      'agents/helper.yaml': 'name: helper\ndescription: >\n  Helps with\n  anything.\ninstructions: Help.\n',
      'agents/proxy.yaml': 'name: proxy\nkind: user-proxy\ngoal: A tutor that works. And more.\n',
    });
    process.chdir(project);
  });
  afterEach(() => process.chdir(repository));

  it("finds a project's crews, workflows, configurations and roles, with the name troupe run takes and a description", () => {
    const project = listRunnables().filter((entry) => entry.from === 'project');
    expect(project).toEqual([
      { kind: 'workflow', name: 'flow', path: 'crews/flow/workflow.js', description: 'Sorts documents.', from: 'project' },
      { kind: 'crew', name: 'tutor', path: 'crews/tutor/crew.yaml', description: 'Tutors.', from: 'project' },
      // The second thing in a folder runs by its path.
      { kind: 'handler', name: 'crews/tutor/on-push.yaml', path: 'crews/tutor/on-push.yaml', description: 'Reacts to a push.', from: 'project' },
      { kind: 'role', name: 'helper', path: 'agents/helper.yaml', description: 'Helps with anything.', from: 'project' },
      { kind: 'role', name: 'proxy', path: 'agents/proxy.yaml', description: 'A tutor that works.', from: 'project' },
    ]);
  });

  it("from another folder, adds Troupe's own examples, which run by name from there", () => {
    const own = listRunnables().filter((entry) => entry.from === 'package');
    expect(own.map((entry) => entry.name)).toEqual(expect.arrayContaining(['invoices', 'math-tutor', 'research', 'website']));
    const invoices = own.find((entry) => entry.name === 'invoices')!;
    expect(invoices.kind).toBe('workflow');
    expect(resolve(invoices.path)).toBe(resolve(repository, 'dist/crews/invoices/workflow.js'));
  });

  it('prints a table, and JSON with --json, through the built command', async () => {
    const env = { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', TROUPE_HOME: mkdtempSync(join(tmpdir(), 'troupe-list-home-')) };
    const main = join(repository, 'dist/src/cli/main.js');
    const [table, json, here] = await Promise.all([
      runCommand(process.execPath, [main, 'list'], { env, cwd: project }),
      runCommand(process.execPath, [main, 'list', '--json'], { env, cwd: project }),
      runCommand(process.execPath, [main, 'list', '--json'], { env, cwd: repository }),
    ]);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^crew\s+tutor\s+crews\/tutor\/crew.yaml\s+Tutors\.$/m);
    expect(table.stdout).toMatch(/^role\s+helper\s+agents\/helper.yaml\s+Helps with anything\.$/m);
    expect(json.status).toBe(0);
    const listed = JSON.parse(json.stdout) as Array<{ kind: string; name: string; from: string }>;
    expect(listed.filter((entry) => entry.from === 'project').map((entry) => [entry.kind, entry.name])).toEqual([
      ['workflow', 'flow'],
      ['crew', 'tutor'],
      ['handler', 'crews/tutor/on-push.yaml'],
      ['role', 'helper'],
      ['role', 'proxy'],
    ]);
    // In the repository itself: its own crews and roles, once each, as the project's.
    const repo = JSON.parse(here.stdout) as Array<{ kind: string; name: string; from: string }>;
    expect(repo.every((entry) => entry.from === 'project')).toBe(true);
    expect(repo.map((entry) => [entry.kind, entry.name])).toEqual(
      expect.arrayContaining([
        ['crew', 'math-tutor'],
        ['crew', 'research'],
        ['workflow', 'invoices'],
        ['graph', 'website'],
        ['role', 'code-assistant'],
      ]),
    );
  });
});
