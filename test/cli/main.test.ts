import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

describe('troupe command', () => {
  beforeAll(() => {
    execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  }, 120_000);

  it('prints its version and help', () => {
    expect(execFileSync('node', ['dist/src/cli/main.js', '--version'], { encoding: 'utf8' }).trim()).toBe(version);
    expect(execFileSync('node', ['dist/src/cli/main.js', '--help'], { encoding: 'utf8' })).toMatch(/Usage: troupe <command>/);
  });

  it('refuses an unknown command with exit code 2 and names it', () => {
    const result = spawnSync('node', ['dist/src/cli/main.js', 'frobnicate'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown command "frobnicate"/);
  });
});
