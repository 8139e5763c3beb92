import type { ModelCallOptions, ModelClient, ModelRequest, ModelResponse } from './model-client.js';
import { abortedCall } from './provider-failure.js';

export interface RetryOptions {
  /** Retries after the first attempt (default 3); 0 turns retrying off. */
  maxRetries?: number;
  /** The backoff ceiling of the first retry; it doubles with each retry (default 500). */
  baseDelayMs?: number;
  /** No wait is longer than this, including one the provider asked for (default 30000). */
  maxDelayMs?: number;
  /** A number in [0, 1); injected so tests can pin the jitter. */
  random?: () => number;
  /** Waits `ms`, rejecting when `signal` aborts; injected so tests do not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Wraps a model so that failures which may pass (rate limits, outages, timeouts: errors whose
 * `retryable` is true) are retried with exponential backoff and full jitter, or after the wait the
 * provider asked for. Retrying here rather than inside the vendor SDKs means every retry is
 * reported through `onRetry`, so traces show it. Other errors are thrown at once. Aborting the
 * call's signal stops the waiting and throws `AbortedError`. A streamed call that fails after
 * delivering deltas is retried too (a dropped stream is the failure most worth retrying); the
 * notice's `discardsDeltas` tells consumers to drop what they showed of it.
 */
export function withRetry(client: ModelClient, options: RetryOptions = {}): ModelClient {
  const maxRetries = Math.max(0, options.maxRetries ?? 3);
  const baseDelayMs = Math.max(0, options.baseDelayMs ?? 500);
  const maxDelayMs = Math.max(0, options.maxDelayMs ?? 30_000);
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;

  async function generate(request: ModelRequest, callOptions: ModelCallOptions = {}): Promise<ModelResponse> {
    const { signal, onDelta } = callOptions;
    for (let retry = 0; ; retry++) {
      if (signal?.aborted) throw abortedCall(client.id, signal);
      // Deltas of a failed attempt are void: the notice says so, and the next attempt streams from the start.
      let delivered = false;
      const attemptOptions: ModelCallOptions = onDelta
        ? {
            ...callOptions,
            onDelta: (delta) => {
              delivered = true;
              onDelta(delta);
            },
          }
        : callOptions;
      try {
        return await client.generate(request, attemptOptions);
      } catch (error) {
        if (!isRetryable(error) || retry >= maxRetries) throw error;
        if (signal?.aborted) throw abortedCall(client.id, signal);
        const delayMs = retryDelay(error, retry + 1, { baseDelayMs, maxDelayMs, random });
        // `attempt` counts retries from 1: the first retry is attempt 1.
        callOptions.onRetry?.({ attempt: retry + 1, delayMs, error, ...(delivered ? { discardsDeltas: true } : {}) });
        try {
          await sleep(delayMs, signal);
        } catch (sleepError) {
          if (signal?.aborted) throw abortedCall(client.id, signal);
          throw sleepError;
        }
      }
    }
  }

  return { id: client.id, generate };
}

/**
 * The wait before retry number `retry` (from 1): the provider's `retryAfterMs` when it gave one,
 * else a random time up to `baseDelayMs * 2^(retry-1)` ("full jitter", so clients that failed
 * together do not retry together). Both are capped at `maxDelayMs`.
 */
export function retryDelay(error: unknown, retry: number, options: { baseDelayMs: number; maxDelayMs: number; random: () => number }): number {
  const asked = (error as { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof asked === 'number' && Number.isFinite(asked) && asked >= 0) return Math.min(asked, options.maxDelayMs);
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(options.random() * ceiling);
}

type RetryableError = Error & { code?: string; retryable: true };

// Duck-typed rather than `instanceof TroupeError`, so a user's own ModelClient can opt in.
function isRetryable(error: unknown): error is RetryableError {
  return error instanceof Error && (error as { retryable?: unknown }).retryable === true;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
