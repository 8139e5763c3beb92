import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Handler } from '../coordinator/handler.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { Environment } from '../observe/redact-secrets.js';
import { ownRoot } from './package-root.js';
import { importUserModule } from './user-module.js';

/**
 * What a handler module exports as default: a `Handler`, or a function of the environment that
 * builds one (tools and models often need setup). `troupe worker --handler` loads it.
 */
export type HandlerModuleExport = Handler | ((env: Environment) => Handler | Promise<Handler>);

export interface HandlerModule {
  file: string;
  handler: Handler;
}

/** Where `crews/<name>/handler.js` may be: in a user's project as is, or compiled under dist/; a path to a .js module is itself. */
export function handlerCandidates(name: string): string[] {
  if (/\.[cm]?js$/.test(name)) return [resolve(name)];
  return [resolve('crews', name, 'handler.js'), join(ownRoot, 'crews', name, 'handler.js'), resolve('dist', 'crews', name, 'handler.js')];
}

/**
 * Imports a handler module and builds its handler. A module that is missing, throws, or exports
 * something else is the user's to fix: a ConfigurationError naming the file (exit 2).
 */
export async function loadHandlerModule(name: string, env: Environment = process.env): Promise<HandlerModule> {
  const candidates = handlerCandidates(name);
  const file = candidates.find((path) => existsSync(path));
  if (!file) throw new ConfigurationError(`no handler module "${name}": looked for ${candidates.join(', ')}`, { field: '--handler' });
  const module = await importUserModule(file, 'handler module');
  const exported = module['default'];
  const expected = 'the default export must be a Handler or a function (env) => Handler (export default new Handler({ configurations, tools }))';
  if (exported === undefined || (typeof exported !== 'function' && !isHandler(exported)))
    throw new ConfigurationError(`${expected}, not ${describe(exported)}`, { file });
  let handler: unknown = exported;
  if (!isHandler(exported)) {
    try {
      handler = await (exported as (env: Environment) => unknown)(env);
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new ConfigurationError(`the default function of the handler module threw: ${message}`, { file }, { cause: error });
    }
    if (!isHandler(handler)) throw new ConfigurationError(`${expected}; the function returned ${describe(handler)}`, { file });
  }
  return { file, handler: handler as Handler };
}

/** A Handler of this Troupe, or of another copy of it (a project's own install): judged by its shape. */
function isHandler(value: unknown): value is Handler {
  if (value instanceof Handler) return true;
  const candidate = value as Partial<Handler> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.handle === 'function' &&
    typeof candidate.withDefaults === 'function' &&
    Array.isArray(candidate.configurations)
  );
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object${value.constructor && value.constructor !== Object ? ` (${value.constructor.name})` : ''}`;
  return `a ${typeof value}`;
}
