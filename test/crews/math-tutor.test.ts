import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { approveTools } from 'troupe';
import { runMathTutor } from '../../crews/math-tutor/run.js';
import { summarizeTap, workspaceTools } from '../../tools/workspace.js';
import { executeToolCall } from '../../src/tools/execute-tool-call.js';
import { ToolSet } from '../../src/tools/tool-set.js';
import { manualClock } from 'troupe/testing';

describe('crews/math-tutor', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('builds the tutor offline from its recorded transcript; the code it wrote passes its tests', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const workDir = mkdtempSync(join(tmpdir(), 'math-tutor-test-'));

    const result = await runMathTutor(workDir);

    expect(result.status).toBe('finished');
    expect(result.process).toBe('two-agent');
    expect(result.tasks.map((t) => t.task)).toEqual(['round-1', 'round-2']);
    expect(result.usage.byAgent.tutor_user!.runs).toBe(3);
    expect(readFileSync(join(workDir, 'tutor.ts'), 'utf8')).toContain("export type Operation = '+' | '-' | '*' | '/';");
    expect(existsSync(join(workDir, 'cli.ts'))).toBe(true);
    const tests = workspaceTools(workDir).runTests;
    const approver = approveTools(['run_tests'], 'this test');
    const report = await executeToolCall({ type: 'tool-call', id: 't', name: 'run_tests', input: {} }, new ToolSet([tests]), {
      runId: 'r',
      clock: manualClock(),
      approver,
    });
    expect(report.output).toMatch(/^5 passed, 0 failed\n/);
  });

  it('keeps file tools inside the work directory', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'math-tutor-test-'));
    const tools = new ToolSet(Object.values(workspaceTools(workDir)));
    const approver = approveTools(['run_tests'], 'this test');
    const call = (name: string, input: unknown) =>
      executeToolCall({ type: 'tool-call', id: 'c', name, input }, tools, { runId: 'r', clock: manualClock(), approver });
    expect((await call('write_file', { path: '../escape.txt', content: 'x' })).output).toMatch(/"..\/escape.txt" is outside the work directory/);
    expect((await call('write_file', { path: '/etc/passwd', content: 'x' })).output).toMatch(/outside the work directory/);
    expect((await call('write_file', { path: 'src/a.ts', content: 'export const a = 1;\n' })).output).toBe('wrote src/a.ts (2 lines)');
    expect((await call('list_files', {})).output).toBe('src/a.ts');
    expect((await call('run_tests', {})).output).toBe('No test files (*.test.ts) found.');
  });

  it('summarizes test runs without timings, so transcripts replay exactly', () => {
    const tap =
      'TAP version 13\n# Subtest: adds\nok 1 - adds\n  ---\n  duration_ms: 1.2\n  ...\nnot ok 2 - divides\n  ---\n  duration_ms: 0.4\n  error: |-\n    Expected 2, got 3\n  ...\n';
    expect(summarizeTap(tap)).toBe('1 passed, 1 failed\nFailed:\n- divides — Expected 2, got 3');
  });
});
