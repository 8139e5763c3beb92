#!/usr/bin/env node
// `npm run build`'s second step. tsc has compiled every module of src/ to its own file under
// dist/src/ (and written the .d.ts files the package's types point at); Node then pays for each
// file an import opens (resolve, stat, read, compile), and `import 'troupe'` opened 133 of them. This
// step replaces those files with a bundle made by esbuild from src/: one file per entry of the
// package (package.json "exports") and of the `troupe` command, and the code they share in
// dist/src/chunks/. All entries are bundled in one pass with code splitting, so each module exists
// once whichever entry loads it: a class imported through `troupe` and through `troupe/store` is the
// same class, and the registries (prices, models) are the same objects. Modules imported with
// `import()` stay lazy (their own chunks). Packages stay external: a user's zod is Troupe's zod.
//
// Then every other script under dist/src is deleted (the per-module files tsc wrote, and the chunks
// of an earlier bundle), so nothing can import a second copy of a module by its path; the .d.ts
// files stay. Deleted after the bundle is written, not before, so that a process started meanwhile
// (a test, `npm start`) never finds the entries missing.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist', 'src');

// The package's entries, from package.json: "./store" → { default: "./dist/src/stores.js" }.
const { exports } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const packageEntries = Object.values(exports)
  .map((target) => (typeof target === 'object' ? target.default : undefined))
  .filter((target) => typeof target === 'string' && target.startsWith('./dist/src/'));
// The `troupe` command (bin/troupe.ts) imports these two; tests and `troupe worker` children run
// cli/main.js directly, which is the command without the dashboard.
const commandEntries = ['./dist/src/cli/main.js', './dist/src/dashboard/command.js'];

const entryPoints = [...new Set([...packageEntries, ...commandEntries])].map((target) => {
  const out = target.slice('./dist/src/'.length).replace(/\.js$/, '');
  return { in: join(root, 'src', `${out}.ts`), out };
});

const result = await build({
  entryPoints,
  absWorkingDir: root, // metafile paths are relative to it
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  sourcesContent: false,
  // Error classes and tools are named by their class or function name in messages; bundling must
  // not rename them when two modules use the same name.
  keepNames: true,
  tsconfig: join(root, 'tsconfig.json'),
  logLevel: 'warning',
  metafile: true,
});

const written = new Set(Object.keys(result.metafile.outputs).map((file) => resolve(root, file)));
for (const file of compiledFiles(dist)) if (!written.has(file)) rmSync(file);

const outputs = [...written].filter((file) => file.endsWith('.js'));
process.stderr.write(`bundle: ${entryPoints.length} entries and ${outputs.length - entryPoints.length} shared chunks in ${relative(root, dist)}\n`);

function* compiledFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* compiledFiles(path);
    else if (entry.name.endsWith('.js') || entry.name.endsWith('.js.map')) yield path;
  }
}
