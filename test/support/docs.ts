// The documentation's code blocks and the real files behind them. Every fenced block in README.md
// and docs/ is preceded by a marker naming the file it shows, `<!-- file: path -->` or, for a
// part of a file, `<!-- file: path#region -->` (the lines between `#region name` and
// `#endregion` comments). The tests in test/docs/ check that each block equals its file, that
// the file is one the suite compiles and runs, and that outputs and CLI transcripts shown are what
// a real run prints. `npm run docs:update` rewrites blocks, outputs and transcripts from the files.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export const repoRoot = process.cwd();

/** README.md and every Markdown page under docs/ (the generated API reference under docs/api/ aside), as repo-relative paths. */
export function markdownPages(): string[] {
  return ['README.md', ...filesUnder('docs', (path) => path.endsWith('.md') && !path.startsWith('docs/api/'))];
}

/** Repo-relative paths of the files under a folder (recursively) that pass the filter, sorted. */
export function filesUnder(folder: string, keep: (path: string) => boolean): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(join(repoRoot, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (keep(path)) found.push(path);
    }
  };
  walk(folder);
  return found.sort();
}

export interface CodeBlock {
  /** The Markdown file and the 1-based line of the opening fence. */
  page: string;
  line: number;
  /** The fence's info string (`ts`, `yaml`, `console`, …). */
  language: string;
  /** The block's text, without the fences. */
  content: string;
  /** What the marker before it names, or undefined when there is none. */
  source?: { path: string; region?: string };
  /** Character offsets of the content inside the page, for rewriting it. */
  contentStart: number;
  contentEnd: number;
}

const marker = /^<!--\s*file:\s*([^\s#]+)(?:#([\w-]+))?\s*-->\s*$/;

/** The fenced code blocks of a Markdown page, each with the marker (if any) on the line before its fence (blank lines between are allowed). */
export function codeBlocks(page: string, text: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = text.split('\n');
  const offsets: number[] = [];
  let offset = 0;
  for (const line of lines) {
    offsets.push(offset);
    offset += line.length + 1;
  }
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    let end = i + 1;
    while (end < lines.length && !(lines[end]!.trim().startsWith(fence) && lines[end]!.trim().replace(/[`~]/g, '') === '')) end++;
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const named = before >= 0 ? marker.exec(lines[before]!.trim()) : null;
    const contentStart = offsets[i + 1] ?? text.length;
    const contentEnd = end < lines.length ? offsets[end]! : text.length;
    blocks.push({
      page,
      line: i + 1,
      language: open[3]!.trim(),
      content: text.slice(contentStart, contentEnd),
      ...(named ? { source: { path: named[1]!, ...(named[2] ? { region: named[2] } : {}) } } : {}),
      contentStart,
      contentEnd,
    });
    i = end;
  }
  return blocks;
}

const regionLine = /^\s*(?:\/\/|#)\s*#(end)?region\b\s*([\w-]*)\s*$/;

/**
 * The text a marker names: the whole file, or the lines of one region, dedented. Region comment
 * lines are left out either way, so a file can mark regions for one page and be shown whole on
 * another. Ends with exactly one newline.
 */
export function includedText(path: string, region?: string): string {
  const lines = readFileSync(join(repoRoot, path), 'utf8').replace(/\n+$/, '').split('\n');
  let chosen: string[];
  if (region === undefined) {
    chosen = lines.filter((line) => !regionLine.test(line));
  } else {
    const start = lines.findIndex((line) => regionLine.exec(line)?.[1] === undefined && regionLine.exec(line)?.[2] === region);
    if (start < 0) throw new Error(`${path} has no "#region ${region}"`);
    chosen = [];
    for (let depth = 1, i = start + 1; i < lines.length; i++) {
      const found = regionLine.exec(lines[i]!);
      if (found) {
        depth += found[1] ? -1 : 1;
        if (depth === 0) break;
        continue;
      }
      chosen.push(lines[i]!);
    }
  }
  const indent = Math.min(...chosen.filter((line) => line.trim() !== '').map((line) => /^\s*/.exec(line)![0].length));
  return `${chosen.map((line) => line.slice(Number.isFinite(indent) ? indent : 0)).join('\n')}\n`;
}

/** The environment a snippet or a transcript's commands run in: offline, no Redis, a state folder of their own. */
export function offlineEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: '', TROUPE_HOME: home, NO_COLOR: '1', USER: 'reader' };
  for (const key of ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'TROUPE_MODEL', 'ANTHROPIC_BASE_URL', 'OPENAI_BASE_URL', 'FORCE_COLOR']) delete env[key];
  return env;
}

/**
 * Runs a command with stdout and stderr on one file, so the text reads in the order it was
 * written, as in a terminal. Resolves with that text and the exit code.
 */
export function runMerged(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; output: string }> {
  const folder = mkdtempSync(join(tmpdir(), 'troupe-docs-out-'));
  const file = join(folder, 'output.txt');
  const fd = openSync(file, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', fd, fd] });
    child.on('error', (error) => {
      closeSync(fd);
      reject(error);
    });
    child.on('close', (status) => {
      closeSync(fd);
      const output = readFileSync(file, 'utf8');
      rmSync(folder, { recursive: true, force: true });
      resolve({ status, output });
    });
  });
}

/** What a run prints, with the state folder shown as the default `.troupe` and the checkout as `.`, as a reader's own run would print it. */
export function asReaderSees(output: string, home: string): string {
  return output.split(home).join('.troupe').split(`${repoRoot}/`).join('').split(repoRoot).join('.');
}

/**
 * The parts of a run's output that differ between two runs of the same thing: random ids,
 * clock times, durations, ports. Both the recorded text and a new run's are normalized before
 * they are compared; the recorded text keeps the real values a reader sees.
 */
export function normalized(output: string): string {
  const ids = new Map<string, string>();
  return output
    .replace(/\b([a-z][a-z0-9-]*)_[0-9a-z]{16}\b/g, (id, prefix: string) => {
      if (!ids.has(id)) ids.set(id, `${prefix}_<id${ids.size + 1}>`);
      return ids.get(id)!;
    })
    .replace(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?/g, '<time>')
    .replace(/\b\d{1,2}:\d{2}:\d{2}\b/g, '<clock>')
    .replace(/\b\d+(\.\d+)?\s?(ms|s|min)\b/g, '<duration>')
    .replace(/(127\.0\.0\.1|localhost):\d+/g, '$1:<port>')
    .replace(/[ \t]+$/gm, '');
}

/** The random ids in a text, in order of first appearance. */
export function randomIdsIn(text: string): string[] {
  return [...new Set(text.match(/\b[a-z][a-z0-9-]*_[0-9a-z]{16}\b/g) ?? [])];
}

export interface TranscriptStep {
  /** The command as shown, after `$ `. */
  command: string;
  /** What it printed, as recorded. */
  output: string;
}

/** A transcript file: lines starting with `$ ` are commands; the lines after each are its output. */
export function parseTranscript(text: string): TranscriptStep[] {
  const steps: TranscriptStep[] = [];
  for (const line of text.replace(/\n$/, '').split('\n')) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: '' });
    else if (steps.length > 0) steps[steps.length - 1]!.output += `${line}\n`;
    else throw new Error('a transcript starts with a "$ " command line');
  }
  return steps;
}

export function formatTranscript(steps: readonly TranscriptStep[]): string {
  return steps.map((step) => `$ ${step.command}\n${step.output}`).join('');
}

/**
 * The program and arguments a transcript command runs: `troupe …` and `npx troupe …` run the
 * built CLI, as an installed package's bin would; `npm start [-- …]` runs bin/start.mjs, as npm
 * would (without npm's banner). Arguments are split on spaces, with single or
 * double quotes around an argument that holds spaces; no other shell syntax.
 */
export function commandLine(command: string): { program: string; args: string[] } {
  const words = [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  if (words[0] === 'npm' && words[1] === 'start') {
    const rest = words.slice(2);
    return { program: process.execPath, args: [join(repoRoot, 'bin/start.mjs'), ...(rest[0] === '--' ? rest.slice(1) : rest)] };
  }
  if (words[0] === 'npx') words.shift();
  if (words[0] === 'troupe') return { program: process.execPath, args: [join(repoRoot, 'dist/bin/troupe.js'), ...words.slice(1)] };
  throw new Error(`a transcript runs troupe commands only (npx troupe …, troupe … or npm start), not "${command}"`);
}

/** The compiled copy of a snippet: docs/snippets/x.ts → dist/docs/snippets/x.js. */
export function compiledSnippet(path: string): string {
  return join(repoRoot, 'dist', path.replace(/\.ts$/, '.js'));
}

/** The file holding a snippet's expected output: docs/snippets/x.ts → docs/snippets/x.out. */
export function snippetOutputFile(path: string): string {
  return path.replace(/\.ts$/, '.out');
}

export function newHome(): string {
  return mkdtempSync(join(tmpdir(), 'troupe-docs-home-'));
}

export function repoRelative(path: string): string {
  return relative(repoRoot, path);
}
