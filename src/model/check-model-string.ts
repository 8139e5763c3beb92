import { existsSync } from 'node:fs';
import { ConfigurationError, type Location } from '../core/errors/configuration-error.js';
import type { Environment } from '../observe/redact-secrets.js';
import { loadCassette } from './replay.js';
import { parseModelString, type ModelSpec } from './resolve-model.js';
import { isRepliesFile, scriptedRepliesModel } from './scripted-replies.js';

/**
 * Checks a model string where it is read (a role or crew file, a flag) rather than at the first
 * model call, so a mistake is reported with its file, line and field before anything runs: the
 * form (`anthropic:<model>`, `openai:<model>`, `replay:<cassette>`, `scripted[:<name>]`) and, for
 * a replay, that the cassette exists and is well formed; for a replies file (`scripted:<file>`),
 * that it exists and is well formed. Other scripted models are registered by code at run time, so
 * only their form can be checked here. A cassette about to be recorded
 * (`TROUPE_RECORD`) may not exist yet.
 */
export function checkModelString(spec: string, where: Location = { field: 'model' }, env: Environment = process.env): ModelSpec {
  const parsed = parseModelString(spec, where);
  // Problems inside a replies file name the file's own line and field.
  if (parsed.provider === 'scripted' && isRepliesFile(parsed.model)) scriptedRepliesModel(parsed.model);
  if (parsed.provider !== 'replay') return parsed;
  const record = env['TROUPE_RECORD']?.trim().toLowerCase();
  const recording = Boolean(record) && record !== '0' && record !== 'false';
  if (!existsSync(parsed.model)) {
    if (recording) return parsed;
    throw new ConfigurationError(`the cassette ${parsed.model} of "${spec}" does not exist (record it with TROUPE_RECORD=1 and TROUPE_RECORD_MODEL)`, where);
  }
  // Problems inside the cassette name the cassette's own file, line and field.
  loadCassette(parsed.model);
  return parsed;
}
