import { AbortedError } from '../core/errors/aborted-error.js';
import { knownSecretRedactor } from '../observe/redact-secrets.js';
import {
  ProviderAuthError,
  ProviderRateLimitError,
  ProviderRequestError,
  ProviderResponseError,
  ProviderTimeoutError,
  ProviderUnavailableError,
  type ProviderError,
} from './errors/provider-error.js';

/**
 * A vendor SDK failure, described without the SDK's classes. Each provider file turns its own
 * SDK's errors into one of these (so this module imports no vendor SDK), and `toProviderError`
 * turns it into Troupe's typed errors the same way for every provider.
 */
export type Failure =
  | { kind: 'status'; status: number; headers?: Headers | undefined; vendorMessage?: string | undefined }
  | { kind: 'timeout'; cause?: unknown }
  | { kind: 'connection'; detail?: string | undefined; cause?: unknown };

/** What a provider is called and how it is configured, for messages that say what to do. */
export interface ProviderContext {
  /** Prefix of the model id: `anthropic`, `openai`. */
  provider: string;
  /** The environment variable that holds this provider's key, named in auth errors. */
  keyVariable: string;
  timeoutMs: number;
  /** Cuts secrets (the key in use, key-shaped strings) out of vendor text before it goes into a message. */
  redact: (text: string) => string;
}

export function toProviderError(failure: Failure, context: ProviderContext): ProviderError {
  const { provider } = context;
  if (failure.kind === 'timeout') return new ProviderTimeoutError(provider, context.timeoutMs, withCause(failure.cause));
  if (failure.kind === 'connection') {
    const detail = failure.detail ? context.redact(failure.detail) : 'the connection failed';
    return new ProviderUnavailableError(provider, detail, undefined, withCause(failure.cause));
  }

  // The SDK's error is not kept as the cause: its message quotes the vendor's text unredacted, and
  // a vendor's auth message can echo part of the key ("Incorrect API key provided: sk-ab***").
  const { status } = failure;
  if (status === 401 || status === 403) return new ProviderAuthError(provider, context.keyVariable, { status });

  const vendorMessage = failure.vendorMessage ? context.redact(failure.vendorMessage) : `HTTP ${status}`;
  const options = { status, details: { vendorMessage } };
  const retryAfterMs = parseRetryAfter(failure.headers);
  if (status === 429) return new ProviderRateLimitError(provider, vendorMessage, retryAfterMs, options);
  if (status === 408) return new ProviderTimeoutError(provider, context.timeoutMs, options);
  // 529 is Anthropic's "overloaded"; it is within 5xx anyway.
  if (status >= 500) return new ProviderUnavailableError(provider, vendorMessage, retryAfterMs, options);
  return new ProviderRequestError(provider, vendorMessage, options);
}

/** The caller's signal fired: not a provider failure, and never retried. `modelId` is `provider:model`. */
export function abortedCall(modelId: string, signal: AbortSignal): AbortedError {
  return new AbortedError(`The call to model "${modelId}"`, { cause: signal.reason });
}

/**
 * A 2xx answer whose body is not the documented JSON. The body is kept for diagnosis, scrubbed of
 * known secrets first: a proxy's page can echo the request, key included, and the error is logged
 * and stored.
 */
export function unreadableResponse(
  provider: string,
  problem: string,
  rawBody: string,
  status: number,
  redact: (text: string) => string = knownSecretRedactor(),
): ProviderResponseError {
  return new ProviderResponseError(provider, redact(problem), redact(rawBody), { status });
}

/**
 * Milliseconds to wait, from `retry-after-ms` (a number of milliseconds, sent by OpenAI and
 * Anthropic) or `retry-after` (seconds, or an HTTP date). Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: Headers | undefined, now: () => number = Date.now): number | undefined {
  if (!headers) return undefined;
  const milliseconds = headers.get('retry-after-ms');
  if (milliseconds !== null) {
    const value = Number.parseFloat(milliseconds);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  const retryAfter = headers.get('retry-after');
  if (retryAfter === null || retryAfter.trim() === '') return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const date = Date.parse(retryAfter);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now());
}

/** A per-call deadline and the caller's signal, as one signal for the SDK. */
export interface CallSignal {
  signal: AbortSignal;
  timedOut(): boolean;
  dispose(): void;
}

/**
 * The SDKs time out only until the response headers arrive; this deadline also covers reading
 * the body, so `timeoutMs` bounds the whole call.
 */
export function callSignal(timeoutMs: number, caller?: AbortSignal): CallSignal {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const onAbort = () => controller.abort(caller?.reason);
  if (caller?.aborted) onAbort();
  else caller?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose() {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    },
  };
}

/** Reads a JSON body; undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Tool arguments as the model sent them. A JSON object is the input; anything else (broken JSON,
 * an array, a bare string) becomes `invalidInput`, so the tool layer can tell the model what was
 * wrong instead of the run crashing.
 */
export function readToolInput(value: unknown): { input: unknown; invalidInput?: { raw: string; error: string } } {
  if (isRecord(value)) return { input: value };
  const raw = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  if (typeof value === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value) as unknown;
    } catch (error) {
      return { input: undefined, invalidInput: { raw, error: `The arguments are not valid JSON: ${(error as Error).message}` } };
    }
    if (isRecord(parsed)) return { input: parsed };
  }
  return { input: undefined, invalidInput: { raw, error: 'The arguments must be a JSON object.' } };
}

function withCause(cause: unknown): { cause?: unknown } {
  return cause === undefined ? {} : { cause };
}

/**
 * One HTTP call through a vendor SDK, bounded by `timeoutMs` and the caller's signal. The body is
 * read here as text, so that a response that cannot be parsed is kept whole for the error.
 */
export async function sendForRawBody(
  send: (signal: AbortSignal) => { asResponse(): Promise<Response> },
  timeoutMs: number,
  caller: AbortSignal | undefined,
  failure: (error: unknown, call: CallSignal, readingBody: boolean) => Error,
): Promise<{ raw: string; status: number }> {
  const call = callSignal(timeoutMs, caller);
  try {
    let response: Response;
    try {
      response = await send(call.signal).asResponse();
    } catch (error) {
      throw failure(error, call, false);
    }
    try {
      return { raw: await response.text(), status: response.status };
    } catch (error) {
      throw failure(error, call, true);
    }
  } finally {
    call.dispose();
  }
}
