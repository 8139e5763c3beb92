import { describe, expect, it } from 'vitest';
import { AbortedError } from '../../src/core/errors/aborted-error.js';
import {
  ProviderAuthError,
  ProviderRateLimitError,
  ProviderRequestError,
  ProviderTimeoutError,
  ProviderUnavailableError,
} from '../../src/model/errors/provider-error.js';
import type { ModelClient, ModelRequest, ModelResponse, RetryNotice } from '../../src/model/model-client.js';
import { retryDelay, withRetry } from '../../src/model/with-retry.js';

const request: ModelRequest = { messages: [{ role: 'user', content: 'hi' }] };
const answer: ModelResponse = {
  content: [{ type: 'text', text: 'hello' }],
  stopReason: 'end-turn',
  usage: { inputTokens: 1, outputTokens: 1 },
  model: 'flaky',
};

/** A model that fails with the given errors, in order, then answers. */
function failingModel(...failures: Error[]) {
  let calls = 0;
  const client: ModelClient & { readonly calls: number } = {
    id: 'test:flaky',
    get calls() {
      return calls;
    },
    async generate() {
      const failure = failures[calls++];
      if (failure) throw failure;
      return answer;
    },
  };
  return client;
}

function recordingSleep() {
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };
  return { waits, sleep };
}

const unavailable = () => new ProviderUnavailableError('test', 'HTTP 503');

describe('withRetry', () => {
  it('keeps the inner id and passes a success straight through', async () => {
    const inner = failingModel();
    const model = withRetry(inner);
    expect(model.id).toBe('test:flaky');
    await expect(model.generate(request)).resolves.toEqual(answer);
    expect(inner.calls).toBe(1);
  });

  it('retries retryable errors with a backoff that doubles each time', async () => {
    const inner = failingModel(unavailable(), new ProviderTimeoutError('test', 100), unavailable());
    const { waits, sleep } = recordingSleep();
    const model = withRetry(inner, { random: () => 0.5, sleep });
    await expect(model.generate(request)).resolves.toEqual(answer);
    expect(inner.calls).toBe(4);
    expect(waits).toEqual([250, 500, 1000]);
  });

  it('reports each retry through onRetry before waiting', async () => {
    const first = unavailable();
    const second = new ProviderRateLimitError('test', 'slow down', 700);
    const inner = failingModel(first, second);
    const { waits, sleep } = recordingSleep();
    const notices: RetryNotice[] = [];
    const model = withRetry(inner, { random: () => 0.5, sleep });
    await model.generate(request, {
      onRetry: (notice) => {
        notices.push(notice);
        // The notice comes before the wait it announces.
        expect(waits).toHaveLength(notices.length - 1);
      },
    });
    expect(notices).toEqual([
      { attempt: 1, delayMs: 250, error: first },
      { attempt: 2, delayMs: 700, error: second },
    ]);
    expect(notices[1]?.error.code).toBe('provider_rate_limited');
  });

  it('keeps full jitter within [0, min(maxDelayMs, baseDelayMs * 2^(retry-1)))', async () => {
    const failures = Array.from({ length: 8 }, unavailable);
    const { waits, sleep } = recordingSleep();
    const model = withRetry(failingModel(...failures), { maxRetries: 8, baseDelayMs: 100, maxDelayMs: 3000, sleep });
    await model.generate(request);
    expect(waits).toHaveLength(8);
    waits.forEach((wait, index) => {
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThan(Math.min(3000, 100 * 2 ** index));
    });
    // The extremes of the random source land on the bounds.
    const bounds = { baseDelayMs: 100, maxDelayMs: 3000 };
    expect(retryDelay(unavailable(), 3, { ...bounds, random: () => 0 })).toBe(0);
    expect(retryDelay(unavailable(), 3, { ...bounds, random: () => 0.9999 })).toBe(399);
    expect(retryDelay(unavailable(), 10, { ...bounds, random: () => 0.9999 })).toBe(2999);
  });

  it('waits as long as the provider asked (retry-after), capped at maxDelayMs', async () => {
    const inner = failingModel(new ProviderRateLimitError('test', 'slow down', 2000), new ProviderRateLimitError('test', 'slow down', 90_000));
    const { waits, sleep } = recordingSleep();
    const model = withRetry(inner, { random: () => 0, sleep, maxDelayMs: 30_000 });
    await model.generate(request);
    expect(waits).toEqual([2000, 30_000]);
  });

  it('throws the last error once maxRetries is spent', async () => {
    const last = new ProviderUnavailableError('test', 'still down');
    const inner = failingModel(unavailable(), unavailable(), last);
    const { waits, sleep } = recordingSleep();
    const model = withRetry(inner, { maxRetries: 2, sleep });
    const error = await model.generate(request).catch((caught: unknown) => caught);
    expect(error).toBe(last);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toBe('test is unavailable: still down');
    expect(inner.calls).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('does not retry when maxRetries is 0', async () => {
    const inner = failingModel(unavailable());
    const model = withRetry(inner, { maxRetries: 0 });
    await expect(model.generate(request)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(inner.calls).toBe(1);
  });

  it.each([
    ['auth', new ProviderAuthError('test', 'TEST_API_KEY', { status: 401 }), /Set TEST_API_KEY/],
    ['a rejected request', new ProviderRequestError('test', 'bad schema', { status: 400 }), /test rejected the request: bad schema/],
    ['a plain Error', new TypeError('bug'), /bug/],
  ])('throws %s at once, without retrying', async (_, failure, message) => {
    const inner = failingModel(failure);
    const { waits, sleep } = recordingSleep();
    const notices: RetryNotice[] = [];
    const model = withRetry(inner, { sleep });
    const error = await model.generate(request, { onRetry: (notice) => notices.push(notice) }).catch((caught: unknown) => caught);
    expect(error).toBe(failure);
    expect((error as Error).message).toMatch(message);
    expect(inner.calls).toBe(1);
    expect(waits).toEqual([]);
    expect(notices).toEqual([]);
  });

  it('stops waiting when the call is aborted', async () => {
    const inner = failingModel(unavailable(), unavailable());
    const controller = new AbortController();
    // The real sleep, with a wait far longer than the test.
    const model = withRetry(inner, { baseDelayMs: 60_000, random: () => 0.5 });
    const started = Date.now();
    const pending = model.generate(request, { signal: controller.signal, onRetry: () => setTimeout(() => controller.abort(), 10) });
    const error = await pending.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).message).toBe('The call to model "test:flaky" was aborted by its caller.');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(inner.calls).toBe(1);
  });

  it('does not call the model when the signal is already aborted', async () => {
    const inner = failingModel();
    const controller = new AbortController();
    controller.abort();
    await expect(withRetry(inner).generate(request, { signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(inner.calls).toBe(0);
  });

  it('retries errors from other clients that mark themselves retryable', async () => {
    const custom = Object.assign(new Error('busy'), { retryable: true, retryAfterMs: 5 });
    const inner = failingModel(custom);
    const { waits, sleep } = recordingSleep();
    await withRetry(inner, { sleep }).generate(request);
    expect(waits).toEqual([5]);
  });
});
