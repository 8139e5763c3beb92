import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ToolRegistry } from '../agent/role-loader.js';
import { type Configuration, loadConfiguration } from '../coordinator/configuration.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { loadToolsModule } from './user-module.js';

/** The compiled tree this command runs from (dist/ in the repository), and the package root above it. */
const ownRoot = fileURLToPath(new URL('../../', import.meta.url));
const packageRoot = resolve(ownRoot, '..');

/** A handler configuration file and what it runs with: its tools, and the folder its cassette would be in. */
export interface HandlerConfigurationFile {
  file: string;
  /** The folder of the file: its cassette.json, golden triggers and coordinator script are there. */
  home: string;
  configuration: Configuration;
  tools: ToolRegistry;
}

const definitionFile = /\.(ya?ml|json)$/i;

/** Whether a YAML or JSON file is a handler configuration: its top level has `trigger:`. */
export function isHandlerConfigurationFile(path: string): boolean {
  if (!definitionFile.test(path) || !existsSync(path) || !statSync(path).isFile()) return false;
  const text = readFileSync(path, 'utf8');
  if (!/\.json$/i.test(path)) return /^trigger\s*:/m.test(text);
  try {
    const data = JSON.parse(text) as unknown;
    return data !== null && typeof data === 'object' && !Array.isArray(data) && 'trigger' in data;
  } catch {
    return false;
  }
}

/** The folders a configuration name may live in: crews/<name> in the working directory, then this package's own. */
function folders(name: string): string[] {
  if (existsSync(name) && statSync(name).isDirectory()) return [name];
  return [join('crews', name), join(packageRoot, 'crews', name)];
}

/**
 * The handler configuration a name or path means: a YAML (or JSON) file whose top level has
 * `trigger:`, or in a folder (crews/<name>, or the path of a folder) its `<name>.yaml`, else the
 * one such file there. Undefined when there is none; a folder with several is ambiguous (exit 2).
 */
export function findHandlerConfiguration(name: string): string | undefined {
  if (definitionFile.test(name)) return isHandlerConfigurationFile(name) ? name : undefined;
  for (const folder of folders(name)) {
    if (!existsSync(folder) || !statSync(folder).isDirectory()) continue;
    const files = readdirSync(folder)
      .filter((entry) => definitionFile.test(entry))
      .map((entry) => join(folder, entry))
      .filter(isHandlerConfigurationFile);
    const own = files.find((file) => /^(.*[/\\])?([^/\\]+)[/\\]\2\.ya?ml$/.test(file));
    if (own) return own;
    if (files.length === 1) return files[0];
    if (files.length > 1)
      throw new ConfigurationError(`${folder} holds ${files.length} handler configurations (${files.join(', ')}): name the file`, { field: 'configuration' });
  }
  return undefined;
}

/**
 * Loads a handler configuration with its tools: `tools.js` beside the file, or its compiled copy
 * under dist/ (of the working directory, or of this package for its own crews), whose default
 * export returns them, as for a crew. Without one the configuration approves no registered tool.
 */
export async function loadHandlerConfiguration(file: string): Promise<HandlerConfigurationFile> {
  const home = dirname(file);
  const dir = resolve(home);
  const candidates = [
    join(dir, 'tools.js'),
    join(resolve('dist'), relative(process.cwd(), dir), 'tools.js'),
    join(ownRoot, relative(packageRoot, dir), 'tools.js'),
  ];
  const found = candidates.find((path) => existsSync(path));
  const tools = found ? await (await loadToolsModule(found, "configuration's tools module"))() : {};
  return { file, home, configuration: loadConfiguration(file, { tools }), tools };
}
