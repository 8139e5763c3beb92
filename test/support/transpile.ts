import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

/**
 * Transpiles src/ (types removed, no type check) into a temporary folder so that child processes
 * can import Troupe without a build, and without racing the tests that build dist/. Returns the
 * path of the transpiled `src/index.js`; `src/testing.js` sits beside it.
 */
export async function transpiledTroupe(): Promise<string> {
  const { default: ts } = await import('typescript');
  const out = mkdtempSync(join(tmpdir(), 'troupe-src-'));
  const copy = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) copy(path);
      else if (entry.name.endsWith('.ts')) {
        const target = join(out, relative('.', path)).replace(/\.ts$/, '.js');
        mkdirSync(dirname(target), { recursive: true });
        const { outputText } = ts.transpileModule(readFileSync(path, 'utf8'), {
          fileName: path,
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
        });
        writeFileSync(target, outputText);
      }
    }
  };
  copy('src');
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  writeFileSync(join(out, 'src', 'package.json'), '{"type":"module"}');
  symlinkSync(join(process.cwd(), 'package.json'), join(out, 'root-package.json'));
  symlinkSync(join(process.cwd(), 'node_modules'), join(out, 'node_modules'), 'junction');
  return join(out, 'src', 'index.js');
}
