export {
  ProviderError,
  ProviderAuthError,
  ProviderRateLimitError,
  ProviderUnavailableError,
  ProviderTimeoutError,
  ProviderRequestError,
  ProviderResponseError,
  type ProviderErrorOptions,
} from './provider-error.js';
export { ReplayMissError } from './replay-miss-error.js';
