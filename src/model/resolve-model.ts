import { ConfigurationError, type Location } from '../core/errors/configuration-error.js';
import type { Environment } from '../observe/redact-secrets.js';
import { anthropicModel } from './anthropic.js';
import type { ModelClient } from './model-client.js';
import { defaultModel, defaultOpenAIModel } from './default-model.js';
import { openaiModel } from './openai.js';
import { ReplayModel } from './replay.js';
import { isRepliesFile, scriptedRepliesModel } from './scripted-replies.js';

export type ModelProvider = 'anthropic' | 'openai' | 'replay' | 'scripted';

/** A parsed model string. For `replay` the model is the cassette path; for `scripted` the registered name or a replies file. */
export interface ModelSpec {
  provider: ModelProvider;
  model: string;
}

/** The name `scripted` alone stands for. */
export const defaultScriptedName = 'default';

const acceptedForms = `anthropic:<model> (e.g. ${defaultModel}), openai:<model> (e.g. ${defaultOpenAIModel}), replay:<cassette path>, scripted:<replies file .yaml/.json>, scripted or scripted:<registered name>`;

/** Parses `anthropic:<model>`, `openai:<model>`, `replay:<cassette>`, `scripted`, `scripted:<name>` and `scripted:<replies file>`. */
export function parseModelString(spec: string, where: Location = { field: 'model' }): ModelSpec {
  const text = spec.trim();
  if (text === 'scripted') return { provider: 'scripted', model: defaultScriptedName };
  const colon = text.indexOf(':');
  if (colon <= 0) {
    throw new ConfigurationError(`"${spec}" is not a model string${bareNameHint(text)}. Use one of: ${acceptedForms}.`, where);
  }
  const provider = text.slice(0, colon).toLowerCase();
  const model = text.slice(colon + 1).trim();
  if (provider !== 'anthropic' && provider !== 'openai' && provider !== 'replay' && provider !== 'scripted') {
    throw new ConfigurationError(`"${spec}" names an unknown provider "${provider}". Use one of: ${acceptedForms}.`, where);
  }
  if (!model) {
    const what = provider === 'replay' ? 'cassette path' : provider === 'scripted' ? 'name' : 'model name';
    throw new ConfigurationError(`"${spec}" has no ${what} after "${provider}:". Use one of: ${acceptedForms}.`, where);
  }
  return { provider, model };
}

// The usual slip is a bare model name; say which prefix it wants instead of only listing forms.
function bareNameHint(text: string): string {
  if (/^claude/i.test(text)) return ` (did you mean "anthropic:${text}"?)`;
  if (/^(gpt|o\d|chatgpt)/i.test(text)) return ` (did you mean "openai:${text}"?)`;
  if (/\.json$/i.test(text)) return ` (did you mean "replay:${text}"?)`;
  return '';
}

// Scripted models by name, so tests and the CLI can name one by string (`--model scripted:happy-path`).
const registry = new Map<string, ModelClient>();

/**
 * Registers a model under a name that `scripted:<name>` resolves to (`scripted` alone is
 * `scripted:default`). Returns a function that removes it, for test cleanup.
 */
export function registerModel(name: string, client: ModelClient): () => void {
  registry.set(name, client);
  return () => {
    if (registry.get(name) === client) registry.delete(name);
  };
}

export function unregisterModel(name: string): void {
  registry.delete(name);
}

export interface ResolveModelOptions {
  /** Where `TROUPE_MODEL`, the record variables and API keys are read (default `process.env`). */
  env?: Environment;
  /** Where the model string came from, for error messages (a role file, a CLI flag). Default `{ field: 'model' }`. */
  where?: Location;
}

/**
 * Turns a model string (or nothing) into a ModelClient. A ModelClient passes through. With no
 * spec, `TROUPE_MODEL` is used.
 *
 * Recording: with `TROUPE_RECORD=1`, a `replay:<cassette>` string becomes a replay model in `auto`
 * mode whose live model is `TROUPE_RECORD_MODEL` (e.g. `anthropic:claude-sonnet-5-5`): recorded
 * requests are replayed, missing ones are asked of the live model and added to the cassette. This
 * is how an example's cassette is (re-)recorded without touching its code.
 */
export function resolveModel(spec?: string | ModelClient, options: ResolveModelOptions = {}): ModelClient {
  if (spec !== undefined && typeof spec !== 'string') return spec;
  const env = options.env ?? process.env;
  let where = options.where ?? { field: 'model' };
  let text = spec?.trim();
  if (!text) {
    text = env['TROUPE_MODEL']?.trim();
    where = { field: 'TROUPE_MODEL' };
    if (!text) {
      throw new ConfigurationError(
        `No model was given. Pass a model (a ModelClient or a string such as ${defaultModel}, or scripted:<name> to run without a key) or set TROUPE_MODEL.`,
        options.where ?? { field: 'model' },
      );
    }
  }
  const { provider, model } = parseModelString(text, where);
  switch (provider) {
    case 'anthropic':
      return anthropicModel({ model, env });
    case 'openai':
      return openaiModel({ model, env });
    case 'replay':
      return resolveReplay(model, env);
    case 'scripted': {
      // A replies file is written by hand, no code needed (scripted-replies.ts); other names are registered by code.
      if (isRepliesFile(model)) return scriptedRepliesModel(model);
      const client = registry.get(model);
      if (client) return client;
      const registered = registry.size ? ` Registered: ${[...registry.keys()].join(', ')}.` : '';
      throw new ConfigurationError(
        `No scripted model is registered as "${model}". Call registerModel('${model}', scriptedModel([...])) before resolving "${text}".${registered}`,
        where,
      );
    }
  }
}

/** The variable that holds each provider's key. */
export const providerKeyVariables: Readonly<Record<string, string>> = { anthropic: 'ANTHROPIC_API_KEY', openai: 'OPENAI_API_KEY' };

/** Whether `TROUPE_RECORD` asks for recording (set, and not `0` or `false`). */
export function recordingRequested(env: Environment): boolean {
  const record = env['TROUPE_RECORD']?.trim().toLowerCase();
  return Boolean(record) && record !== '0' && record !== 'false';
}

/** Whether a live model string can be called: its provider's key is set (or, for OpenAI, a local server's base URL). */
export function hasProviderAccess(provider: string, env: Environment): boolean {
  const variable = providerKeyVariables[provider];
  if (variable === undefined) return true;
  return Boolean(env[variable]?.trim()) || (provider === 'openai' && Boolean(env['OPENAI_BASE_URL']?.trim()));
}

function resolveReplay(cassette: string, env: Environment): ModelClient {
  if (!recordingRequested(env)) return new ReplayModel({ cassette, env });
  const liveSpec = env['TROUPE_RECORD_MODEL']?.trim();
  if (!liveSpec) {
    throw new ConfigurationError(
      `TROUPE_RECORD is set, so the replay cassette ${cassette} would be recorded, but TROUPE_RECORD_MODEL is not set. ` +
        `Set it to the live model to record from, e.g. TROUPE_RECORD_MODEL=${defaultModel}.`,
      { field: 'TROUPE_RECORD_MODEL' },
    );
  }
  const where = { field: 'TROUPE_RECORD_MODEL' };
  const { provider } = parseModelString(liveSpec, where);
  if (provider === 'replay') {
    throw new ConfigurationError(`A cassette cannot be recorded from another cassette ("${liveSpec}"). Name a live model.`, where);
  }
  // Said now, before a run starts, rather than as an auth failure at the first request the cassette lacks.
  if (!hasProviderAccess(provider, env)) {
    const variable = providerKeyVariables[provider]!;
    throw new ConfigurationError(
      `TROUPE_RECORD is set, so the cassette ${cassette} is recorded from ${liveSpec}, but ${variable} is not set. ` +
        `Set ${variable} to record, or unset TROUPE_RECORD to replay the cassette as it is.`,
      { field: variable },
    );
  }
  const live = resolveModel(liveSpec, { env, where });
  return new ReplayModel({ cassette, mode: 'auto', live, env });
}
