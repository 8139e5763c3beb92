// Every kind of run `troupe run` starts is recorded in the store and listed by `troupe runs list`,
// through the built command, offline: a crew on its cassette, a role file on a scripted model, a
// handler configuration on a trigger file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/run-command.js';

const home = mkdtempSync(join(tmpdir(), 'troupe-runs-kinds-home-'));
const env = { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', REDIS_URL: '', TROUPE_RECORD: '', TROUPE_HOME: home };
const main = resolve('dist/src/cli/main.js');
const troupe = (...args: string[]) => runCommand(process.execPath, [main, ...args], { env });
const scratch = mkdtempSync(join(tmpdir(), 'troupe-runs-kinds-'));

interface Listed {
  id: string;
  kind: string;
  name: string;
  status: string;
  totals?: { modelCalls: number; costUsd: number };
}

describe('troupe runs list|show covers every kind of run', { timeout: 600_000 }, () => {
  it('records a crew run, a role run and a handler run, lists them with filters and shows their timelines', async () => {
    const crew = await troupe('run', 'math-tutor', '--quiet');
    expect(crew.status).toBe(0);

    const role = join(scratch, 'greeter.yaml');
    writeFileSync(role, 'name: greeter\ndescription: Greets people.\ninstructions: Greet the person by name.\n');
    const replies = join(scratch, 'greeter-replies.yaml');
    writeFileSync(replies, 'greeter:\n  - Thinking about a greeting.\n  - finish: Hello, Ada!\n');
    const agent = await troupe('run', role, '--request', 'Greet Ada.', '--model', `scripted:${replies}`, '--quiet');
    expect(agent.stderr).not.toMatch(/troupe: /);
    expect(agent.status).toBe(0);

    const handler = await troupe('run', 'crews/pr-merged/pr-merged.yaml', '--trigger', 'crews/pr-merged/events/merged.json', '--quiet');
    expect(handler.stderr).not.toMatch(/troupe: /);
    expect(handler.status).toBe(0);

    const listed = await troupe('runs', 'list', '--json');
    expect(listed.status).toBe(0);
    const runs = JSON.parse(listed.stdout) as Listed[];
    const tutor = runs.find((run) => run.kind === 'crew');
    expect(tutor).toMatchObject({ name: 'math-tutor', status: 'finished' });
    expect(tutor!.totals!.modelCalls).toBeGreaterThan(0);
    expect(runs.find((run) => run.kind === 'agent')).toMatchObject({ name: 'greeter', status: 'finished', totals: { modelCalls: 2 } });
    const merged = runs.find((run) => run.kind === 'handler');
    expect(merged).toMatchObject({ status: 'finished' });
    expect(merged!.name).toMatch(/pr-merged/);

    const text = await troupe('runs', 'list');
    expect(text.stdout).toMatch(new RegExp(`^${tutor!.id}  crew +math-tutor +finished  \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z +[\\d.]+s  \\$\\d+\\.\\d{4}$`, 'm'));
    const onlyCrews = JSON.parse((await troupe('runs', 'list', '--kind', 'crew', '--json')).stdout) as Listed[];
    expect(onlyCrews.map((run) => run.kind)).toEqual(['crew']);
    expect(JSON.parse((await troupe('runs', 'list', '--name', 'greeter', '--status', 'finished', '--json')).stdout)).toHaveLength(1);
    expect(JSON.parse((await troupe('runs', 'list', '--status', 'failed', '--json')).stdout)).toEqual([]);
    const badKind = await troupe('runs', 'list', '--kind', 'nonsense');
    expect(badKind.status).toBe(2);
    expect(badKind.stderr).toMatch(/--kind is one of/);

    const shown = await troupe('runs', 'show', tutor!.id);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^${tutor!.id}  crew math-tutor: finished`));
    expect(shown.stdout).toMatch(/\d+ model calls, \d+ tokens/);
    expect(shown.stdout).toMatch(/model call \S+ turn 1: \d+ in, \d+ out/);
    expect(shown.stdout).toMatch(/run finished/);

    const full = JSON.parse((await troupe('runs', 'show', runs.find((run) => run.kind === 'agent')!.id, '--json')).stdout) as {
      run: Listed;
      timeline: Array<{ type: string; messages?: string; reply?: string }>;
    };
    expect(full.run.name).toBe('greeter');
    const calls = full.timeline.filter((entry) => entry.type === 'model-call');
    expect(calls).toHaveLength(2);
    expect(calls[0]!.messages).toContain('Greet Ada.');
    expect(calls[1]!.reply).toContain('Hello, Ada!');

    const handlerShown = await troupe('runs', 'show', merged!.id);
    expect(handlerShown.stdout).toMatch(/handler .*pr-merged.*: finished/);
    expect(handlerShown.stdout).toMatch(/→ \S+ /);
  });
});
