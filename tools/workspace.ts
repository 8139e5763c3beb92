// Tools confined to one work directory: write, read and list files, and run the TypeScript tests
// in it. Paths are relative to the work directory and cannot leave it; results never contain the
// directory's absolute path or timings, so a recorded conversation replays exactly.
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { z } from 'zod';
import { defineTool, type Tool } from 'troupe';

const run = promisify(execFile);
const relativePath = z.string().min(1).describe('Path relative to the work directory, e.g. src/tutor.ts');

export function workspaceTools(root: string): { writeFile: Tool; readFile: Tool; listFiles: Tool; runTests: Tool } {
  const inside = (path: string): string => {
    const target = resolve(root, path);
    if (isAbsolute(path) || (target !== root && !target.startsWith(root + sep))) {
      throw new Error(`"${path}" is outside the work directory; use a relative path without "..".`);
    }
    return target;
  };

  return {
    writeFile: defineTool({
      name: 'write_file',
      description: 'Writes a text file in the work directory, creating folders as needed. Overwrites an existing file.',
      input: z.object({ path: relativePath, content: z.string() }),
      sideEffects: 'write',
      run: async ({ path, content }) => {
        const target = inside(path);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, content);
        return `wrote ${path} (${content.split('\n').length} lines)`;
      },
    }),
    readFile: defineTool({
      name: 'read_file',
      description: 'Reads a text file of the work directory.',
      input: z.object({ path: relativePath }),
      sideEffects: 'read',
      run: async ({ path }) => readFile(inside(path), 'utf8'),
    }),
    listFiles: defineTool({
      name: 'list_files',
      description: 'Lists the files of the work directory.',
      input: z.object({}),
      sideEffects: 'read',
      run: async () => (await listFiles(root)).join('\n') || '(empty)',
    }),
    runTests: defineTool({
      name: 'run_tests',
      description: "Compiles the work directory's TypeScript and runs its *.test.ts files with Node's test runner. Reports passed and failed tests.",
      input: z.object({}),
      sideEffects: 'none',
      timeoutMs: 60_000,
      run: async (_, { signal }) => runTests(root, signal),
    }),
  };
}

async function listFiles(root: string, dir = root): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name === '.build' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(root, path)));
    else files.push(relative(root, path).split(sep).join('/'));
  }
  return files;
}

/** Transpiles every .ts file to .mjs under .build/ (no type check: fast and dependency-free), then runs the tests. */
async function runTests(root: string, signal: AbortSignal): Promise<string> {
  const build = join(root, '.build');
  await rm(build, { recursive: true, force: true });
  const sources = (await listFiles(root)).filter((file) => file.endsWith('.ts'));
  const tests = sources.filter((file) => file.endsWith('.test.ts'));
  if (tests.length === 0) return 'No test files (*.test.ts) found.';
  for (const file of sources) {
    const source = await readFile(join(root, file), 'utf8');
    const output = ts.transpileModule(source, {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, rewriteRelativeImportExtensions: true },
    });
    const syntax = output.diagnostics?.filter((d) => d.category === ts.DiagnosticCategory.Error) ?? [];
    if (syntax.length > 0) return `Compile error in ${file}: ${ts.flattenDiagnosticMessageText(syntax[0]!.messageText, ' ')}`;
    const target = join(build, file.replace(/\.ts$/, '.mjs'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, output.outputText.replace(/(from\s+['"]\.{1,2}\/[^'"]+?)\.(?:ts|js)(['"])/g, '$1.mjs$2'));
  }
  const files = tests.map((file) => join('.build', file.replace(/\.ts$/, '.mjs')));
  const result = await run(process.execPath, ['--test', '--test-reporter=tap', ...files], { cwd: root, signal, timeout: 55_000 }).then(
    (done) => done.stdout,
    (failed: { stdout?: string }) => failed.stdout ?? '',
  );
  return summarizeTap(result);
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
  return failed.length ? `${head}\nFailed:\n${failed.map((name) => `- ${name}`).join('\n')}` : `${head}\nPassed:\n${passed.map((name) => `- ${name}`).join('\n')}`;
}

/** The first line of a failed test's `error:` (a YAML block scalar puts it on the next line). */
function failureMessage(details: string[]): string {
  const at = details.findIndex((line) => /^\s+error: /.test(line));
  if (at < 0) return '';
  const inline = details[at]!.trim().replace(/^error: /, '');
  const text = /^[|>][-+]?$/.test(inline) ? (details[at + 1] ?? '').trim() : inline.replace(/^'|'$/g, '');
  return text ? ` — ${text}` : '';
}
