// `troupe run <name | path>` through the built command, as a user runs it, with no API key: every
// runnable folder of crews/ by its name and by its path, and a role file on a scripted model.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/run-command.js';

const home = mkdtempSync(join(tmpdir(), 'troupe-run-cli-home-'));
const env = { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', REDIS_URL: '', TROUPE_RECORD: '', TROUPE_HOME: home };
const main = resolve('dist/src/cli/main.js');
const troupe = (...args: string[]) => runCommand(process.execPath, [main, ...args], { env });
const scratch = mkdtempSync(join(tmpdir(), 'troupe-run-cli-'));
function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

// Each test starts the command several times; on a loaded 2-core machine one start can take many seconds. The limit only catches a hang.
describe('troupe run <name | path>', { timeout: 600_000 }, () => {
  it('runs a role file alone on a request, on a model scripted in a replies file, with no key', async () => {
    const role = file('greeter.yaml', 'name: greeter\ndescription: Greets people.\ninstructions: Greet the person by name.\n');
    const replies = file('greeter-replies.yaml', 'greeter:\n  - Thinking about a greeting.\n  - finish: Hello, Ada!\n');
    const result = await troupe('run', role, '--request', 'Greet Ada.', '--model', `scripted:${replies}`, '--json');
    expect(result.stderr).not.toMatch(/troupe: /);
    expect(result.status).toBe(0);
    const run = JSON.parse(result.stdout) as { status: string; output: string; agent: string; model: string; turns: number };
    expect(run).toMatchObject({ status: 'finished', output: 'Hello, Ada!', agent: 'greeter', model: `scripted:${replies}`, turns: 2 });

    const text = await troupe('run', role, '--request', 'Greet Ada.', '--model', `scripted:${replies}`, '--quiet');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^greeter: finished — .*\nHello, Ada!\n2 model calls, \d+ tokens, \$0\.0000, [\d.]+s\n$/);
  });

  it('tries a new crew of a project by name, on a replies file for its agents, with no key', async () => {
    const project = mkdtempSync(join(tmpdir(), 'troupe-run-cli-project-'));
    mkdirSync(join(project, 'crews', 'pair'), { recursive: true });
    writeFileSync(
      join(project, 'crews', 'pair', 'crew.yaml'),
      `name: pair
description: A researcher finds facts, a writer turns them into a sentence.
process: sequential
agents:
  - name: researcher
    instructions: You find facts.
  - name: writer
    instructions: You write one sentence.
tasks:
  - name: facts
    description: List two facts about the topic.
    agent: researcher
    expected_output: Two facts.
  - name: write
    description: Write one sentence from the facts.
    agent: writer
    context: [facts]
    expected_output: One sentence.
`,
    );
    writeFileSync(
      join(project, 'replies.yaml'),
      'researcher:\n  - finish: "Queues are durable. Jobs retry."\nwriter:\n  - finish: Queues keep jobs safe and retry them.\n',
    );
    const args = ['run', 'pair', '--request', 'queues', '--model', 'scripted:replies.yaml', '--json', '--quiet'];
    const result = await runCommand(process.execPath, [main, ...args], { env, cwd: project });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 'finished',
      output: 'Queues keep jobs safe and retry them.',
      tasks: [{ task: 'facts', output: 'Queues are durable. Jobs retry.' }, { task: 'write' }],
    });
  });

  it('runs agents/code-assistant.yaml with the tools of agents/, by path and by name: its tool calls do their work', async () => {
    const replies = file(
      'assistant-replies.yaml',
      `code_assistant:
  - tool: write_file
    input: { path: hello.ts, content: "export const hello = 'world';\\n" }
  - tool: list_files
  - finish: I wrote hello.ts.
`,
    );
    const [byPath, byName] = await Promise.all([
      troupe('run', 'agents/code-assistant.yaml', '--request', 'Write hello.ts.', '--model', `scripted:${replies}`, '--json'),
      troupe('run', 'code-assistant', '--request', 'Write hello.ts.', '--model', `scripted:${replies}`, '--json'),
    ]);
    for (const result of [byPath, byName]) {
      expect(result.status).toBe(0);
      expect(result.stderr).toMatch(/\[agents\] work directory: /);
      const run = JSON.parse(result.stdout) as { output: string; transcript: Array<{ role: string; content: unknown }> };
      expect(run.output).toBe('I wrote hello.ts.');
      const outputs = run.transcript.flatMap((message) =>
        message.role === 'tool' ? (message.content as Array<{ output: string }>).map((part) => part.output) : [],
      );
      // Then the finish tool's own answer.
      expect(outputs.slice(0, 2)).toEqual(['wrote hello.ts (2 lines)', 'hello.ts']);
    }
  });

  it('says what is wrong with a role run, exit 2: no request, a broken replies file, a reply the agent cannot use, a user-proxy role', async () => {
    const role = file('helper.yaml', 'name: helper\ninstructions: Help.\n');
    const broken = file('broken-replies.yaml', 'helper:\n  - finish: done\n    extra: 1\n');
    const short = file('short-replies.yaml', 'helper:\n  - Only words.\n');
    const [noRequest, badReplies, exhausted, proxy] = await Promise.all([
      troupe('run', role, '--model', `scripted:${short}`),
      troupe('run', role, '--request', 'hi', '--model', `scripted:${broken}`),
      troupe('run', role, '--request', 'hi', '--model', `scripted:${short}`, '--quiet'),
      troupe('run', 'agents/tutor-user.yaml', '--request', 'hi', '--model', `scripted:${short}`),
    ]);
    expect(noRequest.status).toBe(2);
    expect(noRequest.stderr).toMatch(/field "--request": the role .*helper.yaml needs a request/);
    expect(badReplies.status).toBe(2);
    expect(badReplies.stderr).toContain(`${broken}:3, field "helper.0.extra": unknown field "extra"`);
    expect(exhausted.status).toBe(2);
    expect(exhausted.stderr).toContain(`${short}, field "helper": agent "helper" asked the model for reply 2, but the replies file has 1 for it`);
    expect(proxy.status).toBe(2);
    expect(proxy.stderr).toMatch(/tutor_user is a user-proxy role/);
  });

  it('runs the math-tutor crew by the path of its folder and of its crew file', async () => {
    const results = await Promise.all([
      troupe('run', 'crews/math-tutor', '--json', '--quiet'),
      troupe('run', 'crews/math-tutor/crew.yaml', '--json', '--quiet'),
    ]);
    for (const result of results) {
      expect(result.status).toBe(0);
      expect(result.stderr).toMatch(/replaying the recorded transcript crews\/math-tutor\/cassette.json/);
      expect(JSON.parse(result.stdout)).toMatchObject({ status: 'finished', process: 'two-agent', output: { rounds: 2 } });
    }
  });

  it('runs the research crew by name and by path', async () => {
    const results = await Promise.all([troupe('run', 'research', '--json', '--quiet'), troupe('run', 'crews/research/', '--json', '--quiet')]);
    for (const result of results) {
      expect(result.status).toBe(0);
      expect(result.stderr).toMatch(/replaying the recorded transcript crews\/research\/cassette.json/);
      expect(JSON.parse(result.stdout)).toMatchObject({ status: 'finished', process: 'hierarchical' });
    }
  });

  it('runs the invoices workflow by name, by its folder and by its .ts source (run compiled)', async () => {
    const results = await Promise.all(
      ['invoices', 'crews/invoices', 'crews/invoices/workflow.ts'].map((target) =>
        troupe('run', target, '--input', 'crews/invoices/documents.json', '--json', '--quiet'),
      ),
    );
    for (const result of results) {
      // One invoice waits for a person's approval: exit 3.
      expect(result.status).toBe(3);
      expect(result.stderr).toMatch(/replaying the recorded transcript crews\/invoices\/cassette.json/);
      expect(JSON.parse(result.stdout)).toMatchObject({ workflow: 'invoices', counts: { accepted: 3, 'awaiting-review': 1, rejected: 1 } });
    }
  });

  it('runs the website work graph once from its seed, by name and by path: the change to the button flows to the page files', async () => {
    const [byName, byPath] = await Promise.all([troupe('run', 'website', '--json'), troupe('run', 'crews/website', '--quiet')]);
    expect(byName.status).toBe(0);
    expect(byName.stderr).toMatch(/replaying the recorded transcript crews\/website\/cassette.json/);
    expect(byName.stderr).toMatch(/a fresh store for this run of graph "website": /);
    const run = JSON.parse(byName.stdout) as { item: string; items: Array<{ id: string; version: number }> };
    expect(run.item).toBe('button');
    expect(run.items.map((item) => [item.id, item.version])).toEqual([
      ['button', 2],
      ['page-html', 2],
      ['page-script', 2],
      ['page-styles', 2],
    ]);
    expect(byPath.status).toBe(0);
    expect(byPath.stdout).toMatch(/^button> Button classes are now BEM/);
    expect(byPath.stdout).toMatch(/page-html v2 → page-styles: no-change/);
    expect(byPath.stdout).toMatch(/^page-styles v2: Selectors renamed/m);
  });

  it("runs Troupe's own examples by name from another folder", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'troupe-run-cli-elsewhere-'));
    const [research, website] = await Promise.all(
      ['research', 'website'].map((name) => runCommand(process.execPath, [main, 'run', name, '--json', '--quiet'], { env, cwd: elsewhere })),
    );
    expect(research!.status).toBe(0);
    expect(JSON.parse(research!.stdout)).toMatchObject({ status: 'finished', process: 'hierarchical' });
    expect(website!.status).toBe(0);
    expect((JSON.parse(website!.stdout) as { items: Array<{ version: number }> }).items.map((item) => item.version)).toEqual([2, 2, 2, 2]);
  });

  it('names a work graph item that does not exist, and every place looked for a name it cannot find (exit 2)', async () => {
    const [noItem, missing] = await Promise.all([troupe('run', 'website', '--item', 'footer', '--request', 'hi'), troupe('run', 'crews/nowhere')]);
    expect(noItem.status).toBe(2);
    expect(noItem.stderr).toMatch(/field "--item": graph "website" has no item "footer" \(its items: button, page-html, page-script, page-styles\)/);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nothing to run named "crews\/nowhere": looked for crews\/nowhere \(a crew.yaml/);
  });

  it('refuses an option of another kind of runnable instead of ignoring it (exit 2)', async () => {
    const trigger = file('trigger.json', '{"data":{"title":"x"}}');
    const [crewTrigger, crewCoordinator, roleExamples] = await Promise.all([
      troupe('run', 'math-tutor', '--trigger', trigger),
      troupe('run', 'crews/math-tutor', '--coordinator', 'script'),
      troupe('run', 'agents/tutor-user.yaml', '--request', 'hi', '--record-examples', join(scratch, 'examples.jsonl')),
    ]);
    expect([crewTrigger.status, crewCoordinator.status, roleExamples.status]).toEqual([2, 2, 2]);
    expect(crewTrigger.stderr).toMatch(/field "--trigger": --trigger is for handler configurations .*crew\.yaml is a crew/);
    expect(crewCoordinator.stderr).toMatch(/field "--coordinator": --coordinator is for handler configurations .* is a crew/);
    expect(roleExamples.stderr).toMatch(/field "--record-examples": --record-examples records a workflow's accepted tasks; .*tutor-user\.yaml is a role/);
  });
});
