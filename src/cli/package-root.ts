import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The troupe package this code runs from: its folder (crews/, agents/ and dist/ are there) and its package.json. */
export interface OwnPackage {
  root: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

// Found by walking up to the nearest package.json rather than by a fixed number of `..`: this
// module runs from src/cli/ (tests), from a bundle chunk under dist/src/chunks/ (the built
// package), from node_modules/troupe/ (an installed one) and from a test's transpiled copy.
function findOwnPackage(): OwnPackage {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const json = JSON.parse(readFileSync(file, 'utf8')) as Partial<OwnPackage>;
      return { root: dir, version: json.version ?? '0.0.0', dependencies: json.dependencies ?? {}, devDependencies: json.devDependencies ?? {} };
    }
    // No package.json above (a copy of the files on their own): the layout of the build, dist/src/<folder>.
    if (dirname(dir) === dir) return { root: resolve(start, '..', '..', '..'), version: '0.0.0', dependencies: {}, devDependencies: {} };
  }
}

export const ownPackage: OwnPackage = findOwnPackage();
/** The package's root (the folder of its package.json): its own crews/ and agents/ folders. */
export const packageRoot = ownPackage.root;
/** The package's compiled tree: its own examples (crews, tools) are compiled there. */
export const ownRoot = join(packageRoot, 'dist');
