// The math-tutor crew's tools for `troupe run math-tutor`: file and test tools confined to a new temporary work directory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approveTools } from 'troupe';
import { workspaceTools } from '../../tools/workspace.js';

export default function tools() {
  const workDir = mkdtempSync(join(tmpdir(), 'math-tutor-'));
  process.stderr.write(`[math-tutor] work directory: ${workDir}\n`);
  return Object.values(workspaceTools(workDir));
}

/**
 * This crew's reason to exist is to write code and run its tests, so the program approves
 * `run_tests` itself (sandboxed: see tools/sandboxed-node.ts); any other tool that needs approval
 * still waits for a person. `troupe run` passes this export as the crew's approver.
 */
export const approver = approveTools(['run_tests'], 'crews/math-tutor (runs the tests it writes, sandboxed)');
