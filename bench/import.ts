// What `import 'troupe'` costs, side by side with what a user would otherwise import: the Vercel AI
// SDK (`ai`) and zod; Troupe's other entries (troupe/store, troupe/workers, troupe/redis) beside it. Each import runs in a fresh Node process (nothing cached in memory), the
// subjects taking turns, and the median of the runs is reported: the time of the import itself and
// the process's RSS once it is done, with an empty process as the floor.
// The AI SDK is not a dependency of Troupe: it is installed on first use into a cache folder
// (node_modules/.cache/troupe-bench/) from the npm registry, and reused after. If that fails (no
// network), Troupe's figures are still printed.
// Run: npm run bench:import [-- --runs 7]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The last AI SDK major whose engines accept Node 20 (7.x needs Node 22).
const aiVersion = '6.0.325';
const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 7;

const root = fileURLToPath(new URL('../..', import.meta.url));
const cache = join(root, 'node_modules', '.cache', 'troupe-bench', `ai-${aiVersion}`);

interface Subject {
  name: string;
  /** What the child process imports: a file URL, or a package name resolved from `cwd`. */
  specifier: string | undefined;
  cwd: string;
}

interface Sample {
  ms: number;
  rssMiB: number;
}

/** The AI SDK's folder, installed now if it is not there yet; undefined (and said why) when it cannot be. */
function aiFolder(): string | undefined {
  if (existsSync(join(cache, 'node_modules', 'ai', 'package.json'))) return cache;
  console.log(`installing ai@${aiVersion} into ${cache} (once; not a dependency of Troupe)…`);
  try {
    mkdirSync(cache, { recursive: true });
    execFileSync('npm', ['install', '--prefix', cache, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `ai@${aiVersion}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 300_000,
    });
    return cache;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-3).join(' | ');
    console.log(`could not install ai@${aiVersion}: ${stderr || (error as Error).message}; the AI SDK is left out`);
    return undefined;
  }
}

/** One fresh process: how long the import took inside it, and its RSS after. */
function sample(subject: Subject): Sample {
  const script = [
    'const started = performance.now();',
    subject.specifier ? `await import(${JSON.stringify(subject.specifier)});` : '',
    'const ms = performance.now() - started;',
    'process.stdout.write(JSON.stringify({ ms, rssMiB: process.memoryUsage().rss / 1048576 }));',
  ].join('\n');
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: subject.cwd, encoding: 'utf8' });
  return JSON.parse(output) as Sample;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const fileUrl = (path: string) => pathToFileURL(join(root, path)).href;
const ai = aiFolder();
const aiInstalled = ai ? (JSON.parse(readFileSync(join(ai, 'node_modules', 'ai', 'package.json'), 'utf8')) as { version: string }).version : undefined;
const subjects: Subject[] = [
  { name: 'node (empty)', specifier: undefined, cwd: root },
  { name: 'troupe', specifier: fileUrl('dist/src/index.js'), cwd: root },
  { name: 'troupe/store', specifier: fileUrl('dist/src/stores.js'), cwd: root },
  { name: 'troupe/workers', specifier: fileUrl('dist/src/workers.js'), cwd: root },
  { name: 'troupe/redis', specifier: fileUrl('dist/src/redis.js'), cwd: root },
  { name: 'zod', specifier: 'zod', cwd: root },
  ...(ai ? [{ name: `ai ${aiInstalled}`, specifier: 'ai', cwd: ai }] : []),
];

const samples = new Map<string, Sample[]>(subjects.map((subject) => [subject.name, []]));
// A warm-up round first, so the file system cache holds every subject's files.
for (const subject of subjects) sample(subject);
for (let round = 0; round < runs; round++) for (const subject of subjects) samples.get(subject.name)!.push(sample(subject));

const figures = new Map(
  subjects.map((subject) => {
    const taken = samples.get(subject.name)!;
    return [subject.name, { ms: median(taken.map((s) => s.ms)), rssMiB: median(taken.map((s) => s.rssMiB)) }] as const;
  }),
);
const aiFigures = ai ? figures.get(`ai ${aiInstalled}`) : undefined;
const troupe = figures.get('troupe')!;

console.log(`import: median of ${runs} fresh processes per subject, taking turns; node ${process.version}`);
console.log(`${'import'.padEnd(16)} ${'ms'.padStart(8)} ${'RSS MiB'.padStart(9)} ${'ms vs ai'.padStart(9)}`);
for (const [name, { ms, rssMiB }] of figures) {
  const versus = aiFigures && name !== 'node (empty)' ? `${(ms / aiFigures.ms).toFixed(2)}x` : '';
  console.log(`${name.padEnd(16)} ${ms.toFixed(1).padStart(8)} ${rssMiB.toFixed(1).padStart(9)} ${versus.padStart(9)}`);
}
if (aiFigures) {
  const verdict = troupe.ms <= aiFigures.ms ? 'no slower than' : 'slower than';
  console.log(`troupe/ai: ${(troupe.ms / aiFigures.ms).toFixed(2)}x — importing troupe is ${verdict} importing the AI SDK (aim: <= 1)`);
} else console.log('troupe/ai: not measured (the AI SDK could not be installed)');

const round2 = (value: number | undefined) => (value === undefined ? null : Number(value.toFixed(2)));
console.log(
  JSON.stringify({
    bench: 'import',
    runs,
    troupe_ms: round2(troupe.ms),
    troupe_store_ms: round2(figures.get('troupe/store')!.ms),
    troupe_workers_ms: round2(figures.get('troupe/workers')!.ms),
    troupe_redis_ms: round2(figures.get('troupe/redis')!.ms),
    zod_ms: round2(figures.get('zod')!.ms),
    ai_ms: round2(aiFigures?.ms),
    ai_version: aiInstalled ?? null,
    ratio_troupe_ai: aiFigures ? round2(troupe.ms / aiFigures.ms) : null,
    rss_mib: {
      node: round2(figures.get('node (empty)')!.rssMiB),
      troupe: round2(troupe.rssMiB),
      troupe_redis: round2(figures.get('troupe/redis')!.rssMiB),
      zod: round2(figures.get('zod')!.rssMiB),
      ai: round2(aiFigures?.rssMiB),
    },
  }),
);
