// The tools the roles of agents/ name, for `troupe run agents/<role>.yaml --request "…"` (a role
// run alone, on its own): file and test tools confined to a new temporary work directory. A crew
// that names these roles gives them its own tools (crews/<name>/tools.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approveTools } from 'troupe';
import { workspaceTools } from '../tools/workspace.js';

export default function tools() {
  const workDir = mkdtempSync(join(tmpdir(), 'troupe-role-'));
  process.stderr.write(`[agents] work directory: ${workDir}\n`);
  return Object.values(workspaceTools(workDir));
}

/**
 * code_assistant's work is to write code and run its tests, so running them is approved here
 * (sandboxed: see tools/sandboxed-node.ts), as crews/math-tutor does; any other tool that needs
 * approval still waits for a person.
 */
export const approver = approveTools(['run_tests'], 'agents/ (a role run alone runs the tests it writes, sandboxed)');
