// A crew's data folder (fixtures, repositories), found from its module: beside the module when it
// runs from source (tests), else the source folder of its compiled copy (dist/crews/<name> →
// crews/<name>), else crews/<name>/<folder> in the working directory.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `moduleUrl` is the crew module's `import.meta.url`; `crew` its folder's name under crews/. */
export function crewFolder(moduleUrl: string, crew: string, folder: string): string {
  const candidates = [
    fileURLToPath(new URL(`./${folder}/`, moduleUrl)),
    fileURLToPath(new URL(`../../../crews/${crew}/${folder}/`, moduleUrl)),
    `crews/${crew}/${folder}/`,
  ];
  return candidates.find((path) => existsSync(path)) ?? candidates[0]!;
}
