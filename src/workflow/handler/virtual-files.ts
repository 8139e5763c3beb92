import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defineTool, type Tool } from '../../tools/define-tool.js';
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
    const path = ref.uri.startsWith('file:') ? fileURLToPath(ref.uri) : isAbsolute(ref.uri) ? ref.uri : resolve(this.root, ref.uri);
    if (!ref.uri.startsWith('file:') && !isAbsolute(ref.uri) && !path.startsWith(resolve(this.root) + sep)) {
      throw new Error(`file "${ref.name}" points outside the handler's file root`);
    }
    return readFile(path, 'utf8');
  }
}

/** The tools through which a coordinator (model or script) sees the trigger's files. */
export function fileTools(files: VirtualFiles): Tool[] {
  return [
    defineTool({ name: 'list_files', description: 'Lists the files that came with the trigger.', input: z.object({}), sideEffects: 'none', run: () => files.list() }),
    defineTool({ name: 'read_file', description: 'Reads a file that came with the trigger, by name.', input: z.object({ name: z.string() }), sideEffects: 'read', run: ({ name }) => files.read(name) }),
  ];
}
