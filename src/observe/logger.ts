import { pino, type DestinationStream, type Level, type Logger as PinoLogger } from 'pino';
import { createRequire } from 'node:module';
import type PinoPretty from 'pino-pretty';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { redactSecretsDeep, secretRedactor, redactedText, type Environment } from './redact-secrets.js';
import type { TraceEvent, TraceSink } from './trace-event.js';

export type Logger = PinoLogger;
export type LogLevel = Level | 'silent';

export interface LoggerOptions {
  /** Lowest level written. Default: `TROUPE_LOG_LEVEL`, else `info`. */
  level?: LogLevel;
  /** `pretty` for people, `json` for machines. Default: pretty when the destination is a terminal. */
  format?: 'pretty' | 'json';
  /** Where lines go (default stdout). Tests pass a stream to read what was written. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** More field paths to redact, in pino's path syntax (`user.ssn`, `*.cookie`, `headers["x-token"]`). */
  redact?: readonly string[];
  /** Added to every line, e.g. `{ runId }`. */
  bindings?: Record<string, unknown>;
  /** Read for `TROUPE_LOG_LEVEL` and for secret values to scrub from messages (default `process.env`). */
  env?: Environment;
}

const levels: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Field paths whose values are never written. pino matches paths exactly, with `*` standing for
 * one level, so each credential name is listed at the top level and one level down (`req.apiKey`,
 * `options.headers.authorization`). Deeper copies are not caught by path: do not log whole
 * client configurations.
 */
const credentialFields = [
  'apiKey',
  'api_key',
  'authorization',
  'password',
  'token',
  'accessToken',
  'access_token',
  'secret',
  'clientSecret',
  '["x-api-key"]',
  'ANTHROPIC_API_KEY',
  'OPENAI_API_KEY',
];
const credentialHeaders = ['authorization', 'Authorization', '["x-api-key"]', 'cookie'];

export const defaultRedactPaths: readonly string[] = [
  ...credentialFields.flatMap((field) => [field, `*.${field}`]),
  ...credentialHeaders.map((header) => (header.startsWith('[') ? `headers${header}` : `headers.${header}`)),
  ...credentialHeaders.map((header) => (header.startsWith('[') ? `*.headers${header}` : `*.headers.${header}`)),
  'env.ANTHROPIC_API_KEY',
  'env.OPENAI_API_KEY',
];

/**
 * A pino logger: readable lines on a terminal, JSON lines otherwise, credentials redacted by path,
 * and every string scrubbed of secret values (env values, registered keys, key-shaped strings):
 * the message, and every field at any depth of a logged object, errors included (their message,
 * stack, causes and fields such as a provider's `rawBody`, which can echo a key).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const env = options.env ?? process.env;
  const level = options.level ?? levelFromEnv(env);
  const destination = options.destination ?? process.stdout;
  const isTerminal = (destination as { isTTY?: boolean }).isTTY === true;
  const format = options.format ?? (isTerminal ? 'pretty' : 'json');
  const scrub = secretRedactor(env);
  const errorToJson = pino.stdSerializers.err as (error: Error) => object;
  const scrubDeep = <T>(value: T): T => redactSecretsDeep(value, scrub, errorToJson);

  const stream: DestinationStream =
    format === 'pretty'
      ? loadPinoPretty()({ destination, colorize: isTerminal, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
      : (destination as DestinationStream);

  return pino(
    {
      level,
      base: options.bindings ? { ...options.bindings } : null,
      redact: { paths: [...defaultRedactPaths, ...(options.redact ?? [])], censor: redactedText },
      // Errors are turned into scrubbed plain objects before pino sees them; the `err` serializer
      // then keeps them as they are (pino's own would retype a plain object as "Object").
      serializers: { err: (value: unknown) => (value instanceof Error ? scrubDeep(value) : value) },
      formatters: { bindings: (bindings) => scrubDeep(bindings) },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((arg, index) => {
            if (typeof arg === 'string') return scrub(arg);
            // logger.error(err): keep pino's shape ({ err }, message taken from the error's).
            if (index === 0 && arg instanceof Error) return { err: scrubDeep(arg) };
            return arg && typeof arg === 'object' ? scrubDeep(arg) : arg;
          });
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    stream,
  );
}

function levelFromEnv(env: Environment): LogLevel {
  const value = env['TROUPE_LOG_LEVEL']?.trim().toLowerCase();
  if (!value) return 'info';
  if ((levels as readonly string[]).includes(value)) return value as LogLevel;
  throw new ConfigurationError(`Unknown log level "${value}". Use one of: ${levels.join(', ')}.`, { field: 'TROUPE_LOG_LEVEL' });
}

/**
 * A trace sink that writes events to a logger: starts at debug, ends at debug (info for a failed
 * tool), finishes and terminations at info, retries and validation failures at warn, model call
 * errors at error. Never throws: a logging failure must not stop an agent.
 */
export function traceToLogger(logger: Logger): TraceSink {
  return (event) => {
    try {
      const [level, message] = describe(event);
      const { type, ...fields } = event;
      logger[level]({ event: type, ...fields }, message);
    } catch {
      // Swallowed on purpose (see above).
    }
  };
}

function describe(event: TraceEvent): [Level, string] {
  const who = event.agent ? `${event.agent}: ` : '';
  switch (event.type) {
    case 'model-call-start':
      return ['debug', `${who}model call ${event.turn} to ${event.model}`];
    case 'model-call-end':
      return [
        'debug',
        `${who}model call ${event.turn} done in ${event.durationMs} ms (${event.stopReason}, ${event.usage.inputTokens}+${event.usage.outputTokens} tokens, $${event.costUsd.toFixed(4)})`,
      ];
    case 'model-call-retry':
      return ['warn', `${who}retrying ${event.model} (attempt ${event.attempt}) in ${event.delayMs} ms: ${event.message}`];
    case 'model-call-error':
      return ['error', `${who}${event.model} failed (${event.errorCode}): ${event.message}`];
    case 'tool-call-start':
      return ['debug', `${who}tool ${event.tool} called`];
    case 'tool-call-end':
      return [event.isError ? 'info' : 'debug', `${who}tool ${event.tool} ${event.isError ? 'failed' : 'done'} in ${event.durationMs} ms`];
    case 'validation-failure':
      return ['warn', `${who}${event.target} of ${event.tool} did not validate (${event.issues.length} issue(s))`];
    case 'agent-finish':
      return ['info', `${who}finished`];
    case 'termination':
      return ['info', `${who}stopped by ${event.condition}: ${event.reason}`];
    case 'task-start':
      return ['info', `${event.crew}: task ${event.task} started${event.agent ? ` by ${event.agent}` : ''}`];
    case 'task-end':
      return [
        event.status === 'finished' ? 'info' : 'warn',
        `${event.crew}: task ${event.task} ${event.status} in ${event.durationMs} ms${event.reason ? `: ${event.reason}` : ''}`,
      ];
    case 'delegation-start':
      return ['info', `${event.crew}: ${who}delegated "${event.task.slice(0, 80)}" to ${event.member} (depth ${event.depth})`];
    case 'delegation-end':
      return [
        event.status === 'finished' ? 'debug' : 'warn',
        `${event.crew}: delegation to ${event.member} ${event.status}${event.reason ? `: ${event.reason}` : ''}`,
      ];
    case 'speaker-select':
      return ['debug', `${event.crew}: round ${event.round}, ${event.speaker} speaks (${event.method})`];
    case 'item-transition':
      return [
        event.to === 'failed' ? 'warn' : 'info',
        `${event.workflow}/${event.item}: ${event.from} → ${event.to}${event.policy ? ` [${event.policy}]` : ''}: ${event.why}`,
      ];
    case 'crew-end':
      return [event.status === 'finished' ? 'info' : 'warn', `${event.crew}: ${event.process} crew ${event.status} (${event.condition}): ${event.reason}`];
  }
}

const require = createRequire(import.meta.url);

/** pino-pretty is loaded only when a logger prints for people: a program that never does skips its 30 files. */
function loadPinoPretty(): typeof PinoPretty {
  return require('pino-pretty') as typeof PinoPretty;
}
