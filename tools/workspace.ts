// Tools confined to one work directory: write, read and list files, and run the TypeScript tests
// in it. Paths are relative to the work directory and cannot leave it, lexically or through a
// symbolic link (see confined-paths.ts). Running tests runs code a model wrote: `run_tests` needs
// approval (a person's, or an approver the program sets explicitly, e.g. `approveTools`) and runs
// sandboxed (see sandboxed-node.ts). Results never contain the directory's absolute path or
// timings, so a recorded conversation replays exactly.
import { rm } from 'node:fs/promises';
import ts from 'typescript';
import { z } from 'zod';
import { defineTool, type Tool } from 'troupe';
import { listConfined, readConfined, writeConfined } from './confined-paths.js';
import { defaultSandboxLimits, runSandboxedNode, type SandboxLimits } from './sandboxed-node.js';

const relativePath = z.string().min(1).describe('Path relative to the work directory, e.g. src/tutor.ts');
const notListed = new Set(['.build', 'node_modules']);

export interface WorkspaceOptions {
  /** Limits of a test run (time, heap, output); defaults suit a small project. */
  sandbox?: Partial<SandboxLimits>;
}

export function workspaceTools(root: string, options: WorkspaceOptions = {}): { writeFile: Tool; readFile: Tool; listFiles: Tool; runTests: Tool } {
  const limits: SandboxLimits = { ...defaultSandboxLimits, ...options.sandbox };
  return {
    writeFile: defineTool({
      name: 'write_file',
      description: 'Writes a text file in the work directory, creating folders as needed. Overwrites an existing file.',
      input: z.object({ path: relativePath, content: z.string() }),
      sideEffects: 'write',
      run: async ({ path, content }) => {
        await writeConfined(root, path, content);
        return `wrote ${path} (${content.split('\n').length} lines)`;
      },
    }),
    readFile: defineTool({
      name: 'read_file',
      description: 'Reads a text file of the work directory.',
      input: z.object({ path: relativePath }),
      sideEffects: 'read',
      run: async ({ path }) => readConfined(root, path),
    }),
    listFiles: defineTool({
      name: 'list_files',
      description: 'Lists the files of the work directory.',
      input: z.object({}),
      sideEffects: 'read',
      run: async () => (await listConfined(root, notListed)).join('\n') || '(empty)',
    }),
    runTests: defineTool({
      name: 'run_tests',
      // The description is part of the recorded requests (crews/math-tutor/cassette.json): change it only with a new recording.
      description: "Compiles the work directory's TypeScript and runs its *.test.ts files with Node's test runner. Reports passed and failed tests.",
      input: z.object({}),
      // It runs code the model wrote: an effect on the world nobody has reviewed, so never without approval.
      sideEffects: 'external',
      needsApproval: true,
      timeoutMs: limits.timeoutMs + 5_000,
      run: async (_, { signal }) => runTests(root, signal, limits),
    }),
  };
}

/**
 * Transpiles every .ts file to .mjs under .build/ (no type check: fast and dependency-free), then
 * runs the tests in one sandboxed process: Node's permission model forbids the child processes
 * `node --test` would start per file, so one entry module imports each test file in turn.
 */
async function runTests(root: string, signal: AbortSignal, limits: SandboxLimits): Promise<string> {
  await rm(`${root}/.build`, { recursive: true, force: true });
  const sources = (await listConfined(root, notListed)).filter((file) => file.endsWith('.ts'));
  const tests = sources.filter((file) => file.endsWith('.test.ts'));
  if (tests.length === 0) return 'No test files (*.test.ts) found.';
  for (const file of sources) {
    const source = await readConfined(root, file);
    const output = ts.transpileModule(source, {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, rewriteRelativeImportExtensions: true },
    });
    const syntax = output.diagnostics?.filter((d) => d.category === ts.DiagnosticCategory.Error) ?? [];
    if (syntax.length > 0) return `Compile error in ${file}: ${ts.flattenDiagnosticMessageText(syntax[0]!.messageText, ' ')}`;
    await writeConfined(
      root,
      `.build/${file.replace(/\.ts$/, '.mjs')}`,
      output.outputText.replace(/(from\s+['"]\.{1,2}\/[^'"]+?)\.(?:ts|js)(['"])/g, '$1.mjs$2'),
    );
  }
  const entry = '.build/__run_tests__.mjs';
  await writeConfined(root, entry, tests.map((file) => `await import(${JSON.stringify(`./${file.replace(/\.ts$/, '.mjs')}`)});`).join('\n'));
  const result = await runSandboxedNode(root, entry, ['--test-reporter=tap'], signal, limits);
  const notes = [...result.limitations.map((text) => `Not sandboxed here: ${text}.`)];
  if (result.killed === 'timeout') notes.unshift(`Stopped: the tests ran longer than ${limits.timeoutMs} ms.`);
  if (result.killed === 'output-limit') notes.unshift(`Stopped: the tests wrote more than ${limits.maxOutputBytes} bytes.`);
  // A module that fails to load, a crash or a heap overflow ends the process with no failed test to show.
  if (!result.killed && result.exitCode !== 0 && !/^\s*not ok /m.test(result.stdout))
    notes.unshift(
      `The test process ended with ${result.exitSignal ? `signal ${result.exitSignal}` : `exit code ${result.exitCode}`} before reporting a failure (a module that does not load, a crash or the memory limit).`,
    );
  const summary = summarizeTap(result.stdout);
  return notes.length ? `${summary}\n${notes.join('\n')}` : summary;
}

/** Test names and outcomes only: durations and paths would make every run's report differ. */
export function summarizeTap(tap: string): string {
  const lines = tap.split('\n');
  const passed: string[] = [];
  const failed: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^( *)(ok|not ok) \d+ - (.*)$/.exec(lines[i]!);
    if (!match || match[3]!.startsWith('.build/')) continue;
    if (match[2] === 'ok') passed.push(match[3]!);
    else {
      failed.push(`${match[3]}${failureMessage(lines.slice(i + 1, i + 30))}`);
    }
  }
  const head = `${passed.length} passed, ${failed.length} failed`;
  return failed.length
    ? `${head}\nFailed:\n${failed.map((name) => `- ${name}`).join('\n')}`
    : `${head}\nPassed:\n${passed.map((name) => `- ${name}`).join('\n')}`;
}

/** The first line of a failed test's `error:` (a YAML block scalar puts it on the next line). */
function failureMessage(details: string[]): string {
  const at = details.findIndex((line) => /^\s+error: /.test(line));
  if (at < 0) return '';
  const inline = details[at]!.trim().replace(/^error: /, '');
  const text = /^[|>][-+]?$/.test(inline) ? (details[at + 1] ?? '').trim() : inline.replace(/^'|'$/g, '');
  return text ? ` — ${text}` : '';
}
