import { constants } from 'node:fs';
import { type FileHandle, open, realpath } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { TroupeError } from '../core/errors/troupe-error.js';
import { z } from 'zod';
import { defineTool, type Tool } from '../tools/define-tool.js';
import type { FileRef } from './trigger.js';

/**
 * The files of one trigger, known by name and read lazily: a large attachment costs nothing until
 * a tool (or a script) reads it, and each is read at most once per run.
 */
export class VirtualFiles {
  readonly #refs: Map<string, FileRef>;
  readonly #cache = new Map<string, Promise<string>>();

  constructor(
    refs: readonly FileRef[],
    private readonly root: string = process.cwd(),
  ) {
    this.#refs = new Map(refs.map((ref) => [ref.name, ref]));
  }

  /** Names and media types, never contents. */
  list(): Array<{ name: string; mediaType?: string }> {
    return [...this.#refs.values()].map(({ name, mediaType }) => (mediaType ? { name, mediaType } : { name }));
  }

  has(name: string): boolean {
    return this.#refs.has(name);
  }

  read(name: string): Promise<string> {
    const ref = this.#refs.get(name);
    if (!ref) return Promise.reject(new Error(`no file "${name}" came with this trigger (files: ${[...this.#refs.keys()].join(', ') || 'none'})`));
    let loaded = this.#cache.get(name);
    if (!loaded) this.#cache.set(name, (loaded = this.#load(ref)));
    return loaded;
  }

  /** How many files were actually read: the laziness is observable. */
  get readCount(): number {
    return this.#cache.size;
  }

  async #load(ref: FileRef): Promise<string> {
    if (ref.uri.startsWith('data:')) {
      const comma = ref.uri.indexOf(',');
      const meta = ref.uri.slice(5, comma);
      const body = ref.uri.slice(comma + 1);
      return meta.endsWith(';base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
    }
    return readUnderRoot(this.root, ref);
  }
}

/** Thrown when a trigger's file reference points outside the handler's file root, however it tries. */
export class FileOutsideRootError extends TroupeError {
  readonly code = 'file_outside_root';
  readonly fault = 'user' as const;
  constructor(ref: FileRef, how: string) {
    super(`file "${ref.name}" (${JSON.stringify(ref.uri)}) is refused: ${how}. Give a path relative to the handler's file root, or a data: URL.`, {
      details: { name: ref.name, uri: ref.uri },
    });
  }
}

/**
 * A trigger's references come from outside (a webhook body, a chat message), so they may only
 * name files under the file root: no absolute path, no `file:` URL, and no symlink under the root
 * that leads out of it (the real path is checked, and the file opened without following a
 * symlink swapped in after the check).
 */
async function readUnderRoot(root: string, ref: FileRef): Promise<string> {
  if (/^file:/i.test(ref.uri)) throw new FileOutsideRootError(ref, 'file: URLs are not accepted');
  if (isAbsolute(ref.uri)) throw new FileOutsideRootError(ref, 'absolute paths are not accepted');
  const realRoot = await realpath(root);
  const lexical = resolve(root, ref.uri);
  if (!within(resolve(root), lexical)) throw new FileOutsideRootError(ref, 'it leaves the file root');
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`file "${ref.name}" (${JSON.stringify(ref.uri)}) does not exist under the handler's file root`);
    throw error;
  }
  if (!within(realRoot, real)) throw new FileOutsideRootError(ref, 'a symbolic link under the file root leads out of it');
  let handle: FileHandle;
  try {
    handle = await open(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK') throw new FileOutsideRootError(ref, 'it became a symbolic link while being read');
    throw error;
  }
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function within(root: string, path: string): boolean {
  return path !== root && path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The tools through which a coordinator (model or script) sees the trigger's files. */
export function fileTools(files: VirtualFiles): Tool[] {
  return [
    defineTool({
      name: 'list_files',
      description: 'Lists the files that came with the trigger.',
      input: z.object({}),
      sideEffects: 'none',
      run: () => files.list(),
    }),
    defineTool({
      name: 'read_file',
      description: 'Reads a file that came with the trigger, by name.',
      input: z.object({ name: z.string() }),
      sideEffects: 'read',
      run: ({ name }) => files.read(name),
    }),
  ];
}
