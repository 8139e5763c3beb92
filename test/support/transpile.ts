import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

/**
 * Transpiles (types removed, no type check) the sources and the given test files into a private
 * temporary directory that child processes can run: no build step, so no race with tests that
 * build dist/. The package.json above it gives `troupe` its version.
 */
export async function transpileForChildren(paths: readonly string[]): Promise<string> {
  const { default: ts } = await import('typescript');
  const out = mkdtempSync(join(tmpdir(), 'troupe-work-build-'));
  const emit = (path: string) => {
    // Under dist/, as the build lays it out: the CLI reads ../../../package.json from its own file.
    const target = join(out, 'dist', relative('.', path)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    const { outputText } = ts.transpileModule(readFileSync(path, 'utf8'), {
      fileName: path,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    writeFileSync(target, outputText);
  };
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) emit(path);
    }
  };
  for (const path of paths) path.endsWith('.ts') ? emit(path) : walk(path);
  writeFileSync(join(out, 'package.json'), JSON.stringify({ name: 'troupe-work-test-build', type: 'module', version: '0.0.0-test' }));
  symlinkSync(join(process.cwd(), 'node_modules'), join(out, 'node_modules'), 'junction');
  return join(out, 'dist');
}

/** The transpiled `src/index.ts` of a fresh transpile of src/, for child processes that import Troupe. */
export async function transpiledTroupe(): Promise<string> {
  return join(await transpileForChildren(['src']), 'src', 'index.js');
}
