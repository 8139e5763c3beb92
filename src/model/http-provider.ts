import { registerSecret, secretRedactor } from '../observe/redact-secrets.js';
import { ProviderAuthError, type ProviderResponseError } from './errors/provider-error.js';
import type { ModelCallOptions, ModelClient, ModelDelta, ModelRequest, ModelResponse } from './model-client.js';
import {
  abortedCall,
  callSignal,
  isRecord,
  parseJson,
  sendForRawBody,
  toProviderError,
  unreadableResponse,
  type CallSignal,
  type Failure,
  type ProviderContext,
} from './provider-failure.js';
import { defaultMaxOutputTokens, type ProviderOptions } from './provider-options.js';
import { withRetry } from './with-retry.js';

type ErrorClass<Instance> = abstract new (...args: never[]) => Instance;

/** The error classes both vendor SDKs export under these names (both are generated from one template). */
export interface SdkErrorClasses {
  APIError: ErrorClass<Error & { status: number | undefined; headers: Headers | undefined }>;
  APIConnectionError: ErrorClass<Error>;
  APIConnectionTimeoutError: ErrorClass<Error>;
}

/** A provider's configuration once options and environment are read, as the vendor mapping sees it. */
export interface HttpProviderSettings {
  model: string;
  /** The key to send; undefined when none is configured. */
  apiKey: string | undefined;
  /** From the options or the base-URL variable; undefined means the vendor's public API. */
  baseURL: string | undefined;
  timeoutMs: number;
  maxOutputTokens: number;
  env: Record<string, string | undefined>;
}

/** Makes the error for a 2xx body that is not the documented JSON; `problem` is a sentence. */
export type Unreadable = (problem: string) => ProviderResponseError;

/** What the SDK call is given besides the request: our deadline, and no retries of its own. */
export interface SendOptions {
  signal: AbortSignal;
  timeout: number;
  maxRetries: 0;
}

/**
 * Everything one vendor's file supplies; the rest of an HTTP provider (reading options and
 * environment, loading the SDK on first use, the key check, the bounded call, failures turned into
 * Troupe's errors) is `HttpProvider`'s and the same for every vendor.
 */
export interface VendorMapping<Sdk extends SdkErrorClasses, Client, Params> {
  /**
   * Prefix of the model id and the name in messages: `anthropic`, `openai`. It also names the
   * provider's variables, as the vendors' own SDKs do: `ANTHROPIC_API_KEY`, `OPENAI_BASE_URL`.
   */
  provider: string;
  /**
   * Imports the SDK. It runs at the first call, not at `import 'troupe'`: the SDKs are most of the
   * time that import would otherwise take, and many programs never call a given provider.
   */
  loadSdk(): Promise<Sdk>;
  /** The key sent when none is configured; undefined fails the call with `ProviderAuthError`. */
  fallbackKey?(settings: HttpProviderSettings): string | undefined;
  /**
   * The SDK client, built once per model with its own retries off (`withRetry` retries, so that
   * retries show in traces). Pass everything explicitly, so the SDK reads no `process.env` behind `env`.
   */
  createClient(sdk: Sdk, settings: HttpProviderSettings & { apiKey: string }): Client;
  /** Our request in the vendor's wire format. */
  toParams(request: ModelRequest, settings: HttpProviderSettings): Params;
  /** Starts the SDK call; the skeleton reads the body itself, so a broken one is kept whole for the error. */
  send(client: Client, params: Params, options: SendOptions): { asResponse(): Promise<Response> };
  /**
   * A 2xx body (already known to be a JSON object) as our response, checking the fields it uses
   * instead of trusting the SDK's types; a body that is not the documented JSON is thrown as
   * `unreadable(problem)`. The answering model is read from the body's `model` by the skeleton.
   */
  readResponse(body: Record<string, unknown>, request: ModelRequest, unreadable: Unreadable): Omit<ModelResponse, 'model'>;
  /** The vendor's own words in an error answer, before redaction. */
  vendorMessage(error: InstanceType<Sdk['APIError']>): string | undefined;
  /** The vendor's streaming API, used when a call asks for deltas (`onDelta`); without it such calls are made whole. */
  streaming?: StreamingMapping<Sdk, Client, Params>;
}

/** How one vendor streams: the SDK's streaming call, and its events folded back into a whole body. */
export interface StreamingMapping<Sdk extends SdkErrorClasses, Client, Params> {
  /** Starts the SDK's streaming call; it resolves once the headers are in, to the SDK's parsed events. */
  send(client: Client, params: Params, options: SendOptions): PromiseLike<AsyncIterable<unknown>>;
  /**
   * Folds the events into the body `readResponse` reads, so a streamed reply reads exactly as the
   * same reply sent whole, and calls `onDelta` as text arrives and tool calls begin.
   */
  assemble(request: ModelRequest, onDelta: (delta: ModelDelta) => void): StreamAssembly;
  /**
   * The HTTP status an error event sent in the middle of a stream stands for (the 200 went first,
   * so the SDK's error has none), read from the error's type, so it is typed as a status would be.
   */
  errorStatus(error: InstanceType<Sdk['APIError']>): number;
}

/** A reply being put together from stream events. */
export interface StreamAssembly {
  add(event: unknown): void;
  /** What is missing when the stream ended before the reply was whole (a sentence); undefined when it is whole. */
  incomplete(): string | undefined;
  /** The body put together so far, shaped as the vendor's whole response. */
  body(): Record<string, unknown>;
}

/**
 * A model behind a vendor's HTTP API, through the vendor's SDK. Makes one HTTP call per
 * `generate`, bounded by `timeoutMs` body included. A missing key fails at the first call, not at
 * construction, so naming a model that is never used costs nothing.
 */
export class HttpProvider<Sdk extends SdkErrorClasses, Client, Params> implements ModelClient {
  readonly id: string;
  readonly model: string;
  readonly #vendor: VendorMapping<Sdk, Client, Params>;
  /** Holds the key when none is given; named in auth errors. */
  readonly #keyVariable: string;
  readonly #settings: HttpProviderSettings;
  readonly #redact: (text: string) => string;
  #sdk: Sdk | undefined;
  #client: Client | undefined;
  /** Given `retry` options, calls go through `withRetry`; without them, one attempt per call. */
  readonly #retrying: ModelClient | undefined;

  constructor(vendor: VendorMapping<Sdk, Client, Params>, options: ProviderOptions) {
    const env = options.env ?? process.env;
    const variables = vendor.provider.toUpperCase();
    this.#vendor = vendor;
    this.#keyVariable = `${variables}_API_KEY`;
    this.model = options.model;
    this.id = `${vendor.provider}:${options.model}`;
    const apiKey = options.apiKey || env[this.#keyVariable] || undefined;
    this.#settings = {
      model: options.model,
      apiKey,
      baseURL: options.baseURL || env[`${variables}_BASE_URL`] || undefined,
      timeoutMs: options.timeoutMs ?? 120_000,
      maxOutputTokens: options.maxOutputTokens ?? defaultMaxOutputTokens,
      env,
    };
    // A key given in code is scrubbed everywhere (logs, stored runs), as one from the environment is.
    registerSecret(apiKey);
    this.#redact = secretRedactor({ ...env, [this.#keyVariable]: apiKey });
    const once: ModelClient = { id: this.id, generate: (request, callOptions) => this.#generateOnce(request, callOptions) };
    this.#retrying = options.retry ? withRetry(once, options.retry) : undefined;
  }

  generate(request: ModelRequest, options: ModelCallOptions = {}): Promise<ModelResponse> {
    return this.#retrying ? this.#retrying.generate(request, options) : this.#generateOnce(request, options);
  }

  async #generateOnce(request: ModelRequest, options: ModelCallOptions = {}): Promise<ModelResponse> {
    const { signal, onDelta } = options;
    if (signal?.aborted) throw abortedCall(this.id, signal);
    const client = await this.#connect();
    const params = this.#vendor.toParams(request, this.#settings);
    const streaming = this.#vendor.streaming;
    if (onDelta && streaming) return this.#stream(client, params, request, streaming, onDelta, signal);
    const { timeoutMs } = this.#settings;
    const { raw, status } = await sendForRawBody(
      (bounded) => this.#vendor.send(client, params, { signal: bounded, timeout: timeoutMs, maxRetries: 0 }),
      timeoutMs,
      signal,
      (error, call, readingBody) => this.#failure(error, call, signal, readingBody),
    );
    const provider = this.#vendor.provider;
    const unreadable = (problem: string) => unreadableResponse(provider, problem, raw, status);
    const body = parseJson(raw);
    if (!isRecord(body)) throw unreadable('the body is not a JSON object.');
    const response = this.#vendor.readResponse(body, request, unreadable);
    return { ...response, model: typeof body['model'] === 'string' ? body['model'] : this.model };
  }

  /**
   * One streamed call: deltas go to `onDelta` as they arrive, and the events are folded into the
   * whole body, read as a whole reply is. `timeoutMs` bounds the whole stream, as it bounds a body.
   */
  async #stream(
    client: Client,
    params: Params,
    request: ModelRequest,
    streaming: StreamingMapping<Sdk, Client, Params>,
    onDelta: (delta: ModelDelta) => void,
    signal: AbortSignal | undefined,
  ): Promise<ModelResponse> {
    const { timeoutMs } = this.#settings;
    const call = callSignal(timeoutMs, signal);
    const assembly = streaming.assemble(request, onDelta);
    try {
      let events: AsyncIterable<unknown>;
      try {
        events = await streaming.send(client, params, { signal: call.signal, timeout: timeoutMs, maxRetries: 0 });
      } catch (error) {
        throw this.#failure(error, call, signal, false);
      }
      try {
        for await (const event of events) assembly.add(event);
      } catch (error) {
        throw this.#failure(error, call, signal, true);
      }
      // The SDKs end the iteration quietly when the request is aborted: a deadline or the caller's signal.
      if (call.signal.aborted) throw this.#failure(call.signal.reason, call, signal, true);
    } finally {
      call.dispose();
    }
    const provider = this.#vendor.provider;
    const body = assembly.body();
    const unreadable = (problem: string) => unreadableResponse(provider, problem, JSON.stringify(body), 200);
    const missing = assembly.incomplete();
    if (missing) throw unreadable(missing);
    const response = this.#vendor.readResponse(body, request, unreadable);
    return { ...response, model: typeof body['model'] === 'string' ? body['model'] : this.model };
  }

  async #connect(): Promise<Client> {
    const vendor = this.#vendor;
    const apiKey = this.#settings.apiKey ?? vendor.fallbackKey?.(this.#settings);
    if (!apiKey) throw new ProviderAuthError(vendor.provider, this.#keyVariable, { details: { reason: 'missing' } });
    this.#sdk ??= await vendor.loadSdk();
    this.#client ??= vendor.createClient(this.#sdk, { ...this.#settings, apiKey });
    return this.#client;
  }

  #failure(error: unknown, call: CallSignal, signal: AbortSignal | undefined, readingBody: boolean): Error {
    if (signal?.aborted) return abortedCall(this.id, signal);
    const context: ProviderContext = {
      provider: this.#vendor.provider,
      keyVariable: this.#keyVariable,
      timeoutMs: this.#settings.timeoutMs,
      redact: this.#redact,
    };
    if (call.timedOut()) return toProviderError({ kind: 'timeout', cause: error }, context);
    const failure = this.#describe(error, readingBody);
    if (!failure) return error instanceof Error ? error : new Error(String(error));
    return toProviderError(failure, context);
  }

  /** The SDK's error as a `Failure`, so that `toProviderError` maps every vendor the same way. */
  #describe(error: unknown, readingBody: boolean): Failure | undefined {
    const { APIConnectionError, APIConnectionTimeoutError, APIError } = this.#sdk!;
    if (error instanceof APIConnectionTimeoutError) return { kind: 'timeout', cause: error };
    if (error instanceof APIConnectionError) return { kind: 'connection', detail: connectionDetail(error), cause: error };
    if (error instanceof APIError) {
      // `instanceof` narrows to the constraint's instance type; it is this SDK's own APIError.
      const vendorError = error as InstanceType<Sdk['APIError']>;
      const vendorMessage = this.#vendor.vendorMessage(vendorError);
      if (typeof error.status === 'number') return { kind: 'status', status: error.status, headers: error.headers, vendorMessage };
      // An error event in the middle of a stream: no status of its own, its type says what it stands for.
      const streaming = this.#vendor.streaming;
      if (readingBody && streaming) return { kind: 'status', status: streaming.errorStatus(vendorError), headers: error.headers, vendorMessage };
    }
    // The body stream broke after the headers came: the connection dropped.
    if (readingBody && error instanceof Error) return { kind: 'connection', detail: error.message, cause: error };
    return undefined;
  }
}

/** A provider's factory (what model strings use): retries by default, unless its options say `retry: false`. */
export function retryingFactory<Options extends ProviderOptions>(Model: new (options: Options) => ModelClient): (options: Options) => ModelClient {
  return (options) => new Model(options.retry === false ? options : { ...options, retry: options.retry ?? {} });
}

function connectionDetail(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = (cause?.cause as { code?: unknown } | undefined)?.code ?? (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${error.message} (${code})` : error.message;
}
