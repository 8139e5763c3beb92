// `import 'troupe'` must not load the Redis client or BullMQ: they are a large part of the import
// time and only users on Redis need them (`troupe/redis`, or loaded lazily by openStateStore /
// openJobQueue / openWorkGraph when REDIS_URL is set). `troupe/store` and `troupe/workers` keep
// the same rule, so moving a name between them and the root never changes what an import loads.
// Nor the logger or the YAML parser, loaded by their first use (bench/import.ts measures the
// import against the AI SDK's). Checked on the built package: a static walk of dist/src/index.js's
// import graph (dist is built by test/support/build-once.ts, and src/ is bundled by bin/bundle.mjs:
// an entry and the chunks it shares with the others).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'dist', 'src');

/**
 * The packages (not files of this package) reached from `entry` through static imports and
 * re-exports only, or with `dynamic` through `import('…')` of this package's files too.
 */
function staticPackages(entry: string, { dynamic = false } = {}): { packages: Set<string>; files: number } {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = [resolve(entry)];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
    // Only top-level import and export declarations load a module when this one loads;
    // `import()` is a call expression inside a function, followed only when asked.
    if (dynamic) {
      const visit = (node: ts.Node): void => {
        if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
          const [specifier] = node.arguments;
          if (specifier && ts.isStringLiteral(specifier) && specifier.text.startsWith('.')) queue.push(resolve(dirname(file), specifier.text));
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
      if (ts.isImportDeclaration(statement) && statement.importClause?.isTypeOnly) continue;
      if (ts.isExportDeclaration(statement) && statement.isTypeOnly) continue;
      const specifier = statement.moduleSpecifier;
      if (!specifier || !ts.isStringLiteral(specifier)) continue;
      const text = specifier.text;
      if (text.startsWith('.')) {
        const target = resolve(dirname(file), text);
        if (!existsSync(target)) throw new Error(`${relative(root, file)} imports ${text}, which is not in dist`);
        queue.push(target);
      } else if (!text.startsWith('node:') && !builtinModules.includes(text)) {
        const parts = text.split('/');
        packages.add(text.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
  }
  return { packages, files: seen.size };
}

describe("import 'troupe'", () => {
  it('reaches neither bullmq nor ioredis through static imports', () => {
    const { packages, files } = staticPackages(join(dist, 'index.js'));
    console.log(`dist/src/index.js statically reaches ${files} files and the packages: ${[...packages].sort().join(', ')}`);
    // The walk must see real dependencies, or it would pass by finding nothing.
    expect(files).toBeGreaterThan(1);
    expect(packages).toContain('zod');
    expect(packages).not.toContain('bullmq');
    expect(packages).not.toContain('ioredis');
    expect([...packages].filter((name) => name.startsWith('@bull-board/'))).toEqual([]);
    // Loaded only when used: the logger (pino, and pino-pretty for people), the YAML parser (by
    // the first definition file read), the SQLite driver, the provider SDKs, MCP.
    for (const lazy of ['pino', 'pino-pretty', 'yaml', 'libsql', '@anthropic-ai/sdk', 'openai', '@modelcontextprotocol/sdk'])
      expect(packages, lazy).not.toContain(lazy);
  });

  it('the troupe command loads the dashboard (bull-board, BullMQ) only for `troupe dashboard`', () => {
    const { packages, files } = staticPackages(join(root, 'dist', 'bin', 'troupe.js'));
    expect(files).toBeGreaterThan(2);
    expect(packages).toContain('commander');
    expect(packages).not.toContain('bullmq');
    expect(packages).not.toContain('ioredis');
    expect([...packages].filter((name) => name.startsWith('@bull-board/'))).toEqual([]);
  });

  it('`troupe dashboard` still reaches bull-board through the import() it loads the dashboard with (the walk can find it)', () => {
    const { packages } = staticPackages(join(dist, 'dashboard', 'command.js'), { dynamic: true });
    expect([...packages].some((name) => name.startsWith('@bull-board/'))).toBe(true);
  });

  it('troupe/store and troupe/workers stay as light as troupe: their backends load when chosen', () => {
    for (const entry of ['stores.js', 'workers.js']) {
      const { packages, files } = staticPackages(join(dist, entry));
      expect(files, entry).toBeGreaterThan(1);
      expect(packages, entry).toContain('zod');
      for (const heavy of ['bullmq', 'ioredis', 'libsql', 'pino', 'yaml']) expect(packages, `${entry} reaches ${heavy}`).not.toContain(heavy);
    }
  });

  it('troupe/redis is where they are (the same walk finds them there)', () => {
    const { packages } = staticPackages(join(dist, 'redis.js'));
    expect(packages).toContain('bullmq');
    expect(packages).toContain('ioredis');
  });

  it('prints how long importing the built package takes (not asserted: the machine is shared)', () => {
    const time = (entry: string) =>
      Number(
        execFileSync(
          process.execPath,
          ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(entry)}); console.log(performance.now() - t);`],
          { encoding: 'utf8' },
        ).trim(),
      );
    const median = (entry: string) => {
      const runs = Array.from({ length: 5 }, () => time(entry)).sort((a, b) => a - b);
      return Math.round(runs[2]!);
    };
    const index = pathToFileURL(join(dist, 'index.js')).href;
    const redis = pathToFileURL(join(dist, 'redis.js')).href;
    console.log(`import troupe: ${median(index)} ms; troupe/redis alone: ${median(redis)} ms (median of 5 fresh processes)`);
  });
});
