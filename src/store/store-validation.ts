import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { JsonValue } from '../core/json.js';
import { jsonHoldsSecret, knownSecretRedactor, redactSecretsDeep } from '../observe/redact-secrets.js';
import { NotJsonError } from './errors/not-json-error.js';
import type { AppendOptions, PutOptions } from './state-store.js';

// Names become file names (file store) and key parts (Redis store): no separators of either
// (`/`, `\`, `:`), no leading dot (hidden and temporary files), ASCII only so that id order is
// the same byte order in both stores. 100 characters leave room for the file store's encoding.
const namePattern = /^[A-Za-z0-9_@+=-][A-Za-z0-9_.@+=-]{0,99}$/;

export type NameKind = 'collection' | 'id' | 'stream';

/** Throws `ConfigurationError` naming the bad name when it cannot be used as a store name. */
export function validateName(kind: NameKind, name: unknown): string {
  if (typeof name !== 'string' || !namePattern.test(name) || name.includes('..')) {
    const shown = typeof name === 'string' ? JSON.stringify(name) : String(name);
    throw new ConfigurationError(
      `${kind} name ${shown} is not a valid store name: use 1–100 characters of A-Z a-z 0-9 _ . - @ + =, not starting with "." and without "..".`,
      { field: kind },
    );
  }
  return name;
}

export function validatePositiveLimit(what: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigurationError(`${what} must be a positive integer, got ${String(value)}.`, { field: what });
  return value;
}

/** An idempotency key of a stream entry: 1–300 characters. */
export function validateEntryKey(key: unknown): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.length === 0 || key.length > 300)
    throw new ConfigurationError(
      `an entry key must be a string of 1–300 characters, got ${typeof key === 'string' ? `${key.length} characters` : String(key)}.`,
      { field: 'key' },
    );
  return key;
}

export function validateVersion(what: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
    throw new ConfigurationError(`${what} must be a whole number >= 0, got ${String(value)}.`, { field: what });
}

/**
 * Serializes a value after checking that it is JSON all the way down, so that what is read back
 * equals what was written (JSON.stringify would silently drop `undefined` and functions, turn
 * `NaN` into null and a Date into a string) — except for secrets: every document and entry of
 * every store passes here, so this is where a key a model echoed, or a provider's error quoting
 * it, is replaced by `[redacted]` before it is persisted. Text without a secret is written as is
 * (one scan of the serialized text); only text with one is serialized again, scrubbed.
 */
export function toJsonText(what: string, value: unknown): string {
  // The common case, JSON all the way down, is checked without building a path per property;
  // only a value that fails is walked again to say where.
  if (!isJson(value, new Set())) assertJson(what, value, '$', new Set());
  const text = JSON.stringify(value as JsonValue);
  const redact = knownSecretRedactor();
  if (!jsonHoldsSecret(text, redact)) return text;
  return JSON.stringify(redactSecretsDeep(value as JsonValue, redact));
}

function isJson(value: unknown, ancestors: Set<object>): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || ancestors.has(value)) return false;
  ancestors.add(value);
  if (Array.isArray(value)) {
    for (const item of value) if (!isJson(item, ancestors)) return false;
  } else {
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null) return false;
    for (const key in value) if (Object.hasOwn(value, key) && !isJson((value as Record<string, unknown>)[key], ancestors)) return false;
  }
  ancestors.delete(value);
  return true;
}

function assertJson(what: string, value: unknown, path: string, ancestors: Set<object>): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new NotJsonError(what, path, `${String(value)} is not a finite number`);
    return;
  }
  if (value === undefined) throw new NotJsonError(what, path, 'undefined is not a JSON value (leave the property out instead)');
  if (typeof value !== 'object') throw new NotJsonError(what, path, `a ${typeof value} is not a JSON value`);
  if (ancestors.has(value)) throw new NotJsonError(what, path, 'the value refers to itself (a cycle)');
  ancestors.add(value);
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) assertJson(what, item, `${path}[${index}]`, ancestors);
  } else {
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'class';
      throw new NotJsonError(what, path, `a ${name} instance is not a plain object`);
    }
    for (const [key, inner] of Object.entries(value)) assertJson(what, inner, `${path}.${key}`, ancestors);
  }
  ancestors.delete(value);
}

/** Parses stored JSON text; `onError` turns a parse failure into the caller's error. */
export function parseJsonText<T>(text: string, onError: (problem: string) => Error): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw onError(error instanceof Error ? error.message : String(error));
  }
}

/** A put's value and options, checked as every store takes them (names are each store's to check): the text to store. */
export function checkPut(collection: string, id: string, value: unknown, options: PutOptions): { text: string; ttlMs: number | undefined } {
  const text = toJsonText(`The value of "${collection}/${id}"`, value);
  validateVersion('expectedVersion', options.expectedVersion);
  return { text, ttlMs: options.ttlMs === undefined ? undefined : validatePositiveLimit('ttlMs', options.ttlMs, 1) };
}

/** An append's entry and options, checked as every store takes them (the stream's name is each store's to check). */
export function checkAppend(stream: string, entry: unknown, options: AppendOptions): { text: string; key: string | undefined; keepLast: number | undefined } {
  const text = toJsonText(`The entry appended to stream "${stream}"`, entry);
  const key = validateEntryKey(options.key);
  return { text, key, keepLast: options.keepLast === undefined ? undefined : validatePositiveLimit('keepLast', options.keepLast, 1) };
}
