import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FixtureService, startFixtureService } from '../../crews/pr-merged/fixture-service.js';
import { runCommand } from '../support/run-command.js';

// crews/pr-merged through the built CLI, as the README runs it: by name and by the path of its
// YAML, with either coordinator, offline (the llm coordinator replays cassette.json), against a
// fixture code host and chat service of the test's own, whose reactions are the effect to see.
// The cassette holds the model's mistake: it reacts to a message that links two pull requests.

const services: FixtureService[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.close();
});

async function troupe(args: string[], env: NodeJS.ProcessEnv = {}) {
  const service = await startFixtureService();
  services.push(service);
  const result = await runCommand(process.execPath, ['dist/bin/troupe.js', ...args], {
    env: {
      ...process.env,
      ANTHROPIC_API_KEY: '',
      OPENAI_API_KEY: '',
      TROUPE_RECORD: '',
      // Not CI's Redis: its outbox would remember these triggers (fixed ids) from an earlier run and skip their effects.
      REDIS_URL: '',
      TROUPE_HOME: mkdtempSync(join(tmpdir(), 'troupe-pr-merged-home-')),
      PR_MERGED_GITHUB_URL: service.url,
      PR_MERGED_CHAT_URL: service.url,
      ...env,
    },
  });
  return { ...result, reactions: service.reactions.map((r) => `${r.timestamp} :${r.name}:`) };
}

describe('crews/pr-merged through npx troupe run', () => {
  it.each([
    ['pr-merged', 'llm'],
    ['crews/pr-merged/pr-merged.yaml', 'llm'],
    ['pr-merged', 'script'],
    ['crews/pr-merged/pr-merged.yaml', 'script'],
  ])('%s with the %s coordinator reacts to a message whose one pull request was merged', async (name, coordinator) => {
    const run = await troupe(['run', name, '--trigger', 'crews/pr-merged/events/merged.json', '--coordinator', coordinator]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`pr-merged [${coordinator}] trigger msg-1763700001.000100: done`);
    expect(run.stdout).toContain('→ add_reaction {"channel":"eng","ts":"1763700001.000100","reaction":"merged"} = ok');
    expect(run.stdout).toContain('— as expected');
    expect(run.reactions).toEqual(['1763700001.000100 :merged:']);
  });

  it("the llm coordinator reacts to a message with two pull requests, which golden.json marks wrong; the script does not (the file's coordinator is llm)", async () => {
    const llm = await troupe(['run', 'pr-merged', '--trigger', 'crews/pr-merged/events/two-pulls.json']);
    expect(llm.status, llm.stderr).toBe(0);
    expect(llm.stderr).toContain('replaying the recorded transcript crews/pr-merged/cassette.json');
    expect(llm.stdout).toContain('pr-merged [llm] trigger msg-1763700003.000300: done');
    expect(llm.stdout).toContain(
      'golden (golden.json): expected no side effects; this run: add_reaction {"channel":"eng","reaction":"merged","ts":"1763700003.000300"} — WRONG',
    );
    expect(llm.reactions).toEqual(['1763700003.000300 :merged:']);

    const script = await troupe(['run', 'crews/pr-merged/pr-merged.yaml', '--trigger', 'crews/pr-merged/events/two-pulls.json', '--coordinator', 'script']);
    expect(script.status, script.stderr).toBe(0);
    expect(script.stdout).toContain('pr-merged [script] trigger msg-1763700003.000300: done');
    expect(script.stdout).toContain('no tool calls');
    expect(script.stdout).toContain('this run: no side effects — as expected');
    expect(script.reactions).toEqual([]);
  });

  it('--json prints the outcome with the golden verdict', async () => {
    const run = await troupe(['run', 'pr-merged', '--trigger', 'crews/pr-merged/events/open.json', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const outcome = JSON.parse(run.stdout) as { status: string; toolCalls: Array<{ tool: string }>; golden: { wrong: boolean } };
    expect(outcome.status).toBe('done');
    expect(outcome.toolCalls.map((call) => call.tool)).toEqual(['get_pull_request']);
    expect(outcome.golden).toEqual({ expected: [], actual: [], wrong: false });
    expect(run.reactions).toEqual([]);
  });

  it('coordinator compare over the golden triggers counts the llm mistake', async () => {
    // No service named: each run gets a fresh fixture service of its own, so no run sees another's reactions.
    const run = await troupe(['coordinator', 'compare', 'crews/pr-merged/pr-merged.yaml'], { PR_MERGED_GITHUB_URL: '', PR_MERGED_CHAT_URL: '' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('run 1: llm WRONG, script ok; only llm: add_reaction {"channel":"eng","reaction":"merged","ts":"1763700003.000300"}');
    expect(run.stdout).toContain('pr-merged: 5 runs; llm wrong 1 (20%), script wrong 0 (0%), differing 1');
  });

  it('bad input exits 2: a trigger file that is not JSON (file and line), a trigger the configuration does not handle, no trigger', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-pr-merged-bad-'));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{\n  "source": "chat",\n  "data": { "type": "message" \n}\n');
    const other = join(dir, 'push.json');
    writeFileSync(other, JSON.stringify({ source: 'github', data: { type: 'push' } }));
    const notJson = await troupe(['run', 'pr-merged', '--trigger', broken]);
    expect([notJson.status, notJson.stderr.trim()]).toEqual([2, `troupe: ${broken}:5:1: not valid JSON: Expected ',' or '}' after property value`]);
    const unhandled = await troupe(['run', 'pr-merged', '--trigger', other, '--quiet']);
    expect(unhandled.status).toBe(2);
    expect(unhandled.stderr).toContain(`troupe: ${other}: configuration "pr-merged" does not handle this trigger: pr-merged (source is github, not chat)`);
    const none = await troupe(['run', 'pr-merged']);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('is a handler configuration: give it a trigger, --trigger <file.json>');
    expect([notJson, unhandled, none].flatMap((run) => run.reactions)).toEqual([]);
  });
});
