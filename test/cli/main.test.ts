import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/run-command.js';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const run = (entry: string, args: string[]) =>
  runCommand(process.execPath, [entry, ...args], { env: { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '' } });
const troupe = (...args: string[]) => run('dist/src/cli/main.js', args);

// Each test starts the command a few times; on a loaded 2-core machine one start can take many
// seconds. The limit only catches a hang.
describe('troupe command', { timeout: 300_000 }, () => {
  it('prints its version and help', async () => {
    expect((await troupe('--version')).stdout.trim()).toBe(version);
    expect((await troupe('--help')).stdout).toMatch(/Usage: troupe \[options\] \[command\][\s\S]*run \[options\] \[crew\]/);
  });

  it('refuses an unknown command with exit code 2 and names it', async () => {
    const result = await troupe('frobnicate');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it('runs a crew offline on its recorded transcript, showing progress on stderr', async () => {
    const result = await troupe('run', 'math-tutor', '--json');
    expect(result.status).toBe(0);
    const output = JSON.parse(result.stdout) as { status: string; process: string; output: { rounds: number } };
    expect(output).toMatchObject({ status: 'finished', process: 'two-agent', output: { rounds: 2 } });
    expect(result.stderr).toMatch(/no API key is set: replaying the recorded transcript crews\/math-tutor\/cassette.json/);
    expect(result.stderr).toMatch(/code_assistant: run_tests done/);
  });

  it('names what is wrong with exit code 2: an unknown crew, a bad model string, a bad input file', async () => {
    const [missing, badModel, badInput] = await Promise.all([
      troupe('run', 'nope'),
      troupe('run', 'math-tutor', '--model', 'gpt-4.1'),
      troupe('run', 'math-tutor', '--input', 'package.json'),
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/field "crew": nothing to run named "nope": looked for crews\/nope\/crew.yaml/);
    expect(badModel.status).toBe(2);
    expect(badModel.stderr).toMatch(/field "--model": "gpt-4.1" is not a model string \(did you mean "openai:gpt-4.1"\?\)/);
    expect(badInput.status).toBe(2);
    expect(badInput.stderr).toMatch(/package.json:1, field "input": the input must be a JSON string or an object with an "input" string/);
  });

  it('the troupe executable adds the dashboard, which serves its pages until stopped', async () => {
    expect((await run('dist/bin/troupe.js', ['--help'])).stdout).toMatch(/dashboard \[options\]\s+Serve the web dashboard/);
    const home = mkdtempSync(join(tmpdir(), 'troupe-dashboard-cli-'));
    const server = spawn('node', ['dist/bin/troupe.js', 'dashboard', '--port', '0'], {
      env: { ...process.env, TROUPE_HOME: home, REDIS_URL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      server.stderr.on('data', (chunk) => {
        err += chunk;
        const found = /dashboard on (http:\/\/[\d.:]+)/.exec(err);
        if (found) resolve(found[1]!);
      });
      server.on('exit', () => reject(new Error(`the dashboard exited: ${err}`)));
    });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<h1>Recent runs</h1>');
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
