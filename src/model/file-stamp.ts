import { statSync } from 'node:fs';

/**
 * What changes when a file is rewritten (modification time and size), or undefined when it
 * cannot be read: models that cache what they parsed from a file (cassettes, replies files)
 * compare it to read the file again only after it changed.
 */
export function fileStamp(path: string): string | undefined {
  try {
    const stat = statSync(path);
    return `${stat.mtimeMs}:${stat.size}`;
  } catch {
    return undefined;
  }
}
