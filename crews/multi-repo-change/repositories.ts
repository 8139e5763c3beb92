// The repositories the example changes: small projects shipped as plain folders in repos/ (no
// nested .git in this repository), made into real git repositories at run time under a work
// directory, one set per work item. The tools an editing agent gets are confined to one of them
// by real paths (a symbolic link cannot lead out), and its checks run sandboxed: fixed time,
// memory and output limits, no environment, file access to that repository only, no network
// where the OS allows it (see tools/sandboxed-node.ts).
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { defineTool, type Tool } from 'troupe';
import { listConfined, readConfined, writeConfined } from '../../tools/confined-paths.js';
import { crewFolder } from '../../tools/crew-folder.js';
import { runSandboxedNode, type SandboxLimits } from '../../tools/sandboxed-node.js';
import { summarizeTap } from '../../tools/workspace.js';

/** The repositories of the example, as folders in crews/multi-repo-change/repos/. */
export const repositoryNames = ['invoice-format', 'billing-api', 'web-shop', 'search-index'] as const;
export const repositoryName = z.enum(repositoryNames);
export type RepositoryName = z.infer<typeof repositoryName>;

/** Each repository's checks: one node:test file at its root, run in one sandboxed process. */
export const checksFile = 'checks.test.mjs';

const checkLimits: SandboxLimits = { timeoutMs: 60_000, maxOldSpaceMb: 256, maxOutputBytes: 200_000 };

export function fixturesFolder(): string {
  return crewFolder(import.meta.url, 'multi-repo-change', 'repos');
}

/** Where the repositories are made: MULTI_REPO_WORKDIR, else <TROUPE_HOME or .troupe>/workspaces/multi-repo-change. */
export function workRoot(): string {
  return process.env.MULTI_REPO_WORKDIR || join(process.env.TROUPE_HOME || '.troupe', 'workspaces', 'multi-repo-change');
}

/** The first line of text of each repository's README: what the scout reads to choose. */
export async function describeRepositories(): Promise<string> {
  const lines: string[] = [];
  for (const name of repositoryNames) {
    const readme = await readConfined(fixturesFolder(), `${name}/README.md`);
    const about = readme.split('\n').find((line) => line.trim() && !line.startsWith('#')) ?? '';
    lines.push(`${name} — ${about.trim()}`);
  }
  return lines.join('\n');
}

// Git with no user or system configuration and fixed identities and dates: the same tree gives
// the same commits on every machine, and no hook or credential helper of the user's runs.
function gitEnv(root: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: root,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Troupe',
    GIT_AUTHOR_EMAIL: 'troupe@example.invalid',
    GIT_COMMITTER_NAME: 'Troupe',
    GIT_COMMITTER_EMAIL: 'troupe@example.invalid',
    GIT_AUTHOR_DATE: '2025-01-01T00:00:00Z',
    GIT_COMMITTER_DATE: '2025-01-01T00:00:00Z',
  };
}

/** git is not installed: the example makes real repositories and cannot run without it. */
export class GitMissingError extends Error {
  readonly code = 'git_missing';
  constructor() {
    super('git was not found on the PATH: this example makes real git repositories; install git to run it');
  }
}

export async function git(root: string, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'init.defaultBranch=main', ...args], {
      cwd: root,
      env: gitEnv(root),
      timeout: 30_000,
      maxBuffer: 4 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    // ENOENT from spawn names the program, not the folder: the folder exists (it is made first).
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new GitMissingError();
    throw error;
  }
}

/** Makes `name` a fresh git repository at `root` from its fixture folder, with one commit. A step that runs again starts from the same tree. */
export async function checkOut(name: RepositoryName, root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  await cp(join(fixturesFolder(), name), root, { recursive: true });
  await git(root, 'init', '-q');
  await git(root, 'add', '-A');
  await git(root, 'commit', '-q', '-m', `${name} as shipped`);
}

export interface CheckRun {
  passed: number;
  failed: number;
  /** Test names and outcomes, without timings or paths: what the agent reads. */
  report: string;
  /** Protections the sandbox could not apply on this machine (for the summary; not shown to the model, so transcripts replay anywhere). */
  limitations: string[];
}

/** Runs a repository's checks sandboxed, in the repository. */
export async function runChecks(root: string, signal: AbortSignal = new AbortController().signal): Promise<CheckRun> {
  const present = await readFile(join(root, checksFile), 'utf8').then(
    () => true,
    () => false,
  );
  if (!present) return { passed: 0, failed: 0, report: `No checks (${checksFile}) in this repository.`, limitations: [] };
  const result = await runSandboxedNode(root, checksFile, ['--test-reporter=tap'], signal, checkLimits);
  let report = summarizeTap(result.stdout);
  const passed = Number(/^(\d+) passed/.exec(report)?.[1] ?? 0);
  let failed = Number(/, (\d+) failed/.exec(report)?.[1] ?? 0);
  if (result.killed)
    report += `\nStopped: the checks were ${result.killed === 'timeout' ? `still running after ${checkLimits.timeoutMs} ms` : `stopped (${result.killed})`}.`;
  else if (result.exitCode !== 0 && failed === 0)
    report += `\nThe checks ended with ${result.exitSignal ? `signal ${result.exitSignal}` : `exit code ${result.exitCode}`} before reporting a failure (a module that does not load?).`;
  if (result.killed || result.exitCode !== 0) failed = Math.max(failed, 1);
  return { passed, failed, report, limitations: result.limitations };
}

export interface RepositoryTools {
  tools: Tool[];
  /** What the agent's check runs reported, in order. */
  checkRuns: CheckRun[];
}

const relativePath = z.string().min(1).describe('A path relative to the repository root, e.g. index.mjs');
const notListed = new Set(['.git']);

/** The editing agent's tools for one repository, confined to `root`. */
export function repositoryTools(root: string): RepositoryTools {
  const checkRuns: CheckRun[] = [];
  const tools = [
    defineTool({
      name: 'list_files',
      description: 'Lists the files of the repository.',
      input: z.object({}),
      sideEffects: 'read',
      run: async () => (await listConfined(root, notListed)).join('\n') || '(empty)',
    }),
    defineTool({
      name: 'read_file',
      description: 'Reads a text file of the repository.',
      input: z.object({ path: relativePath }),
      sideEffects: 'read',
      run: async ({ path }) => readConfined(root, path),
    }),
    defineTool({
      name: 'write_file',
      description: 'Writes a text file of the repository (the whole content), creating folders as needed.',
      input: z.object({ path: relativePath, content: z.string() }),
      // The repository is rebuilt from its fixture whenever the step runs again, so a write is
      // made again too: not a lasting effect to record in the run's outbox.
      sideEffects: 'none',
      run: async ({ path, content }) => {
        if (path === '.git' || path.startsWith('.git/')) throw new Error('the .git folder is not yours to write');
        await writeConfined(root, path, content);
        return `wrote ${path} (${content.split('\n').length} lines)`;
      },
    }),
    defineTool({
      name: 'run_checks',
      description: `Runs the repository's checks (${checksFile}) and reports which pass and which fail.`,
      input: z.object({}),
      // Sandboxed (see above) and confined to this repository, so it needs no approval.
      sideEffects: 'none',
      timeoutMs: checkLimits.timeoutMs + 10_000,
      run: async (_, { signal }) => {
        const run = await runChecks(root, signal);
        checkRuns.push(run);
        return run.report;
      },
    }),
  ];
  return { tools, checkRuns };
}
