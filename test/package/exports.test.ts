import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The value exports of every entry point of the package, as users import them from the built
// package (test/support/build-once.ts builds dist/ before the tests). The committed list makes
// growth a decision: a new export, or a new subpath in package.json's "exports", fails this test
// until test/fixtures/package-exports.json names it (one entry per subpath).
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, string | { default: string }> };
const expected = JSON.parse(readFileSync('test/fixtures/package-exports.json', 'utf8')) as Record<string, string[]>;
const entryPoints = Object.entries(pkg.exports).flatMap(([subpath, target]) => (typeof target === 'object' ? [[subpath, target.default] as const] : []));

describe('the package exports', () => {
  it('lists every entry point of package.json in the committed snapshot, and no other', () => {
    expect(entryPoints.map(([subpath]) => subpath).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(entryPoints)('%s exports exactly the committed names', async (subpath, file) => {
    const module = (await import(new URL(`../../${file}`, import.meta.url).href)) as Record<string, unknown>;
    expect(Object.keys(module).sort(), `value exports of "${subpath}" (${file})`).toEqual(expected[subpath]);
  });
});

// Best effort: a type named in a parameter of a root function or constructor is one a user may
// need to write down (an options object built apart, a callback's argument), so the root exports it.
describe('the types the root API takes', () => {
  it('are exported from the root too', async () => {
    const ts = (await import('typescript')).default;
    const entry = resolve('src/index.ts');
    const program = ts.createProgram([entry], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    });
    const checker = program.getTypeChecker();
    const aliased = (symbol: import('typescript').Symbol) => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
    const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!);
    const names = new Set(exported.map((symbol) => symbol.name));
    const missing: string[] = [];
    for (const symbol of exported.map(aliased)) {
      if (!(symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class)) || !symbol.valueDeclaration) continue;
      const type = checker.getTypeOfSymbolAtLocation(symbol, symbol.valueDeclaration);
      for (const signature of [...type.getCallSignatures(), ...type.getConstructSignatures()]) {
        for (const parameter of signature.getParameters()) {
          const visit = (node: import('typescript').Node): void => {
            if (ts.isTypeReferenceNode(node)) {
              const found = checker.getSymbolAtLocation(node.typeName);
              const target = found && aliased(found);
              const file = target?.declarations?.[0]?.getSourceFile().fileName ?? '';
              if (target && file.startsWith(resolve('src')) && !(target.flags & ts.SymbolFlags.TypeParameter) && !names.has(target.name)) {
                missing.push(`${target.name} (a parameter of ${symbol.name})`);
              }
            }
            ts.forEachChild(node, visit);
          };
          const declaration = parameter.valueDeclaration;
          if (declaration && ts.isParameter(declaration) && declaration.type) visit(declaration.type);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
