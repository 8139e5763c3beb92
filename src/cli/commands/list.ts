import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DefinitionFile } from '../../core/definition-file.js';
import { packageRoot, runnablesIn, type RunnableKind } from '../find-runnable.js';

/** One thing `troupe run` can run, as `troupe list` shows it. */
export interface ListedRunnable {
  kind: RunnableKind;
  /** What to pass to `troupe run`: the folder's or file's name when that finds it, else its path. */
  name: string;
  path: string;
  description: string;
  /** `project`: this folder's crews/ and agents/; `package`: Troupe's own examples. */
  from: 'project' | 'package';
}

/**
 * `troupe list`: the crews, workflows, work graphs, handler configurations and roles that
 * `troupe run` finds from here: this folder's crews/ and agents/, and Troupe's own examples when
 * it runs from another folder. Descriptions come from the files, without running any code: a
 * definition file's `description`, a module's opening comment.
 */
export function registerList(program: Command): void {
  program
    .command('list')
    .description('List the crews, workflows, work graphs, handler configurations and roles that troupe run finds from here')
    .option('--json', 'print them as a JSON array')
    .action((flags: { json?: boolean }) => {
      const listed = listRunnables();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(listed, null, 2)}\n`);
        return;
      }
      if (listed.length === 0) {
        process.stdout.write('nothing to run here: no crews/<name>/ folder with a crew, workflow, graph or configuration, and no agents/*.yaml\n');
        return;
      }
      const width = (pick: (entry: ListedRunnable) => string) => Math.max(...listed.map((entry) => pick(entry).length));
      const kindWidth = width((entry) => entry.kind);
      const nameWidth = width((entry) => entry.name);
      const pathWidth = width((entry) => entry.path);
      for (const entry of listed) {
        const line = `${entry.kind.padEnd(kindWidth)}  ${entry.name.padEnd(nameWidth)}  ${entry.path.padEnd(pathWidth)}  ${entry.description}`;
        process.stdout.write(`${line.trimEnd()}\n`);
      }
    });
}

/** Everything `troupe run` can run from the current folder (see registerList). */
export function listRunnables(): ListedRunnable[] {
  const listed = [...crewsIn('crews', 'project'), ...rolesIn('agents')];
  // From another folder, Troupe's own examples are runnable by name too (unless a project's folder of that name hides them).
  if (resolve(packageRoot) !== resolve('.')) {
    const hidden = new Set(listed.filter((entry) => entry.kind !== 'role').map((entry) => entry.name));
    listed.push(...crewsIn(join(packageRoot, 'crews'), 'package').filter((entry) => !hidden.has(entry.name)));
  }
  return listed;
}

function crewsIn(root: string, from: ListedRunnable['from']): ListedRunnable[] {
  const listed: ListedRunnable[] = [];
  for (const folder of subfolders(root)) {
    const found = runnablesIn(join(root, folder));
    for (const [index, runnable] of found.entries()) {
      // `troupe run <folder>` runs the first; the others run by their path.
      listed.push({ kind: runnable.kind, name: index === 0 ? folder : runnable.file, path: runnable.file, description: describe(runnable.file), from });
    }
  }
  return listed;
}

function rolesIn(root: string): ListedRunnable[] {
  let names: string[];
  try {
    names = readdirSync(root).filter((name) => /\.(ya?ml|json)$/i.test(name));
  } catch {
    return [];
  }
  return names.sort().map((name) => {
    const path = join(root, name);
    return { kind: 'role', name: basename(name).replace(/\.(ya?ml|json)$/i, ''), path, description: describe(path), from: 'project' };
  });
}

function subfolders(root: string): string[] {
  try {
    return readdirSync(root)
      .filter((name) => !name.startsWith('.') && statSync(join(root, name)).isDirectory())
      .sort();
  } catch {
    return [];
  }
}

/** A definition file's `description`; a module's opening comment, to its first sentence. */
function describe(file: string): string {
  try {
    if (/\.(ya?ml|json)$/i.test(file)) {
      const data = DefinitionFile.read(file, { what: 'definition file' }).data as { description?: unknown; goal?: unknown } | null;
      // A user-proxy role often has no description; its goal says what it is for.
      const text = [data?.description, data?.goal].find((value) => typeof value === 'string');
      return typeof text === 'string' ? firstSentence(oneLine(text)) : '';
    }
    const comment: string[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const text = /^\s*\/\/\s?(.*)$/.exec(line);
      if (!text) break;
      comment.push(text[1]!);
    }
    return firstSentence(oneLine(comment.join(' ')));
  } catch (error) {
    return `(unreadable: ${(error as Error).message.split('\n')[0]})`;
  }
}

function firstSentence(text: string): string {
  const sentence = /^(.*?\.)(\s|$)/.exec(text)?.[1] ?? text;
  return sentence.length > 120 ? `${sentence.slice(0, 119)}…` : sentence;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
