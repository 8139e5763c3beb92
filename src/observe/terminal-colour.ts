import type { Environment } from './redact-secrets.js';

/**
 * Whether output to `stream` may carry colour: only on a terminal, and never when `NO_COLOR` is
 * set to anything but the empty string (no-color.org). Piped or redirected output stays plain, so
 * it can be read by another program or stored without escape codes.
 */
export function colourAllowed(stream: unknown, env: Environment = process.env): boolean {
  const noColour = env['NO_COLOR'];
  if (noColour !== undefined && noColour !== '') return false;
  return (stream as { isTTY?: boolean } | undefined)?.isTTY === true;
}
