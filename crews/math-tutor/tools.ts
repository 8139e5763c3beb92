// The math-tutor crew's tools for `troupe run math-tutor`: file and test tools confined to a new temporary work directory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workspaceTools } from '../../tools/workspace.js';

export default function tools() {
  const workDir = mkdtempSync(join(tmpdir(), 'math-tutor-'));
  process.stderr.write(`[math-tutor] work directory: ${workDir}\n`);
  return Object.values(workspaceTools(workDir));
}
