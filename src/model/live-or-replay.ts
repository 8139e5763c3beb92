import type { Environment } from '../observe/redact-secrets.js';
import { hasProviderAccess, parseModelString, providerKeyVariables, recordingRequested } from './resolve-model.js';

/**
 * The model string an example or demo should use: the live model when its provider's key is set
 * (or an OpenAI-compatible base URL, which needs none), otherwise the recorded cassette, saying so
 * on stderr. This is how every example runs offline with no keys and live with one.
 *
 * With `TROUPE_RECORD=1` it is always the cassette, key or not: `resolveModel` then records it from
 * `TROUPE_RECORD_MODEL` (recorded requests replay, missing ones go to that model and are added),
 * which is how an example's cassette is re-recorded without touching its code.
 */
export function liveOrReplay(live: string, cassette: string, options: { env?: Environment; notice?: (text: string) => void } = {}): string {
  const env = options.env ?? process.env;
  const { provider } = parseModelString(live);
  const notice = options.notice ?? ((text: string) => process.stderr.write(`${text}\n`));
  if (recordingRequested(env)) {
    const from = env['TROUPE_RECORD_MODEL']?.trim() || '(TROUPE_RECORD_MODEL is not set)';
    notice(`[troupe] TROUPE_RECORD is set: recording the cassette ${cassette} from ${from} instead of calling ${live} directly.`);
    return `replay:${cassette}`;
  }
  if (hasProviderAccess(provider, env)) return live;
  notice(`[troupe] ${providerKeyVariables[provider] ?? 'No API key'} is not set: replaying the recorded transcript ${cassette} instead of calling ${live}.`);
  return `replay:${cassette}`;
}
