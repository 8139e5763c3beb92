import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from 'troupe';
import { transpiledTroupe } from '../support/transpile.js';

let troupe: string;
beforeAll(async () => {
  troupe = await transpiledTroupe();
}, 120_000);

function child(root: string, command: 'run' | 'resume', runId: string) {
  const process_ = spawn(process.execPath, ['test/reliability/fixtures/outbox-workflow.mjs', troupe, root, command, runId], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  process_.stdout.on('data', (chunk) => (out += chunk));
  process_.stderr.on('data', (chunk) => (err += chunk));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; summary?: RunSummary; stderr: string }>((resolve, reject) => {
    process_.on('error', reject);
    process_.on('exit', (code, signal) => resolve({ code, signal, stderr: err, ...(out ? { summary: JSON.parse(out) as RunSummary } : {}) }));
  });
  return { process: process_, done };
}

async function until(probe: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !probe(); waited += 50) {
    if (waited > 60_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the outbox: a side effect made before a crash is not made again when the step runs again', () => {
  it('SIGKILL after send_email, then resume: the repeated call is answered from the record, the email goes once', async () => {
    const root = mkdtempSync(join(tmpdir(), 'troupe-outbox-'));
    const first = child(root, 'run', 'run_outbox');
    // Killed once the call's result is recorded (tool-call-end is traced right after the record):
    // a kill between the effect and its record is the one gap the outbox cannot close (see Outbox).
    await until(() => existsSync(join(root, 'sent-ann@example.com.marker')) && existsSync(join(root, 'trace.log')), 'the email to be sent and recorded');
    first.process.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');

    const resumed = await child(root, 'resume', 'run_outbox').done;
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.summary!.status).toBe('done');
    const sent = readFileSync(join(root, 'sent.log'), 'utf8').trim().split('\n');
    expect(sent).toHaveLength(1);
    const key = sent[0]!.split(' ')[0]!;
    expect(key).toMatch(/^effect-[0-9a-f]{32}$/);
    // The model read the same result both times, and the trace of the second process says it was a replay.
    expect(resumed.summary!.items[0]!.outputs.send).toEqual({ sent: true, note: `queued as ${key}` });
    const ends = readFileSync(join(root, 'trace.log'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { replayed?: boolean; output: string });
    expect(ends.map((end) => end.replayed === true)).toEqual([false, true]);
    expect(ends[1]!.output).toBe(`queued as ${key}`);
  }, 120_000);
});
