import { TroupeError, type TroupeErrorOptions } from '../../core/errors/troupe-error.js';

export interface ProviderErrorOptions extends TroupeErrorOptions {
  /** HTTP status, when the failure came with one. */
  status?: number;
}

/** A model provider failed. `provider` is the prefix of the model id (`anthropic`, `openai`, ...). */
export abstract class ProviderError extends TroupeError {
  readonly fault: 'provider' | 'configuration' = 'provider';
  readonly provider: string;
  readonly status: number | undefined;

  constructor(provider: string, message: string, options: ProviderErrorOptions = {}) {
    super(message, { ...options, details: { provider, status: options.status, ...options.details } });
    this.provider = provider;
    this.status = options.status;
  }
}

/** 401/403: the key is missing, wrong or not allowed. Never retried; the message names the variable to set. */
export class ProviderAuthError extends ProviderError {
  readonly code = 'provider_auth_failed';
  override readonly fault = 'configuration' as const;
  readonly variable: string;

  constructor(provider: string, variable: string, options: ProviderErrorOptions = {}) {
    const problem = options.status === undefined ? `no API key is set for ${provider}` : `${provider} rejected the credentials (HTTP ${options.status})`;
    super(provider, `${problem}. Set ${variable} to a valid API key for this provider.`, {
      ...options,
      details: { variable, ...options.details },
    });
    this.variable = variable;
  }
}

/** 429: too many requests. Retried after `retryAfterMs` when the provider said how long to wait. */
export class ProviderRateLimitError extends ProviderError {
  readonly code = 'provider_rate_limited';
  override readonly retryable = true;
  readonly retryAfterMs: number | undefined;

  constructor(provider: string, message: string, retryAfterMs?: number, options: ProviderErrorOptions = {}) {
    super(provider, `${provider} is rate limiting requests: ${message}`, {
      ...options,
      details: { retryAfterMs, ...options.details },
    });
    this.retryAfterMs = retryAfterMs;
  }
}

/** 5xx or a dropped connection: the provider is failing. Retried with backoff. */
export class ProviderUnavailableError extends ProviderError {
  readonly code = 'provider_unavailable';
  override readonly retryable = true;
  readonly retryAfterMs: number | undefined;

  constructor(provider: string, message: string, retryAfterMs?: number, options: ProviderErrorOptions = {}) {
    super(provider, `${provider} is unavailable: ${message}`, { ...options, details: { retryAfterMs, ...options.details } });
    this.retryAfterMs = retryAfterMs;
  }
}

/** No answer within the timeout. Retried with backoff. */
export class ProviderTimeoutError extends ProviderError {
  readonly code = 'provider_timeout';
  override readonly retryable = true;
  readonly timeoutMs: number | undefined;

  constructor(provider: string, timeoutMs?: number, options: ProviderErrorOptions = {}) {
    super(provider, `${provider} did not answer within ${timeoutMs ?? 'the configured'} ms.`, {
      ...options,
      details: { timeoutMs, ...options.details },
    });
    this.timeoutMs = timeoutMs;
  }
}

/** Another 4xx: the request itself is wrong (bad model name, too long, bad schema). Not retried. */
export class ProviderRequestError extends ProviderError {
  readonly code = 'provider_request_rejected';

  constructor(provider: string, message: string, options: ProviderErrorOptions = {}) {
    super(provider, `${provider} rejected the request: ${message}`, options);
  }
}

/** The provider answered with something that is not the documented shape. Holds the raw body for diagnosis. */
export class ProviderResponseError extends ProviderError {
  readonly code = 'provider_response_invalid';
  readonly rawBody: string;

  constructor(provider: string, problem: string, rawBody: string, options: ProviderErrorOptions = {}) {
    super(provider, `${provider} sent a response that could not be read: ${problem}`, {
      ...options,
      details: { rawBody: rawBody.slice(0, 2000), ...options.details },
    });
    this.rawBody = rawBody;
  }
}
