import type * as Pino from 'pino';
import type { DestinationStream, Level, Logger as PinoLogger } from 'pino';
import { createRequire } from 'node:module';
import type PinoPretty from 'pino-pretty';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import {
  isCredentialField,
  knownSecretRedactor,
  redactSecretsDeep,
  secretRedactor,
  redactedText,
  type Environment,
  type SecretRedactor,
} from './redact-secrets.js';
import { colourAllowed } from './terminal-colour.js';
import { selfScrubbingSink, type TraceEvent, type TraceSink } from './trace-event.js';

export type Logger = PinoLogger;
export type LogLevel = Level | 'silent';

export interface LoggerOptions {
  /** Lowest level written. Default: `TROUPE_LOG_LEVEL`, else `info`. */
  level?: LogLevel;
  /** `pretty` for people, `json` for machines. Default: pretty when the destination is a terminal. */
  format?: 'pretty' | 'json';
  /** Where lines go (default stdout). Tests pass a stream to read what was written. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /**
   * More field paths to redact, in pino's path syntax (`user.ssn`, `*.cookie`, `headers["x-token"]`).
   * Credential fields (`apiKey`, `authorization`, `password`, `token`…) are redacted at any depth
   * without being listed here.
   */
  redact?: readonly string[];
  /** Added to every line, e.g. `{ runId }`. */
  bindings?: Record<string, unknown>;
  /** Read for `TROUPE_LOG_LEVEL` and for secret values to scrub from messages (default `process.env`). */
  env?: Environment;
}

const levels: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * A pino logger: readable lines on a terminal, JSON lines otherwise. Before a line is written,
 * every string in it is scrubbed of secret values (env values, registered keys, key-shaped
 * strings): the message, and every field at any depth of a logged object, errors included (their
 * message, stack, causes and fields such as a provider's `rawBody`, which can echo a key); and
 * credential fields (`apiKey`, `headers.authorization`, `password`…, see isCredentialField) are
 * replaced whole at any depth.
 *
 * Both happen in one walk of what is logged, which copies only what it changes: a debug line of
 * a trace event costs a scan of its strings, not a copy and a pass per redaction path (pino's
 * path-based `redact`, which cost more than the rest of a logged agent run; it is used only for
 * the extra paths a caller gives).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const env = options.env ?? process.env;
  const level = options.level ?? levelFromEnv(env);
  const destination = options.destination ?? process.stdout;
  const isTerminal = (destination as { isTTY?: boolean }).isTTY === true;
  const format = options.format ?? (isTerminal ? 'pretty' : 'json');
  const scrub = secretRedactor(env);
  const { pino } = loadPino();
  const errorToJson = pino.stdSerializers.err as (error: Error) => object;
  const scrubDeep = <T>(value: T): T => redactSecretsDeep(value, scrub, { toPlainError: errorToJson, censorField: isCredentialField });
  const extraPaths = options.redact ?? [];

  const scrubField = (value: unknown): unknown =>
    typeof value === 'string' ? scrub(value) : value === null || typeof value !== 'object' ? value : scrubDeep(value);
  const stream: DestinationStream =
    format === 'pretty'
      ? loadPinoPretty()({ destination, colorize: colourAllowed(destination, env), sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
      : (destination as DestinationStream);

  const logger = pino(
    {
      level,
      base: options.bindings ? { ...options.bindings } : null,
      ...(extraPaths.length > 0 ? { redact: { paths: [...extraPaths], censor: redactedText } } : {}),
      // Errors are turned into scrubbed plain objects before pino sees them; the `err` serializer
      // then keeps them as they are (pino's own would retype a plain object as "Object").
      serializers: { err: (value: unknown) => (value instanceof Error ? scrubDeep(value) : value) },
      formatters: { bindings: (bindings) => scrubDeep(bindings) },
      hooks: {
        logMethod(args, method) {
          // In place: pino hands the hook its own array of arguments.
          for (let index = 0; index < args.length; index++) {
            const arg: unknown = args[index];
            if (typeof arg === 'string') args[index] = scrub(arg);
            // Built by traceToLogger from this logger's own scrubbing, field by field: not walked again.
            else if (arg instanceof ScrubbedTraceFields && arg[scrubbedBy] === scrubField) continue;
            // logger.error(err): keep pino's shape ({ err }, message taken from the error's).
            else if (index === 0 && arg instanceof Error) args[index] = { err: scrubDeep(arg) };
            else if (arg && typeof arg === 'object') args[index] = scrubDeep(arg);
          }
          method.apply(this, args);
        },
      },
    },
    stream,
  );
  traceFieldScrubbers.set(logger, { scrub: scrubField, coversKnownSecrets: coverageOf(scrub) });
  return logger;
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
  // The scrubbing of the logger that createLogger made (children share their parent's hook, but
  // are not in the map: their lines take the general path, a walk of the whole event).
  const scrubbing = traceFieldScrubbers.get(logger);
  const scrubField = scrubbing?.scrub;
  const sink: TraceSink = (event) => {
    try {
      const level = levelOf(event);
      // A debug event under an info logger costs one comparison, not a message and a copy.
      if (!logger.isLevelEnabled(level)) return;
      logger[level](scrubField ? traceFields(event, scrubField) : generalFields(event), describe(event));
    } catch {
      // Swallowed on purpose (see above).
    }
  };
  // Every value of every line is scrubbed here: a run need not scrub the events first as well.
  return scrubbing ? selfScrubbingSink(sink, scrubbing.coversKnownSecrets) : sink;
}

/** A scrubbing of one field's value: strings scrubbed, objects walked, numbers and booleans as they are. */
type FieldScrubber = (value: unknown) => unknown;

const traceFieldScrubbers = new WeakMap<Logger, { scrub: FieldScrubber; coversKnownSecrets: () => boolean }>();

/**
 * Whether `scrub` replaces every value the process redactor does: a logger given its own `env`
 * may know fewer secrets than `process.env` holds. Judged again only when either list changes
 * (each is the same array until a secret is registered or the environment is read again).
 */
function coverageOf(scrub: SecretRedactor): () => boolean {
  let mine: readonly string[] | undefined;
  let known: readonly string[] | undefined;
  let covered = false;
  return () => {
    const nowMine = scrub.values();
    const nowKnown = knownSecretRedactor().values();
    if (nowMine !== mine || nowKnown !== known) {
      const set = new Set(nowMine);
      covered = nowKnown.every((value) => set.has(value));
      mine = nowMine;
      known = nowKnown;
    }
    return covered;
  };
}

// Symbol-keyed, so pino does not write it (it walks fields with for…in, which skips symbols).
const scrubbedBy = Symbol('troupe.scrubbedBy');

/**
 * The fields of a trace event's line, each value already scrubbed by `[scrubbedBy]` (the logger's
 * hook lets an instance through only when that is its own scrubbing). A class rather than a mark on
 * a plain object, so that nothing a caller logs can pass for one.
 */
class ScrubbedTraceFields {
  [field: string]: unknown;
  readonly [scrubbedBy]: FieldScrubber;
  constructor(scrub: FieldScrubber) {
    this[scrubbedBy] = scrub;
  }
}

/**
 * The line's fields: `event` first, then the event's own fields but `type`, as generalFields
 * gives them. The events of every model and tool call (four per call, the bulk of a debug log)
 * are built field by field, every value scrubbed (numbers too, in case one is not): no copy of
 * the event, no walk of field names we wrote ourselves, the same hidden class for every line of a
 * kind. Fields these events do not declare are not written.
 */
function traceFields(event: TraceEvent, scrub: FieldScrubber): ScrubbedTraceFields {
  const out = new ScrubbedTraceFields(scrub);
  out['event'] = event.type;
  switch (event.type) {
    case 'model-call-start':
    case 'model-call-end':
    case 'tool-call-start':
    case 'tool-call-end':
      break;
    default:
      for (const key in event) if (key !== 'type' && Object.hasOwn(event, key)) out[scrub(key) as string] = scrub(event[key as keyof typeof event]);
      return out;
  }
  out['at'] = scrub(event.at);
  out['runId'] = scrub(event.runId);
  if (event.agent !== undefined) out['agent'] = scrub(event.agent);
  switch (event.type) {
    case 'model-call-start':
      out['model'] = scrub(event.model);
      out['turn'] = scrub(event.turn);
      break;
    case 'model-call-end':
      out['model'] = scrub(event.model);
      out['turn'] = scrub(event.turn);
      out['durationMs'] = scrub(event.durationMs);
      out['stopReason'] = scrub(event.stopReason);
      out['usage'] = scrub(event.usage);
      out['costUsd'] = scrub(event.costUsd);
      out['toolCalls'] = scrub(event.toolCalls);
      break;
    case 'tool-call-start':
      out['callId'] = scrub(event.callId);
      out['tool'] = scrub(event.tool);
      out['input'] = scrub(event.input);
      break;
    case 'tool-call-end':
      out['callId'] = scrub(event.callId);
      out['tool'] = scrub(event.tool);
      out['durationMs'] = scrub(event.durationMs);
      out['isError'] = scrub(event.isError);
      out['output'] = scrub(event.output);
      if (event.replayed !== undefined) out['replayed'] = scrub(event.replayed);
      break;
  }
  return out;
}

/** The line's fields for a logger createLogger did not make: the hook (if any) scrubs them. */
function generalFields(event: TraceEvent): Record<string, unknown> {
  // `event` first and `type` left out (pino skips undefined fields): the line reads as before,
  // without a rest-destructuring copy, which cost more than the spread.
  return { event: event.type, ...event, type: undefined };
}

/** The level an event is logged at (see traceToLogger). */
function levelOf(event: TraceEvent): Level {
  switch (event.type) {
    case 'model-call-start':
    case 'model-call-end':
    case 'tool-call-start':
    case 'speaker-select':
      return 'debug';
    case 'tool-call-end':
      return event.isError ? 'info' : 'debug';
    case 'delegation-end':
      return event.status === 'finished' ? 'debug' : 'warn';
    case 'agent-finish':
    case 'termination':
    case 'task-start':
    case 'delegation-start':
      return 'info';
    case 'task-end':
    case 'crew-end':
      return event.status === 'finished' ? 'info' : 'warn';
    case 'item-transition':
      return event.to === 'failed' ? 'warn' : 'info';
    case 'model-call-retry':
    case 'validation-failure':
      return 'warn';
    case 'model-call-error':
      return 'error';
    case 'model-text-delta':
    case 'model-tool-call-delta':
      // Many per call, and the whole text is in the transcript: logged only when asked for everything.
      return 'trace';
  }
}

/** The line's message: what happened, in words. */
function describe(event: TraceEvent): string {
  const who = event.agent ? `${event.agent}: ` : '';
  switch (event.type) {
    case 'model-call-start':
      return `${who}model call ${event.turn} to ${event.model}`;
    case 'model-call-end':
      return `${who}model call ${event.turn} done in ${event.durationMs} ms (${event.stopReason}, ${event.usage.inputTokens}+${event.usage.outputTokens} tokens, $${event.costUsd.toFixed(4)})`;
    case 'model-call-retry':
      return `${who}retrying ${event.model} (attempt ${event.attempt}) in ${event.delayMs} ms: ${event.message}`;
    case 'model-call-error':
      return `${who}${event.model} failed (${event.errorCode}): ${event.message}`;
    case 'tool-call-start':
      return `${who}tool ${event.tool} called`;
    case 'tool-call-end':
      return `${who}tool ${event.tool} ${event.isError ? 'failed' : 'done'} in ${event.durationMs} ms`;
    case 'validation-failure':
      return `${who}${event.target} of ${event.tool} did not validate (${event.issues.length} issue(s))`;
    case 'agent-finish':
      return `${who}finished`;
    case 'termination':
      return `${who}stopped by ${event.condition}: ${event.reason}`;
    case 'task-start':
      return `${event.crew}: task ${event.task} started${event.agent ? ` by ${event.agent}` : ''}`;
    case 'task-end':
      return `${event.crew}: task ${event.task} ${event.status} in ${event.durationMs} ms${event.reason ? `: ${event.reason}` : ''}`;
    case 'delegation-start':
      return `${event.crew}: ${who}delegated "${event.task.slice(0, 80)}" to ${event.member} (depth ${event.depth})`;
    case 'delegation-end':
      return `${event.crew}: delegation to ${event.member} ${event.status}${event.reason ? `: ${event.reason}` : ''}`;
    case 'speaker-select':
      return `${event.crew}: round ${event.round}, ${event.speaker} speaks (${event.method})`;
    case 'item-transition':
      return `${event.workflow}/${event.item}: ${event.from} → ${event.to}${event.policy ? ` [${event.policy}]` : ''}: ${event.why}`;
    case 'crew-end':
      return `${event.crew}: ${event.process} crew ${event.status} (${event.condition}): ${event.reason}`;
    case 'model-text-delta':
      return `${who}model call ${event.turn} streamed ${event.text.length} characters`;
    case 'model-tool-call-delta':
      return `${who}model call ${event.turn} began a call to ${event.tool}`;
  }
}

const require = createRequire(import.meta.url);

/**
 * pino (about 35 files with its dependencies) is loaded by the first createLogger, not by
 * `import 'troupe'`. It is CommonJS, so createLogger stays synchronous.
 */
function loadPino(): typeof Pino {
  return require('pino') as typeof Pino;
}

/** pino-pretty is loaded only when a logger prints for people: a program that never does skips its 30 files. */
function loadPinoPretty(): typeof PinoPretty {
  return require('pino-pretty') as typeof PinoPretty;
}
