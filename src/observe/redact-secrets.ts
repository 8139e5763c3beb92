/**
 * Scrubbing of secrets from free text: values of secret-looking environment variables and strings
 * shaped like provider API keys. Path-based redaction (the logger's) only covers fields we know
 * the name of; this covers text that may have picked a key up anywhere — a cassette about to be
 * written, a log message, an error shown to the user.
 */

export const redactedText = '[redacted]';

export type Environment = Record<string, string | undefined>;

// Named explicitly as well as by suffix, so a rename of the suffix rule can never drop them.
const knownSecretNames = new Set(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'ANTHROPIC_AUTH_TOKEN']);
const secretNameSuffix = /(?:_API_KEY|_ACCESS_KEY|_SECRET_KEY|_TOKEN|_SECRET|_PASSWORD)$/i;

// `sk-ant-...` (Anthropic) and `sk-...` / `sk-proj-...` (OpenAI and compatible servers). The
// look-behind keeps words such as `task-...` or `disk-...` intact.
const keyShapedPattern = /(?<![A-Za-z0-9_-])sk-(?:ant-)?[A-Za-z0-9_-]{16,}/g;

// Shorter values are too likely to occur in ordinary text ("1", "true", "dev"): replacing them
// would corrupt what we write while protecting nothing worth protecting.
const minimumSecretLength = 6;

/** Whether an environment variable's name says it holds a credential. */
export function isSecretEnvName(name: string): boolean {
  return knownSecretNames.has(name.toUpperCase()) || secretNameSuffix.test(name);
}

/** The values of secret-looking variables in `env`, longest first (so a secret that contains another is replaced whole). */
export function secretEnvValues(env: Environment = process.env): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= minimumSecretLength && isSecretEnvName(name)) values.add(value);
  }
  return [...values].sort((a, b) => b.length - a.length);
}

/**
 * A function that scrubs text, with the secret values of `env` read once. Use it where text is
 * scrubbed repeatedly (a logger, a cassette writer) instead of `redactSecrets` on every call.
 */
export function secretRedactor(env: Environment = process.env): (text: string) => string {
  const values = secretEnvValues(env);
  return (text) => {
    let out = text;
    for (const value of values) if (out.includes(value)) out = out.split(value).join(redactedText);
    return out.replace(keyShapedPattern, redactedText);
  };
}

/** Replaces the values of secret-looking env vars and key-shaped strings in `text` with `[redacted]`. */
export function redactSecrets(text: string, env?: Environment): string {
  return secretRedactor(env)(text);
}

/**
 * A deep copy of a JSON-like value with every string (object keys included) scrubbed. Used before
 * serializing, because a secret that contains a quote or backslash no longer matches once escaped.
 */
export function redactSecretsDeep<T>(value: T, redact: (text: string) => string): T {
  return scrub(value, redact) as T;
}

function scrub(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item) => scrub(item, redact));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[redact(key)] = scrub(inner, redact);
    return out;
  }
  return value;
}
