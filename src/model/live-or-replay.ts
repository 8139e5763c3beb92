import type { Environment } from '../observe/redact-secrets.js';
import { parseModelString } from './resolve-model.js';

const keyVariable: Record<string, string> = { anthropic: 'ANTHROPIC_API_KEY', openai: 'OPENAI_API_KEY' };

/**
 * The model string an example or demo should use: the live model when its provider's key is set
 * (or an OpenAI-compatible base URL, which needs none), otherwise the recorded cassette, saying so
 * on stderr. This is how every example runs offline with no keys and live with one.
 */
export function liveOrReplay(
  live: string,
  cassette: string,
  options: { env?: Environment; notice?: (text: string) => void } = {},
): string {
  const env = options.env ?? process.env;
  const { provider } = parseModelString(live);
  const variable = keyVariable[provider];
  const hasKey = variable !== undefined && Boolean(env[variable]?.trim());
  const hasLocalServer = provider === 'openai' && Boolean(env['OPENAI_BASE_URL']?.trim());
  if (hasKey || hasLocalServer) return live;
  const notice = options.notice ?? ((text: string) => process.stderr.write(`${text}\n`));
  notice(`[troupe] ${variable ?? 'No API key'} is not set: replaying the recorded transcript ${cassette} instead of calling ${live}.`);
  return `replay:${cassette}`;
}
