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
    // Most strings scrubbed (field names, ids, event types) are shorter than any secret: the
    // logger and trace sinks call this for every string of every event, so they return at once.
    if (text.length < minimumSecretLength) return text;
    let out = text;
    for (const value of values()) if (out.includes(value)) out = out.split(value).join(redactedText);
    return out.includes('sk-') ? out.replace(keyShapedPattern, redactedText) : out;
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
  const values = redact.values();
  if (values.length === 0) return false;
  // Escaped once per list of values (a redactor keeps its list until a secret is registered), not on every call.
  let escaped = escapedSecrets.get(values);
  if (!escaped) {
    escaped = values.map((value) => JSON.stringify(value).slice(1, -1));
    escapedSecrets.set(values, escaped);
  }
  return escaped.some((value) => json.includes(value));
}

/** Secret values as they look inside JSON text, per list of values (see jsonHoldsSecret). */
const escapedSecrets = new WeakMap<readonly string[], string[]>();

/** Replaces the values of secret-looking env vars and key-shaped strings in `text` with `[redacted]`. */
export function redactSecrets(text: string, env?: Environment): string {
  return secretRedactor(env)(text);
}

/**
 * Field names whose values are never written, matched at any depth and in any case: credentials
 * that a configuration, a request or its headers carry under a well-known name, whatever their
 * value looks like (`password: "hunter2"` is neither registered nor key-shaped).
 */
const credentialFieldNames = new Set(
  [
    'apiKey',
    'api_key',
    'authorization',
    'password',
    'token',
    'accessToken',
    'access_token',
    'secret',
    'clientSecret',
    'client_secret',
    'x-api-key',
    'cookie',
    ...knownSecretNames,
  ].map((name) => name.toLowerCase()),
);

/** Whether a field of this name holds a credential, whatever its value (`apiKey`, `authorization`, `ANTHROPIC_API_KEY`…). */
export function isCredentialField(name: string): boolean {
  let verdict = credentialVerdicts.get(name);
  if (verdict === undefined) {
    verdict = credentialFieldNames.has(name.toLowerCase());
    // Field names are few in practice; the bound keeps a program that logs generated keys from growing it forever.
    if (credentialVerdicts.size >= 10_000) credentialVerdicts.clear();
    credentialVerdicts.set(name, verdict);
  }
  return verdict;
}

// Lower-casing every field name of every logged object showed in profiles: each name is judged once.
const credentialVerdicts = new Map<string, boolean>();

export interface RedactDeepOptions {
  /** How an error becomes a plain object (default: its toJSON, else name, message, stack, own fields and cause). */
  toPlainError?: (error: Error) => object;
  /** Replace the value of fields this accepts by `[redacted]`, whatever it is (the logger passes isCredentialField). */
  censorField?: (name: string) => boolean;
}

/**
 * The value with every string (object keys included) scrubbed, copied only where something
 * changed: a value that holds no secret comes back as the same object, so scrubbing what is
 * almost always clean (a trace event, a log line's fields) walks it once and allocates nothing.
 * Used before serializing, because a secret that contains a quote or backslash no longer matches
 * once escaped. Errors always become plain objects (`toPlainError`) so that their message, stack
 * and fields such as a provider's `rawBody` are scrubbed too; anything else with a toJSON (a
 * Date, a TroupeError) is scrubbed as what it serializes to. Cycles are cut (`[circular]`), and
 * nesting deeper than 20 levels is dropped (`[too deep]`). Callers must not mutate the result.
 */
export function redactSecretsDeep<T>(
  value: T,
  redact: (text: string) => string = knownSecretRedactor(),
  options: RedactDeepOptions | ((error: Error) => object) = {},
): T {
  const { toPlainError = plainError, censorField } = typeof options === 'function' ? { toPlainError: options } : options;
  return scrub(value, { redact, toPlainError, censorField, path: [] }, 0) as T;
}

function plainError(error: Error): object {
  // An error that says how it serializes (a TroupeError) keeps that shape.
  if (typeof (error as { toJSON?: unknown }).toJSON === 'function') return (error as unknown as { toJSON(): object }).toJSON();
  const out: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  for (const [key, inner] of Object.entries(error)) if (!(key in out)) out[key] = inner;
  if (error.cause !== undefined) out['cause'] = error.cause;
  return out;
}

interface Walk {
  redact: (text: string) => string;
  toPlainError: (error: Error) => object;
  censorField: ((name: string) => boolean) | undefined;
  /** The objects from the root down to the one being walked, to cut cycles (an array: paths are short, and a Set per call cost more than the walk). */
  path: object[];
}

function scrub(value: unknown, walk: Walk, depth: number): unknown {
  if (typeof value === 'string') return walk.redact(value);
  if (!value || typeof value !== 'object') return value;
  if (walk.path.includes(value)) return '[circular]';
  if (depth > 20) return '[too deep]';
  walk.path.push(value);
  try {
    if (Array.isArray(value)) return scrubArray(value, walk, depth);
    const plain =
      value instanceof Error
        ? walk.toPlainError(value)
        : typeof (value as { toJSON?: unknown }).toJSON === 'function'
          ? (value as { toJSON(): unknown }).toJSON()
          : value;
    // What an error or a toJSON gave is a new value: scrubbed as one level further down.
    if (plain !== value) return scrub(plain, walk, depth + 1);
    return scrubObject(value as Record<string, unknown>, walk, depth);
  } finally {
    walk.path.pop();
  }
}

function scrubArray(value: readonly unknown[], walk: Walk, depth: number): unknown[] {
  let out: unknown[] | undefined;
  for (let index = 0; index < value.length; index++) {
    const item = value[index];
    const clean = scrub(item, walk, depth + 1);
    if (clean !== item && !out) out = value.slice(0, index);
    out?.push(clean);
  }
  return out ?? (value as unknown[]);
}

function scrubObject(value: Record<string, unknown>, walk: Walk, depth: number): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const inner = value[key];
    const cleanKey = walk.redact(key);
    const clean = inner !== undefined && inner !== null && walk.censorField?.(key) ? redactedText : scrub(inner, walk, depth + 1);
    if (!out && (clean !== inner || cleanKey !== key)) out = copyUntil(value, key);
    if (out) out[cleanKey] = clean;
  }
  return out ?? value;
}

/** The own fields of `value` that come before `stop`, for a copy started where the first change is. */
function copyUntil(value: Record<string, unknown>, stop: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (key === stop) break;
    if (Object.hasOwn(value, key)) out[key] = value[key];
  }
  return out;
}
