/**
 * Scrubbing of secrets from free text: values of secret-looking environment variables, passwords
 * in URLs held by environment variables (REDIS_URL), keys given to providers in code
 * (`registerSecret`), and strings shaped like provider API keys. Path-based redaction (the
 * logger's) only covers fields we know the name of; this covers text that may have picked a key
 * up anywhere — a cassette about to be written, a log line, a stored run, an error shown to the user.
 */

export const redactedText = '[redacted]';

export type Environment = Record<string, string | undefined>;

// Named explicitly as well as by suffix, so a rename of the suffix rule can never drop them.
const knownSecretNames = new Set(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'ANTHROPIC_AUTH_TOKEN']);
const secretNameSuffix = /(?:_KEY|_TOKEN|_SECRET|_PASSWORD|_PASSWD)$/i;

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

/**
 * The values of secret-looking variables in `env`, and the passwords of URLs in any variable
 * (`redis://:password@host`), longest first (so a secret that contains another is replaced whole).
 */
export function secretEnvValues(env: Environment = process.env): string[] {
  const values = new Set<string>();
  const add = (value: string | undefined) => {
    if (value && value.length >= minimumSecretLength) values.add(value);
  };
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (isSecretEnvName(name)) add(value);
    for (const password of urlPasswords(value)) add(password);
  }
  return [...values].sort((a, b) => b.length - a.length);
}

function urlPasswords(value: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*:[^/]*@/i.test(value)) return [];
  try {
    const password = new URL(value).password;
    if (!password) return [];
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {
      // Keep the raw form only.
    }
    return decoded === password ? [password] : [password, decoded];
  } catch {
    return [];
  }
}

// Secrets known to the program beyond its environment: keys given to providers in code.
const registered = new Set<string>();
let registeredVersion = 0;

/**
 * Adds a value every redactor scrubs from now on, e.g. an API key passed to a provider in code
 * rather than through the environment. Short values are ignored (see minimumSecretLength).
 */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < minimumSecretLength || registered.has(value)) return;
  registered.add(value);
  registeredVersion++;
}

/** A scrubbing function; `values()` lists the exact values it replaces (key shapes aside). */
export interface SecretRedactor {
  (text: string): string;
  values(): readonly string[];
}

/**
 * A function that scrubs text, with the secret values of `env` read once (plus every registered
 * secret). Use it where text is scrubbed repeatedly (a logger, a cassette writer) instead of
 * `redactSecrets` on every call.
 */
export function secretRedactor(env: Environment = process.env): SecretRedactor {
  const fromEnv = secretEnvValues(env);
  let list = fromEnv;
  let seen = 0;
  const values = () => {
    if (seen !== registeredVersion) {
      list = [...new Set([...fromEnv, ...registered])].sort((a, b) => b.length - a.length);
      seen = registeredVersion;
    }
    return list;
  };
  const redact = (text: string) => {
    let out = text;
    for (const value of values()) if (out.includes(value)) out = out.split(value).join(redactedText);
    return out.replace(keyShapedPattern, redactedText);
  };
  return Object.assign(redact, { values });
}

let processRedactor: SecretRedactor | undefined;

/**
 * The redactor of this process: secrets of `process.env` as they were at its first use, plus
 * registered ones. The environment is read once, for speed; `refreshSecretValues` re-reads it.
 */
export function knownSecretRedactor(): SecretRedactor {
  return (processRedactor ??= secretRedactor(process.env));
}

/** Re-reads `process.env` for the process redactor (after setting a secret variable at run time). */
export function refreshSecretValues(): void {
  processRedactor = undefined;
}

/**
 * Whether serialized JSON holds a secret of `redact`, in its escaped form (a secret with a quote
 * or a backslash looks different inside JSON). A cheap scan, for deciding whether to scrub at all.
 */
export function jsonHoldsSecret(json: string, redact: SecretRedactor = knownSecretRedactor()): boolean {
  keyShapedPattern.lastIndex = 0;
  if (keyShapedPattern.test(json)) return true;
  return redact.values().some((value) => json.includes(JSON.stringify(value).slice(1, -1)));
}

/** Replaces the values of secret-looking env vars and key-shaped strings in `text` with `[redacted]`. */
export function redactSecrets(text: string, env?: Environment): string {
  return secretRedactor(env)(text);
}

/**
 * A deep copy of a value with every string (object keys included) scrubbed. Used before
 * serializing, because a secret that contains a quote or backslash no longer matches once escaped.
 * Errors become plain objects (`toPlainError`, default: their toJSON, else name, message, stack, own fields and cause)
 * so that their message, stack and fields such as a provider's `rawBody` are scrubbed too.
 * Cycles are cut (`[circular]`), and nesting deeper than 20 levels is dropped (`[too deep]`).
 */
export function redactSecretsDeep<T>(
  value: T,
  redact: (text: string) => string = knownSecretRedactor(),
  toPlainError: (error: Error) => object = plainError,
): T {
  return scrub(value, redact, toPlainError, new Set(), 0) as T;
}

function plainError(error: Error): object {
  // An error that says how it serializes (a TroupeError) keeps that shape.
  if (typeof (error as { toJSON?: unknown }).toJSON === 'function') return (error as unknown as { toJSON(): object }).toJSON();
  const out: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  for (const [key, inner] of Object.entries(error)) if (!(key in out)) out[key] = inner;
  if (error.cause !== undefined) out['cause'] = error.cause;
  return out;
}

function scrub(value: unknown, redact: (text: string) => string, toPlainError: (error: Error) => object, ancestors: Set<object>, depth: number): unknown {
  if (typeof value === 'string') return redact(value);
  if (!value || typeof value !== 'object') return value;
  if (ancestors.has(value)) return '[circular]';
  if (depth > 20) return '[too deep]';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => scrub(item, redact, toPlainError, ancestors, depth + 1));
    const source = value instanceof Error ? toPlainError(value) : value;
    // Anything else with a toJSON (a Date, a TroupeError) is scrubbed as what it serializes to.
    const plain =
      source !== value || typeof (value as { toJSON?: unknown }).toJSON !== 'function' ? source : ((value as { toJSON(): unknown }).toJSON() as object);
    if (typeof plain !== 'object' || plain === null) return scrub(plain, redact, toPlainError, ancestors, depth + 1);
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(plain)) out[redact(key)] = scrub(inner, redact, toPlainError, ancestors, depth + 1);
    return out;
  } finally {
    ancestors.delete(value);
  }
}
