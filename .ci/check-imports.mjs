#!/usr/bin/env node
// Checks the import graph of src/: (1) a layer imports only from layers listed before it in
// DESIGN.md's layer table, (2) no import cycle between modules, type-only imports included
// (a cycle through types still ties two files' meaning together). Exits 1 on any finding, so
// CI fails; prints each finding with the files involved.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// DESIGN.md's layer table, in order. A folder not listed here is a finding too: add it on purpose.
const layers = ['core', 'observe', 'model', 'tools', 'agent', 'crew', 'store', 'queue', 'workflow', 'coordinator', 'work', 'cli', 'dashboard'];
const root = resolve(process.argv[2] ?? '.');
const src = join(root, 'src');
const importPattern =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|^\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/gm;

function* sourceFiles(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

/** `./x.js` in a .ts file means `./x.ts` (NodeNext resolution). */
function resolveImport(from, specifier) {
  const target = resolve(dirname(from), specifier);
  return target.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts');
}

const layerOf = (file) => {
  const parts = relative(src, file).split(/[\\/]/);
  return parts.length > 1 ? parts[0] : undefined; // files directly in src/ (index.ts, testing.ts) are the package's front door
};

const findings = [];
const graph = new Map();
for (const file of sourceFiles(src)) {
  const text = readFileSync(file, 'utf8');
  const edges = [];
  for (const match of text.matchAll(importPattern)) {
    const target = resolveImport(file, match[1] ?? match[2] ?? match[3]);
    if (!target.startsWith(`${src}/`)) continue;
    edges.push(target);
    const from = layerOf(file);
    const to = layerOf(target);
    if (from === undefined || to === undefined) continue;
    if (!layers.includes(from)) findings.push(`src/${from}/ is not a layer of DESIGN.md (${relative(root, file)})`);
    else if (layers.indexOf(to) > layers.indexOf(from))
      findings.push(`layer: ${relative(root, file)} imports ${relative(root, target)} (${from} -> ${to}, a later layer)`);
  }
  graph.set(file, edges);
}

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let index = 0;
const indexOf = new Map();
const lowOf = new Map();
const stack = [];
const onStack = new Set();
function connect(file) {
  indexOf.set(file, index);
  lowOf.set(file, index);
  index++;
  stack.push(file);
  onStack.add(file);
  for (const next of graph.get(file) ?? []) {
    if (!graph.has(next)) continue;
    if (!indexOf.has(next)) {
      connect(next);
      lowOf.set(file, Math.min(lowOf.get(file), lowOf.get(next)));
    } else if (onStack.has(next)) lowOf.set(file, Math.min(lowOf.get(file), indexOf.get(next)));
  }
  if (lowOf.get(file) !== indexOf.get(file)) return;
  const component = [];
  let member;
  do {
    member = stack.pop();
    onStack.delete(member);
    component.push(relative(root, member));
  } while (member !== file);
  if (component.length > 1) findings.push(`cycle: ${component.sort().join(' <-> ')}`);
  else if ((graph.get(file) ?? []).includes(file)) findings.push(`cycle: ${relative(root, file)} imports itself`);
}
for (const file of graph.keys()) if (!indexOf.has(file)) connect(file);

const unique = [...new Set(findings)];
if (unique.length > 0) {
  console.error(`Import check: ${unique.length} finding(s) in src/ (layer order from DESIGN.md, no cycles):`);
  for (const line of unique) console.error(`  ${line}`);
  console.error('Move the code to the layer it belongs to or break the cycle; or change the design on purpose and update DESIGN.md.');
  process.exit(1);
}
console.log(`Import check: ${graph.size} files in src/, layer order kept, no cycles.`);
