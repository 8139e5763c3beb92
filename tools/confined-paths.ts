// Paths of a work directory, checked against where they really lead. A lexical check ("no ..")
// is not enough: a symlink inside the directory (written by anyone, or planted by a test a model
// wrote) can point anywhere, so every path is resolved through the file system before use, and
// the last component is opened with O_NOFOLLOW so a symlink swapped in after the check is refused.
import { constants } from 'node:fs';
import { mkdir, open, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Thrown when a path leads outside the work directory, lexically or through a symlink. */
export class OutsideWorkDirectoryError extends Error {
  readonly code = 'outside_work_directory';
  constructor(path: string, how: string) {
    super(`"${path}" is outside the work directory${how}; use a relative path without ".." that stays inside it.`);
  }
}

// Windows has no O_NOFOLLOW: there the realpath check alone stands.
const noFollow = constants.O_NOFOLLOW ?? 0;

function within(root: string, target: string): boolean {
  return target === root || target.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The real path `path` (relative to `root`) leads to: the real path of its deepest existing
 * ancestor, plus the components that do not exist yet. Refused when it leaves the real root.
 */
export async function confinedPath(root: string, path: string): Promise<string> {
  const lexical = resolve(root, path);
  if (isAbsolute(path) || !within(resolve(root), lexical)) throw new OutsideWorkDirectoryError(path, '');
  const realRoot = await realpath(root);
  const missing: string[] = [];
  let probe = lexical;
  let real: string | undefined;
  while (real === undefined) {
    try {
      real = await realpath(probe);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || probe === dirname(probe)) throw error;
      // A dangling symlink is "missing" here; its open below fails with O_NOFOLLOW.
      missing.unshift(basename(probe));
      probe = dirname(probe);
    }
  }
  const target = join(real, ...missing);
  if (!within(realRoot, target)) throw new OutsideWorkDirectoryError(path, ' (through a symbolic link)');
  return target;
}

function refuseLink(path: string, error: unknown): never {
  // ELOOP is O_NOFOLLOW meeting a symlink as the last component (some systems say EMLINK).
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP' || code === 'EMLINK') throw new OutsideWorkDirectoryError(path, ' (it is a symbolic link)');
  throw error;
}

export async function readConfined(root: string, path: string): Promise<string> {
  const target = await confinedPath(root, path);
  const handle = await open(target, constants.O_RDONLY | noFollow).catch((error: unknown) => refuseLink(path, error));
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

export async function writeConfined(root: string, path: string, content: string): Promise<void> {
  // The work directory itself may not exist yet: the first write makes it, as before.
  await mkdir(root, { recursive: true });
  const target = await confinedPath(root, path);
  await mkdir(dirname(target), { recursive: true });
  // The folders just made (or found) must still be inside: a folder swapped for a symlink meanwhile is refused.
  if (!within(await realpath(root), await realpath(dirname(target)))) throw new OutsideWorkDirectoryError(path, ' (through a symbolic link)');
  const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | noFollow).catch((error: unknown) => refuseLink(path, error));
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

/**
 * The files under `root`, relative and with `/`, sorted. Folders are entered only when they are
 * real folders; a symlink is listed when it leads to a file inside the root, and never followed
 * into a folder (outside, that would list foreign files; inside, it could loop).
 */
export async function listConfined(root: string, skip: ReadonlySet<string> = new Set()): Promise<string[]> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const walk = async (dir: string): Promise<string[]> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const files: string[] = [];
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (skip.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) files.push(...(await walk(path)));
      else if (entry.isFile() || (entry.isSymbolicLink() && (await linksToFileInside(realRoot, path))))
        files.push(relative(realRoot, path).split(sep).join('/'));
    }
    return files;
  };
  return walk(realRoot);
}

async function linksToFileInside(realRoot: string, link: string): Promise<boolean> {
  try {
    const target = await realpath(link);
    return within(realRoot, target) && (await stat(target)).isFile();
  } catch {
    return false;
  }
}
