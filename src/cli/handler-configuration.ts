import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { ToolRegistry } from '../agent/role-loader.js';
import { type Configuration, loadConfiguration } from '../coordinator/configuration.js';
import { ownRoot, packageRoot } from './package-root.js';
import { loadToolsModule } from './user-module.js';

/** A handler configuration file and what it runs with: its tools, and the folder its cassette would be in. */
export interface HandlerConfigurationFile {
  file: string;
  /** The folder of the file: its cassette.json, golden triggers and coordinator script are there. */
  home: string;
  configuration: Configuration;
  tools: ToolRegistry;
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
