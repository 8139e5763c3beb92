import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultModel } from '../../src/model/default-model.js';
import { anthropicMessage } from '../model/fake-anthropic-server.js';
import { anthropicStreamEvents, FakeStreamingServer } from '../model/fake-streaming-server.js';
import { runCommand } from '../support/run-command.js';

/*
 * `troupe run` against a local server that speaks the Messages API, streaming or whole: with
 * --live the model's text is on stderr before the run ends (the server holds the rest of the
 * stream until the test has read the first delta there); with --json through a pipe, stdout is
 * the JSON result alone and the model is not asked to stream.
 */

const entry = resolve('dist/bin/troupe.js');
const key = 'sk-ant-fake-live-cli-0123456789abcdef';
const crewYaml = `name: storyteller
process: sequential
agents:
  - name: teller
    instructions: Tell a very short story, then finish with its title.
tasks:
  - name: tell
    description: Tell the story.
    agent: teller
    expected_output: The title of the story.
`;
const finishCall = { id: 'toolu_fin', name: 'finish', json: ['{"result": "The ', 'Fox"}'] };

describe('troupe run shows a streaming model live', { timeout: 300_000 }, () => {
  let server: FakeStreamingServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    server = await FakeStreamingServer.start();
    dir = mkdtempSync(join(tmpdir(), 'troupe-live-'));
    writeFileSync(join(dir, 'crew.yaml'), crewYaml);
    env = {
      ...process.env,
      ANTHROPIC_API_KEY: key,
      ANTHROPIC_BASE_URL: server.url,
      OPENAI_API_KEY: '',
      REDIS_URL: '',
      TROUPE_HOME: join(dir, '.troupe'),
      NO_COLOR: '',
    };
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with --live, shows the text on stderr before the run ends, and keeps stdout for the result', async () => {
    const held = server.stream({
      events: anthropicStreamEvents({ text: ['Once upon ', 'a time, a fox.'], toolCalls: [finishCall] }),
      // message_start, ping, content_block_start, the first text_delta
      holdAfter: 4,
    });
    const child = spawn(process.execPath, [entry, 'run', join(dir, 'crew.yaml'), '--model', defaultModel, '--request', 'A fox', '--live'], {
      env,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let exited = false;
    const done = new Promise<number | null>((resolveExit) =>
      child.on('close', (status) => {
        exited = true;
        resolveExit(status);
      }),
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const firstText = new Promise<void>((resolveText) => {
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.includes('Once upon')) resolveText();
      });
    });
    await Promise.race([firstText, done]);

    // The server still holds the rest of the reply: the run cannot have ended.
    expect(exited).toBe(false);
    expect(stderr).toMatch(/teller: Once upon $/m);
    expect(stdout).toBe('');
    held.release();
    const status = await done;

    expect(status).toBe(0);
    expect(server.requests[0]!.body.stream).toBe(true);
    expect(stderr).toContain('teller: Once upon a time, a fox.\n');
    expect(stderr).toMatch(/→ teller calls finish/);
    // Not a terminal: no progress line drawn in place, no colour.
    expect(stderr).not.toContain('\x1b[');
    expect(stdout).toMatch(/^storyteller: finished/);
    expect(stdout).toContain('The Fox');
    expect(stdout).not.toContain('Once upon');
  });

  it('with --json through a pipe, prints only the JSON result on stdout and asks for no stream', async () => {
    server.reply(
      anthropicMessage([
        { type: 'text', text: 'Once upon a time, a fox.' },
        { type: 'tool_use', id: 'toolu_fin', name: 'finish', input: { result: 'The Fox' } },
      ]),
    );
    const result = await runCommand(process.execPath, [entry, 'run', join(dir, 'crew.yaml'), '--model', defaultModel, '--request', 'A fox', '--json'], {
      env,
      cwd: dir,
    });

    expect(result.status).toBe(0);
    expect(server.requests[0]!.body.stream).toBeUndefined();
    const output = JSON.parse(result.stdout) as { status: string; output: unknown };
    expect(output).toMatchObject({ status: 'finished', output: 'The Fox' });
    expect(result.stdout).not.toContain('\x1b[');
    expect(result.stderr).not.toContain('Once upon');
    expect(result.stderr).not.toContain(key);
  });
});
