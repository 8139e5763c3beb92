// Runs the built CLI (`npm run build` first) as a user runs an example: offline (no provider key,
// no Redis), with a TROUPE_HOME of its own so runs and reviews of one test file stay apart.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CommandResult, runCommand } from './run-command.js';

export function exampleCli(name: string): (...args: string[]) => Promise<CommandResult> {
  const home = mkdtempSync(join(tmpdir(), `troupe-${name}-`));
  return (...args) =>
    runCommand(process.execPath, ['dist/bin/troupe.js', ...args], {
      env: { ...process.env, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', REDIS_URL: '', TROUPE_HOME: home, USER: 'tester' },
    });
}
