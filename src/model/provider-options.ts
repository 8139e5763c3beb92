import type { RetryOptions } from './with-retry.js';

/** The max output tokens of a request that does not say, for every HTTP provider. */
export const defaultMaxOutputTokens = 4096;

/** What every HTTP provider takes. Unset values come from the provider's variables in `env`. */
export interface ProviderOptions {
  /** The model name as the provider spells it, e.g. `claude-sonnet-5-5`, `gpt-5.4`, `llama3.2` on Ollama. */
  model: string;
  /** Defaults to the provider's key variable (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`). */
  apiKey?: string;
  /** Defaults to the provider's base-URL variable (`ANTHROPIC_BASE_URL`, `OPENAI_BASE_URL`), then its public API. */
  baseURL?: string;
  /** Bounds each HTTP call, body included (default 120000). */
  timeoutMs?: number;
  /** Used when the request does not say (default `defaultMaxOutputTokens`, 4096). */
  maxOutputTokens?: number;
  /**
   * Retries of failed calls (`withRetry`'s options), or `false` for none. Model strings retry by
   * default; a provider built with `new` retries only when given this.
   */
  retry?: RetryOptions | false;
  /** Where the variables above are read (default `process.env`). */
  env?: Record<string, string | undefined>;
}
