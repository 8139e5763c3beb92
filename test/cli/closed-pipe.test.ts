// `troupe runs show <run> | head -1`, `troupe runs list | head -1`: the reader of stdout leaves
// before the command is done, and the command ends quietly (exit 0, nothing on stderr) instead
// of dying on EPIPE with a stack trace. Through the built command (dist/, built by the global setup).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../support/run-command.js';

const command = resolve('dist/bin/troupe.js');
const home = mkdtempSync(join(tmpdir(), 'troupe-closed-pipe-'));
const env = { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', REDIS_URL: '', TROUPE_HOME: home, TROUPE_DEBUG: '' };
let runId = '';

/** Runs the command with its stdout read by `head -1` in a shell, and reports the command's own exit status. */
function throughHead(args: string[]): Promise<{ status: number | null; firstLine: string; stderr: string }> {
  const quoted = [process.execPath, command, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
  return runCommand('bash', ['-c', `${quoted} | head -1; exit "\${PIPESTATUS[0]}"`], { env }).then(({ status, stdout, stderr }) => ({
    status,
    firstLine: stdout,
    stderr,
  }));
}

/** Runs the command with a stdout whose reader is gone before the command writes anything. */
function readerGone(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stderr }));
  });
}

describe('a closed pipe on stdout', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    // A run with items, transitions and a review, so `runs show` has lines to write.
    const run = await runCommand(process.execPath, [command, 'run', 'invoices', '--input', 'crews/invoices/documents.json', '--json', '--quiet'], { env });
    expect(run.status).toBe(3);
    runId = (JSON.parse(run.stdout) as { runId: string }).runId;
  }, 180_000);

  it('troupe runs show <run> | head -1 prints the first line and ends with exit 0, quietly', async () => {
    const full = await runCommand(process.execPath, [command, 'runs', 'show', runId], { env });
    expect(full.stdout.split('\n').length).toBeGreaterThan(5);
    const cut = await throughHead(['runs', 'show', runId]);
    expect(cut.stderr).toBe('');
    expect(cut.status).toBe(0);
    expect(cut.firstLine).toBe(`${full.stdout.split('\n')[0]}\n`);
  });

  it('troupe runs list | head -1 ends with exit 0, quietly', async () => {
    const cut = await throughHead(['runs', 'list']);
    expect(cut.stderr).toBe('');
    expect(cut.status).toBe(0);
    expect(cut.firstLine).toContain(runId);
  });

  it.each([[['runs', 'show']], [['runs', 'show', '--json']]])(
    'troupe %j <run> with the reader gone before the first write: exit 0, no EPIPE stack trace',
    async (args) => {
      const result = await readerGone([...args, runId]);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    },
  );
});
