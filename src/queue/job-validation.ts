import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { JsonValue } from '../core/json.js';
import { secretRedactor, type Environment } from '../observe/redact-secrets.js';
import type { AddJobOptions, JobBackoff } from './job-queue.js';
import { InvalidJobIdError, JobDataRejectedError } from './queue-errors.js';

/** BullMQ's highest priority number; the in-process queue keeps the same range. */
export const maxPriority = 2_097_152;
export const defaultGraceMs = 10_000;
export const defaultIdleTimeoutMs = 30_000;

/** Throws `InvalidJobIdError` unless BullMQ would accept `id` as a custom job id. */
export function validateJobId(id: string): void {
  if (typeof id !== 'string' || id.length === 0) throw new InvalidJobIdError(String(id), 'it is empty');
  if (id.includes(':')) throw new InvalidJobIdError(id, "it contains ':', which separates the parts of Redis keys");
  if (/^\d+$/.test(id)) throw new InvalidJobIdError(id, 'it is all digits, like the ids BullMQ makes itself');
}

/** Checks the options of `add` and fills nothing in: each queue applies its own defaults. */
export function validateAddOptions(options: AddJobOptions): void {
  if (options.jobId !== undefined) validateJobId(options.jobId);
  const field = (name: string, message: string) => new ConfigurationError(message, { field: name });
  if (options.delayMs !== undefined && !(Number.isFinite(options.delayMs) && options.delayMs >= 0)) {
    throw field('delayMs', `must be a number of milliseconds >= 0, got ${options.delayMs}`);
  }
  if (options.attempts !== undefined && !(Number.isInteger(options.attempts) && options.attempts >= 1)) {
    throw field('attempts', `must be a whole number >= 1, got ${options.attempts}`);
  }
  if (options.backoff !== undefined) {
    const { type, delayMs } = options.backoff;
    if (type !== 'fixed' && type !== 'exponential') throw field('backoff.type', `must be "fixed" or "exponential", got "${String(type)}"`);
    if (!(Number.isFinite(delayMs) && delayMs >= 0)) throw field('backoff.delayMs', `must be a number of milliseconds >= 0, got ${delayMs}`);
  }
  if (options.priority !== undefined && !(Number.isInteger(options.priority) && options.priority >= 0 && options.priority <= maxPriority)) {
    throw field('priority', `must be a whole number from 0 to ${maxPriority}, got ${options.priority}`);
  }
}

/** The wait before the next run after `attemptsMade` failed runs, with BullMQ's formulas. */
export function backoffDelay(backoff: JobBackoff | undefined, attemptsMade: number): number {
  if (!backoff) return 0;
  if (backoff.type === 'fixed') return backoff.delayMs;
  return Math.round(2 ** Math.max(0, attemptsMade - 1) * backoff.delayMs);
}

// Keys whose value is a credential, compared with case and separators removed (`api_key`,
// `API-Key` and `apiKey` are one name). Matching the end of the key as well catches
// `openaiApiKey` or `dbPassword`; plural `tokens` (token counts, everywhere in LLM data) and
// pagination cursors such as `nextPageToken` are not credentials and pass.
const secretKeys = new Set(['auth', 'authorization', 'cookie', 'setcookie', 'credential', 'credentials', 'pwd']);
const secretKeyEndings = ['apikey', 'apitoken', 'password', 'passwd', 'secret', 'secretkey', 'privatekey', 'accesskey', 'token'];
const notSecretEndings = ['pagetoken', 'continuationtoken', 'cursortoken'];

/** Property names already judged: job data repeats the same few names for every job. Bounded, so odd data cannot grow it. */
const secretKeyVerdicts = new Map<string, boolean>();

/** Whether a property name says its value is a credential (`apiKey`, `password`, `token`, ...). */
export function isSecretKey(key: string): boolean {
  let verdict = secretKeyVerdicts.get(key);
  if (verdict === undefined) {
    verdict = judgeKey(key);
    if (secretKeyVerdicts.size < 1024) secretKeyVerdicts.set(key, verdict);
  }
  return verdict;
}

function judgeKey(key: string): boolean {
  const plain = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (secretKeys.has(plain)) return true;
  if (notSecretEndings.some((ending) => plain.endsWith(ending))) return false;
  return secretKeyEndings.some((ending) => plain.endsWith(ending));
}

/**
 * Returns a checker for job data: plain JSON, no secret-looking keys, and no string that holds
 * the value of a secret environment variable or looks like a provider key (`sk-...`). The
 * environment is read once, when the checker is made.
 */
export function jobDataChecker(env: Environment = process.env): (jobName: string, data: unknown) => void {
  const redact = secretRedactor(env);
  return (jobName, data) => {
    const seen = new Set<object>();
    const visit = (value: unknown, path: string): void => {
      const refuse = (problem: 'not-json' | 'secret', reason: string) => new JobDataRejectedError(jobName, problem, path, reason);
      if (value === null || typeof value === 'boolean') return;
      if (typeof value === 'string') {
        if (redact(value) !== value) throw refuse('secret', 'the text holds a credential (an API key or the value of a secret environment variable)');
        return;
      }
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) throw refuse('not-json', `${value} is not a JSON number`);
        return;
      }
      if (typeof value !== 'object') throw refuse('not-json', `a ${typeof value} is not JSON`);
      if (seen.has(value)) throw refuse('not-json', 'the value refers to itself');
      seen.add(value);
      if (Array.isArray(value)) {
        value.forEach((item, index) => {
          if (item === undefined) throw new JobDataRejectedError(jobName, 'not-json', `${path}[${index}]`, 'undefined is not JSON');
          visit(item, `${path}[${index}]`);
        });
      } else {
        const proto = Object.getPrototypeOf(value) as unknown;
        if (proto !== Object.prototype && proto !== null) {
          throw refuse('not-json', `a ${(value as object).constructor?.name ?? 'class instance'} is not a plain JSON object`);
        }
        for (const [key, inner] of Object.entries(value)) {
          const at = `${path}.${key}`;
          if (isSecretKey(key)) throw new JobDataRejectedError(jobName, 'secret', at, `the key "${key}" names a credential`);
          // An undefined property is dropped by JSON, as it would be by any JSON store.
          if (inner !== undefined) visit(inner, at);
        }
      }
      seen.delete(value);
    };
    if (data === undefined) throw new JobDataRejectedError(jobName, 'not-json', '$', 'undefined is not JSON');
    visit(data, '$');
  };
}

/** A JSON copy, so a queued job never shares objects with the caller who added it. */
export function copyJson(data: JsonValue): JsonValue {
  return JSON.parse(JSON.stringify(data)) as JsonValue;
}

export function validateConcurrency(concurrency: number): void {
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new ConfigurationError(`must be a whole number >= 1, got ${concurrency}`, { field: 'concurrency' });
  }
}

/** Resolves after `ms`, or at once when the signal aborts; the timer never outlives it. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Whether `promise` settles within `ms` (it is left running either way). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const stop = new AbortController();
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, sleep(ms, stop.signal).then(() => false)]);
  stop.abort();
  return result;
}
