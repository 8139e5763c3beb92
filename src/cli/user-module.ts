import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { ToolRegistry } from '../agent/role-loader.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';

/**
 * Imports a module of the user's project (a workflow, a crew's `tools.js`). One that throws while it
 * loads is the user's to fix, like a bad definition file: a ConfigurationError naming the file and
 * what it threw (exit 2); the original error stays as the cause for --debug.
 */
export async function importUserModule(file: string, what: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigurationError(`the ${what} could not be loaded: it threw ${describeThrown(error)}`, { file }, { cause: error });
  }
}

/**
 * Loads the tools of a `tools.js` module: its default export is a function returning them (tools
 * often need setup, like a work directory). A function that throws is reported like a module that
 * does not load.
 */
export async function loadToolsModule(file: string, what = 'tools module'): Promise<() => Promise<ToolRegistry>> {
  const module = await importUserModule(file, what);
  const make = module['default'];
  if (typeof make !== 'function') throw new ConfigurationError(`${file} must export a default function that returns the tools`, { file });
  return async () => {
    try {
      return (await make()) as ToolRegistry;
    } catch (error) {
      throw new ConfigurationError(`the default function of the ${what} threw ${describeThrown(error)}`, { file }, { cause: error });
    }
  };
}

function describeThrown(error: unknown): string {
  if (error instanceof Error) return `${error.name === 'Error' ? 'an error' : error.name}: ${error.message.split('\n')[0]}`;
  return JSON.stringify(error) ?? String(error);
}
